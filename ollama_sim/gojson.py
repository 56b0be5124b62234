"""Byte-exact JSON the way Ollama's Go server writes it.

Go's ``encoding/json`` differs from Python's in ways a byte-for-byte comparison notices: it escapes ``<``,
``>``, ``&``, U+2028 and U+2029 in strings (HTML-safe by default), writes integral floats without ``.0``,
switches to exponent notation only below 1e-6 or from 1e21, and keeps struct fields in declaration order
while sorting map keys. :func:`go_json` reproduces that for the simulator's bodies: pass dicts in struct
order, and pre-sort the ones that stand for Go maps.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

_encode_str = json.JSONEncoder(ensure_ascii=False).encode
_HTML_UNSAFE = re.compile("[<>&\u2028\u2029]")
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def go_str(text: str) -> str:
    """A JSON string literal as Go writes it: UTF-8, HTML characters escaped, lone surrogates as U+FFFD."""
    encoded: str = _encode_str(text)
    if _HTML_UNSAFE.search(encoded):
        encoded = _HTML_UNSAFE.sub(lambda match: _HTML_ESCAPES[match.group()], encoded)
    if _SURROGATE.search(encoded):
        encoded = _SURROGATE.sub("\ufffd", encoded)
    return encoded


@lru_cache(maxsize=4096)
def go_str_cached(text: str) -> str:
    """:func:`go_str` for strings that recur (model names, vocabulary), memoised."""
    return go_str(text)


def go_float(value: float) -> str:
    """Format a float like Go's ``strconv.FormatFloat(v, 'f' or 'e', -1, 64)`` inside ``encoding/json``."""
    if not math.isfinite(value):
        raise ValueError(f"Go's encoding/json cannot encode {value}")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    exponent = Decimal(text).adjusted()
    if -7 < exponent < 21:
        return format(Decimal(text), "f")
    return text  # Python's repr already uses Go's exponent form here: 1e-07, 1.25e+22


def go_json(value: Any) -> str:
    """Encode ``value`` compactly as Go would (dict order is kept: sort dicts that model Go maps)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return go_str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{go_str(str(key))}:{go_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    raise TypeError(f"go_json cannot encode {type(value).__name__}")


def go_json_bytes(value: Any) -> bytes:
    """:func:`go_json` as UTF-8 bytes, the form written to the wire."""
    return go_json(value).encode()


def go_sorted(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with keys sorted, which is how Go marshals a ``map[string]any``."""
    return {key: mapping[key] for key in sorted(mapping)}


def go_quote(text: str) -> str:
    """Go's ``%q`` for the plain strings the simulator quotes in error messages."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'
