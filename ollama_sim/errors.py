"""Ollama's two error shapes, and the exception handlers raise to produce them.

Native routes answer ``{"error": "..."}`` (https://github.com/ollama/ollama/blob/main/docs/api/errors.mdx).
The ``/v1`` routes answer OpenAI's ``{"error":{"message","type","param":null,"code":null}}`` with ``type``
chosen by status (``openai.NewError``). Two writers produce the OpenAI shape in Ollama, and they differ on
the wire: the middleware's own refusals go through gin (``application/json; charset=utf-8``, no newline),
while errors from the native handler are re-encoded by the OpenAI writer (``application/json`` plus a
newline).
"""

from __future__ import annotations

from http import HTTPStatus

from ollama_sim.gojson import go_json_bytes
from ollama_sim.wire import JSON, PLAIN_JSON, Fixed

MAX_QUEUE = "server busy, please try again.  maximum pending requests exceeded"
"""Ollama's ``ErrMaxQueue`` text, sent with 503."""


class ApiError(Exception):
    """A refusal with Ollama's status and message; routes render it in their own shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def native_error(status: int, message: str) -> Fixed:
    """``{"error": message}`` as gin's ``c.JSON`` writes it."""
    return Fixed(status, JSON, go_json_bytes({"error": message}))


def openai_type(status: int) -> str:
    """OpenAI error ``type`` for a status, as ``openai.NewError`` picks it."""
    if status == 400:
        return "invalid_request_error"
    if status == 404:
        return "not_found_error"
    return "api_error"


def _openai_body(status: int, message: str) -> dict[str, object]:
    return {"error": {"message": message, "type": openai_type(status), "param": None, "code": None}}


def openai_refusal(status: int, message: str) -> Fixed:
    """An error the OpenAI middleware raises itself (bad body, empty messages): gin's JSON, no newline."""
    return Fixed(status, JSON, go_json_bytes(_openai_body(status, message)))


def openai_error(status: int, message: str) -> Fixed:
    """A native handler's error re-encoded by the OpenAI writer: ``application/json`` plus a newline."""
    return Fixed(status, PLAIN_JSON, go_json_bytes(_openai_body(status, message)) + b"\n")


def fault_message(status: int) -> str:
    """The message an injected ``Faults.status`` carries: Ollama's own where it has one."""
    if status == 503:
        return MAX_QUEUE
    if status == 499:
        return "request canceled"
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"status code {status}"
