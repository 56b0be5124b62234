"""What the router knows about one request while serving it.

The gate builds a :class:`RequestContext` from the ASGI scope in one pass over the headers; handlers fill
in what they learn (model, backend, status) and the gate logs and counts it when the request ends.
Headers every response must carry (``X-Request-Id``, CORS) are kept here and added by whoever sends the
response start, so no middleware has to wrap ``send`` and touch every streamed chunk.

A header the router decides on (``Authorization``, ``x-api-key``, ``Origin``, ``Host``, ``X-Fleet-Backend``)
sent twice makes the request ambiguous: which copy a proxy or a server reads differs between
implementations, so the gate refuses such a request with 400 rather than pick one.
"""

from __future__ import annotations

import os
import re
import time

from starlette.types import Scope

_GOOD_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")

ANTHROPIC_PATH = "/v1/messages"
"""Anthropic's Messages API as Ollama serves it: errors in Anthropic's shape, keys also in ``x-api-key``."""


class _RequestIds:
    """16 hex digits: a random per-process prefix (8) and a counter (8), so no ``os.urandom`` per request.

    Unique within a process (a fresh prefix when the counter wraps, and after a fork) and, the prefix being
    random, across processes as ids made by ``os.urandom`` were.
    """

    __slots__ = ("_count", "_prefix")

    def __init__(self) -> None:
        self._prefix = b""
        self._count = 0
        self.reseed()

    def reseed(self) -> None:
        self._prefix = os.urandom(4).hex().encode("ascii")
        self._count = int.from_bytes(os.urandom(4), "big")

    def next(self) -> bytes:
        count = self._count
        if count > 0xFFFFFFFF:
            self.reseed()
            count = self._count
        self._count = count + 1
        return b"%s%08x" % (self._prefix, count)


_ids = _RequestIds()
os.register_at_fork(after_in_child=_ids.reseed)


def _new_request_id() -> bytes:
    return _ids.next()


class RequestContext:
    """One request: its identity, the headers the router acts on, and what happened to it."""

    __slots__ = (
        "ambiguous",
        "anthropic",
        "api_key",
        "authorization",
        "backend",
        "content_length",
        "endpoint",
        "fleet_backend",
        "host",
        "method",
        "model",
        "openai",
        "origin",
        "path",
        "preflight",
        "request_headers",
        "request_id",
        "response_headers",
        "started",
        "status",
    )

    def __init__(self, scope: Scope) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.openai = self.path.startswith("/v1/")
        self.anthropic = self.path == ANTHROPIC_PATH
        self.started = time.perf_counter()
        self.status = 0
        self.endpoint = "other"
        self.model = ""
        self.backend = ""
        self.request_headers: list[tuple[bytes, bytes]] = scope["headers"]
        self.authorization: bytes | None = None
        self.origin: bytes | None = None
        self.host: bytes | None = None
        self.fleet_backend: bytes | None = None
        self.content_length: bytes | None = None
        self.api_key: bytes | None = None
        self.preflight = False
        self.ambiguous: bytes | None = None
        request_id: bytes | None = None
        for name, value in self.request_headers:
            if name == b"authorization":
                self._twice(name, self.authorization)
                self.authorization = value
            elif name == b"origin":
                self._twice(name, self.origin)
                self.origin = value
            elif name == b"host":
                self._twice(name, self.host)
                self.host = value
            elif name == b"content-length":
                self.content_length = value
            elif name == b"x-api-key":
                self._twice(name, self.api_key)
                self.api_key = value
            elif name == b"x-fleet-backend":
                self._twice(name, self.fleet_backend)
                self.fleet_backend = value.strip()
            elif name == b"x-request-id":
                request_id = value.strip()
            elif name == b"access-control-request-method":
                self.preflight = self.method == "OPTIONS"
        if request_id is None or _GOOD_ID.fullmatch(request_id) is None:
            request_id = _new_request_id()
        self.request_id = request_id.decode("ascii")
        self.response_headers: list[tuple[bytes, bytes]] = [(b"x-request-id", request_id)]

    def _twice(self, name: bytes, earlier: bytes | None) -> None:
        if earlier is not None:
            self.ambiguous = name

    @property
    def request_id_bytes(self) -> bytes:
        """The request id as sent in headers."""
        return self.response_headers[0][1]

    @property
    def responded(self) -> bool:
        """Whether the response start has been sent."""
        return self.status != 0
