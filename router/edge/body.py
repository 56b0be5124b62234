"""Reading a request body and finding the model in it, refusing bad input the way Ollama does.

The body is read whole (request bodies are small JSON documents; blob uploads never come here), bounded
by ``FLEET_MAX_BODY_BYTES``: a declared ``Content-Length`` over the limit is refused before a byte is
read. It is decoded once with :func:`json.loads`; the bytes are forwarded untouched unless an alias must
be rewritten. Decoding errors are worded like Go's ``encoding/json`` because that is what Ollama answers,
including the two a hostile body can provoke in Python alone: nesting deeper than the C decoder's
recursion allows, and an integer past Python's 4300-digit conversion limit. Both are a 400 like any other
invalid JSON, never a 500. Routing fields are read the way Go reads them (:mod:`router.edge.gofields`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Receive

from router.edge.gofields import GoFields
from router.refusal import Refusal


class Refused(Refusal):
    """The request is answered with an error before any backend is involved."""


class ClientGone(Exception):
    """The client disconnected while the router was reading its request."""


async def read_body(receive: Receive, limit: int, content_length: bytes | None) -> bytes:
    """The whole request body, or :class:`Refused` (413) past ``limit`` bytes."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise Refused(413, f"request body too large: {int(content_length)} bytes, the limit is {limit}")
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"request body too large: more than {limit} bytes, the limit is {limit}")
            parts.append(chunk)
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


_GO_CONTEXT = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Extra data": "after top-level value",
}
"""Python's JSON error messages → the context Go's ``encoding/json`` names in its own."""


def _go_syntax_error(error: json.JSONDecodeError) -> str:
    """A JSON syntax error as Go words it: ``unexpected EOF`` or ``invalid character 'x' <context>``."""
    if error.pos >= len(error.doc.rstrip()):
        return "unexpected EOF"
    context = _GO_CONTEXT.get(error.msg, "looking for beginning of value")
    return f"invalid character {error.doc[error.pos]!r} {context}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def decode_object(body: bytes, go_type: str) -> dict[str, Any]:
    """The body as a JSON object; Ollama's 400 for an empty body, bad JSON or a non-object."""
    if not body.strip():
        raise Refused(400, "missing request body")
    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        raise Refused(400, "invalid character in request body: not UTF-8") from None
    except json.JSONDecodeError as error:
        raise Refused(400, _go_syntax_error(error)) from None
    except RecursionError:
        # Go's decoder stops at 10000 levels with this message (scanner.go, maxNestingDepth).
        raise Refused(400, "invalid character '[' exceeded max depth") from None
    except ValueError:
        # An integer literal too long for Python's int conversion; Go cannot hold it in a number either.
        raise Refused(
            400, "json: cannot unmarshal number into Go value of type float64: the number is too long"
        ) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise Refused(400, f"json: cannot unmarshal {_json_kind(document)} into Go value of type api.{go_type}")
    return document


def model_field(document: GoFields, fields: tuple[str, ...], go_type: str) -> tuple[str, str]:
    """The first non-empty of ``fields`` (``model``, then legacy ``name``) and its key; ``""`` if none."""
    for name in fields:
        value = document.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Refused(
                400,
                f"json: cannot unmarshal {_json_kind(value)} into Go struct field {go_type}.{name} of type string",
            )
        if value.strip():
            return value, document.key(name)
    return "", document.key(fields[0])
