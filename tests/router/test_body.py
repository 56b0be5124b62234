"""Request bodies: the size limit, and JSON refusals worded like Go's encoding/json."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from router.edge.body import ClientGone, Refused, decode_object, model_field, read_body
from router.edge.gofields import GoFields


def _receiver(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


def test_bodies_are_joined_from_parts() -> None:
    receive = _receiver(
        {"type": "http.request", "body": b'{"a"', "more_body": True},
        {"type": "http.request", "body": b":1}", "more_body": False},
    )
    assert asyncio.run(read_body(receive, 100, None)) == b'{"a":1}'


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(Refused) as caught:
        asyncio.run(read_body(_receiver(), 10, b"11"))
    assert caught.value.status == 413


def test_an_undeclared_body_over_the_limit_is_refused() -> None:
    receive = _receiver(
        {"type": "http.request", "body": b"x" * 8, "more_body": True},
        {"type": "http.request", "body": b"x" * 8, "more_body": False},
    )
    with pytest.raises(Refused) as caught:
        asyncio.run(read_body(receive, 10, None))
    assert caught.value.status == 413


def test_a_disconnect_while_reading_is_reported() -> None:
    with pytest.raises(ClientGone):
        asyncio.run(read_body(_receiver({"type": "http.disconnect"}), 10, None))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "missing request body"),
        (b"  \n", "missing request body"),
        (b'{"model": "x"', "unexpected EOF"),
        (b"{model}", "invalid character 'm' looking for beginning of object key string"),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b"{} x", "invalid character 'x' after top-level value"),
        (b"[1, 2]", "json: cannot unmarshal array into Go value of type api.ChatRequest"),
        (b'"text"', "json: cannot unmarshal string into Go value of type api.ChatRequest"),
        (b"\xff\xfe{", "invalid character in request body: not UTF-8"),
    ],
)
def test_bad_json_is_refused_with_gos_wording(body: bytes, message: str) -> None:
    with pytest.raises(Refused) as caught:
        decode_object(body, "ChatRequest")
    assert (caught.value.status, caught.value.message) == (400, message)


def test_null_decodes_to_an_empty_request() -> None:
    assert decode_object(b"null", "ChatRequest") == {}


def test_model_then_legacy_name() -> None:
    fields = ("model", "name")
    assert model_field(GoFields({"model": "a", "name": "b"}, fields), fields, "ShowRequest") == ("a", "model")
    assert model_field(GoFields({"model": "", "name": "b"}, fields), fields, "ShowRequest") == ("b", "name")
    assert model_field(GoFields({}, fields), fields, "ShowRequest") == ("", "model")
    with pytest.raises(Refused, match=r"cannot unmarshal number into Go struct field ShowRequest.model of type string"):
        model_field(GoFields({"model": 3}, fields), fields, "ShowRequest")
