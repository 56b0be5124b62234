"""Request bodies decoded the way gin's ``ShouldBindJSON`` does, with Go's error texts.

Ollama's handlers (https://github.com/ollama/ollama/blob/main/server/routes.go): an empty body is 400
``missing request body`` (Go's ``io.EOF``) and bad JSON is 400 with the Go JSON decoder's message. gin reads
one JSON value and ignores what follows it; ``null`` decodes to the zero struct; a value of the wrong JSON
kind gives ``json: cannot unmarshal <kind> into Go ...``. :func:`decode_body` reproduces the common cases and
raises :class:`BodyError` with Go's wording. Keys match struct fields as Go matches them: case-insensitively
under Go's folding (ASCII case, U+212A KELVIN SIGN as ``K``, U+017F LONG S as ``S``;
https://github.com/golang/go/blob/master/src/encoding/json/fold.go), the last matching key winning. Every
field of Ollama's request structs has a lower-case tag, so top-level keys are folded to lower case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EOF = "EOF"
"""Go's ``io.EOF`` text: what gin reports for an empty body (native handlers turn it into ``missing request body``)."""

_WHITESPACE = " \t\n\r"


class BodyError(ValueError):
    """The body is not what the Go struct accepts; ``message`` is Go's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def is_eof(self) -> bool:
        """True for an empty body, which native handlers answer with ``missing request body``."""
        return self.message == EOF


@dataclass(frozen=True, slots=True)
class GoStruct:
    """The Go request type a body decodes into: its name and the JSON kinds of the fields we check.

    Attributes:
        name: qualified type name as Go prints it, e.g. ``api.ChatRequest``.
        fields: JSON field name → (Go type as printed, accepted Python types after ``json.loads``).
    """

    name: str
    fields: Mapping[str, tuple[str, tuple[type, ...]]]


STRING = ("string", (str,))
BOOL = ("bool", (bool,))
MAP = ("map[string]interface {}", (dict,))


def _reject_constant(name: str) -> Any:
    raise BodyError(f"invalid character '{name[0]}' looking for beginning of value")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def json_kind(value: Any) -> str:
    """How Go names the JSON kind of ``value`` in unmarshal errors: number, string, bool, array, object."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_char(char: str) -> str:
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    if char.isprintable():
        return f"'{char}'"
    return "'" + json.dumps(char)[1:-1] + "'"


def _innermost_container(text: str, pos: int) -> str:
    """'{' or '[' enclosing ``pos`` (strings skipped), to pick Go's wording for a missing comma."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text[:pos]:
        if in_string:
            escaped = not escaped and char == "\\"
            in_string = escaped or char != '"'
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else "{"


def _syntax_message(error: json.JSONDecodeError) -> str:
    text, pos = error.doc, error.pos
    if pos >= len(text) or error.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    char = _go_char(text[pos])
    if error.msg.startswith("Expecting property name"):
        return f"invalid character {char} looking for beginning of object key string"
    if error.msg.startswith("Expecting ':'"):
        return f"invalid character {char} after object key"
    if error.msg.startswith("Expecting ','"):
        after = "object key:value pair" if _innermost_container(text, pos) == "{" else "array element"
        return f"invalid character {char} after {after}"
    if error.msg.startswith("Invalid control character"):
        return f"invalid character {char} in string literal"
    if error.msg.startswith("Invalid \\escape"):
        return f"invalid character {_go_char(text[pos + 1 : pos + 2] or ' ')} in string escape code"
    return f"invalid character {char} looking for beginning of value"


def _check_fields(struct: GoStruct, body: dict[str, Any]) -> None:
    short = struct.name.rpartition(".")[2]
    for field, (go_type, accepted) in struct.fields.items():
        value = body.get(field)
        if value is None:
            continue
        if isinstance(value, accepted) and (bool in accepted or not isinstance(value, bool)):
            continue
        raise BodyError(
            f"json: cannot unmarshal {json_kind(value)} into Go struct field {short}.{field} of type {go_type}"
        )


_SPECIAL_FOLDS = str.maketrans({"\u212a": "k", "\u017f": "s"})


def go_field_keys(value: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys as the lower-case field each one fills in Go; later spellings win, as in Go."""
    if all(key.isascii() and key == key.lower() for key in value):
        return value
    folded: dict[str, Any] = {}
    for key, item in value.items():
        name = key.translate(_SPECIAL_FOLDS)
        name = name.lower() if name.isascii() else key
        folded.pop(name, None)
        folded[name] = item
    return folded


def decode_body(body: bytes, struct: GoStruct) -> dict[str, Any]:
    """Decode ``body`` into a dict as gin would into ``struct``, or raise :class:`BodyError`."""
    text = body.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if start == len(text):
        raise BodyError(EOF)
    try:
        value, _ = _decoder.raw_decode(text, start)
    except json.JSONDecodeError as error:
        raise BodyError(_syntax_message(error)) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BodyError(f"json: cannot unmarshal {json_kind(value)} into Go value of type {struct.name}")
    value = go_field_keys(value)
    _check_fields(struct, value)
    return value
