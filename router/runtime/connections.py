"""Client connections under a deadline and a cap: slow or idle clients cannot hold the router's sockets.

uvicorn reads a request head for as long as the client takes, and a connection that sends nothing at all
is never timed out (its keep-alive timer only starts after a first answer), so ~20 000 silent connections
exhaust the file descriptors and even ``/healthz`` is refused. :class:`GuardedProtocol`, uvicorn's httptools
protocol with three additions, closes that door:

- a **head deadline** (``FLEET_HEAD_TIMEOUT``): a new connection, or a kept-alive one that has started a
  new request, must complete the request line and headers within it, or it is closed;
- a **body deadline** (``FLEET_BODY_TIMEOUT``): the whole body must arrive within it after the head, or
  the connection is closed (the handler sees a disconnect). Blob uploads (``/api/blobs/``, admin only,
  gigabytes) are exempt while they are being relayed; once the router has answered (a refusal without
  an admin key comes at once), whatever body is still coming must arrive within the deadline too;
- a **connection cap** (``FLEET_MAX_CONNECTIONS``): a connection over it gets ``503`` with
  ``Connection: close`` at once and is closed, while the connections already open, streams included,
  go on.

Timers are armed only when needed: a request whose head (and body) arrive in one read, the common case,
arms none. An idle kept-alive connection is governed by ``FLEET_KEEPALIVE`` as before.
:func:`fit_open_files` raises the soft ``RLIMIT_NOFILE`` so that the cap can actually be reached.
"""

from __future__ import annotations

import asyncio
import json
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from router.runtime.settings import RouterSettings, SettingsError

_IDLE, _HEAD, _BODY = 0, 1, 2
_BLOBS = b"/api/blobs/"
_FULL_MESSAGE = "the router is at its connection limit (FLEET_MAX_CONNECTIONS); retry shortly"
_FULL_BODY = json.dumps({"error": _FULL_MESSAGE}, separators=(",", ":")).encode()
FULL_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n"
    b"content-length: %d\r\nretry-after: 1\r\nconnection: close\r\n\r\n%s" % (len(_FULL_BODY), _FULL_BODY)
)
"""What a connection over the cap gets before it is closed."""

FILES_PER_CONNECTION = 2
SPARE_FILES = 256
"""Each client connection may hold a backend connection too; the rest covers listeners, DNS, logs."""


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head deadline, a body deadline and a connection cap."""

    head_timeout = 10.0
    body_timeout = 60.0
    max_connections = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _IDLE
        self._deadline: asyncio.TimerHandle | None = None
        self._target = b""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse a connection over the cap at once; otherwise start the head deadline."""
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(FULL_RESPONSE)
            transport.close()
            return
        self._phase = _HEAD
        self._arm(self.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; arm the deadline of whatever is still incomplete after this read."""
        if self._phase == _IDLE:
            self._phase = _HEAD
        super().data_received(data)
        if self._phase != _IDLE and self._deadline is None and not self.transport.is_closing():
            if self._phase == _HEAD:
                self._arm(self.head_timeout)
            elif not self._target.startswith(_BLOBS):
                self._arm(self.body_timeout)

    def on_message_begin(self) -> None:
        """A request starts (maybe right behind the previous one, in the same read): the head clock runs."""
        super().on_message_begin()
        self._phase = _HEAD

    def on_url(self, url: bytes) -> None:
        """Note the target (to exempt blob uploads from the body deadline)."""
        super().on_url(url)
        self._target = self.url

    def on_headers_complete(self) -> None:
        """The head is in: its deadline is over; the body's begins with the next read."""
        self._disarm()
        self._phase = _BODY
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is in: no deadline until the client starts another."""
        self._disarm()
        self._phase = _IDLE
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """Answered before the body is in (a refusal): the rest of the body is on the clock, blob or not."""
        if self._phase == _BODY and self._deadline is None:
            self._arm(self.body_timeout)
        super().on_response_complete()

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(settings: RouterSettings) -> type[GuardedProtocol]:
    """The protocol class with the deadlines and cap ``settings`` give."""
    attributes = {
        "head_timeout": settings.head_timeout,
        "body_timeout": settings.body_timeout,
        "max_connections": settings.max_connections,
    }
    return type("FleetProtocol", (GuardedProtocol,), attributes)


def fit_open_files(max_connections: int) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to fit ``max_connections``; refuse when the hard limit cannot.

    Returns the soft limit now in force.
    """
    needed = max_connections * FILES_PER_CONNECTION + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SettingsError(
            f"FLEET_MAX_CONNECTIONS: {max_connections} connections need {needed} open files "
            f"({FILES_PER_CONNECTION} per connection + {SPARE_FILES}), but the hard RLIMIT_NOFILE is {hard}; "
            f"lower FLEET_MAX_CONNECTIONS to at most {max(0, (hard - SPARE_FILES) // FILES_PER_CONNECTION)} "
            "or raise the hard limit (ulimit -Hn, or the container runtime's nofile limit)"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed
