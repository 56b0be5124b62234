"""Stream formats and their final error line; what counts as an unload request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.edge.gofields import GoFields
from router.endpoints.by_model import is_unload, is_zero_duration
from router.endpoints.relay import NDJSON, SSE, final_error_line, stream_format


def test_stream_formats_come_from_the_content_type() -> None:
    assert stream_format(b"application/x-ndjson") == NDJSON
    assert stream_format(b"text/event-stream; charset=utf-8") == SSE
    assert stream_format(b"application/json; charset=utf-8") is None
    assert stream_format(None) is None


@pytest.mark.parametrize(("tail", "prefix"), [(b"", b""), (b'{"a":1}\n', b""), (b'{"a":', b"\n")])
def test_ndjson_final_line(tail: bytes, prefix: bytes) -> None:
    line = final_error_line(NDJSON, tail, "boom")
    assert line == prefix + b'{"error":"boom"}\n'


@pytest.mark.parametrize(("tail", "prefix"), [(b"data: x\n\n", b""), (b"data: x\n", b"\n"), (b"data: x", b"\n\n")])
def test_sse_final_event(tail: bytes, prefix: bytes) -> None:
    line = final_error_line(SSE, tail, "boom")
    assert line.startswith(prefix + b"data: ") and line.endswith(b"\n\n")
    event = json.loads(line[len(prefix) + len(b"data: ") :])
    assert event == {"error": {"message": "boom", "type": "api_error", "param": None, "code": None}}
    assert b"[DONE]" not in line


@pytest.mark.parametrize("value", [0, 0.0, "0", "0s", "0m", "0h0m0s", "0.0s", "-0"])
def test_zero_durations(value: Any) -> None:
    assert is_zero_duration(value)


@pytest.mark.parametrize("value", [None, False, 1, "5m", "1s", "-1", "", "zero"])
def test_non_zero_durations(value: Any) -> None:
    assert not is_zero_duration(value)


def test_unload_needs_zero_keep_alive_and_nothing_to_answer() -> None:
    assert is_unload(GoFields({"model": "m", "keep_alive": 0, "prompt": ""}, ("keep_alive", "prompt")), "prompt")
    assert is_unload(GoFields({"model": "m", "keep_alive": "0"}, ("keep_alive", "prompt")), "prompt")
    assert is_unload(GoFields({"model": "m", "keep_alive": 0, "messages": []}, ("keep_alive", "messages")), "messages")
    assert not is_unload(GoFields({"model": "m", "keep_alive": 0, "prompt": "hi"}, ("keep_alive", "prompt")), "prompt")
    assert not is_unload(GoFields({"model": "m", "prompt": ""}, ("keep_alive", "prompt")), "prompt")
