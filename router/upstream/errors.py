"""What can go wrong talking to a backend, arranged by the answer each failure becomes.

::

    UpstreamError                 any failure on the way to or from a backend
    ├── UpstreamConnectError      no connection: refused, unresolvable, reset while connecting  → 502
    │   └── UpstreamTlsError      the TLS handshake failed: an unverified certificate, a wrong name  → 502
    ├── UpstreamTimeout           a deadline passed                                              → 504
    │   ├── ConnectTimeout        opening the connection
    │   ├── FirstByteTimeout      waiting for the response head (a cold model load is slow)
    │   └── IdleTimeout           silence between two chunks of the response
    └── UpstreamProtocolError     the backend broke HTTP/1.1 or closed before the response ended → 502

Catch :class:`UpstreamError` to handle them all; ``status`` is the HTTP status the client is given when
the failure happens before the first response byte, ``reason`` its metrics label. Messages name the
phase, never internal details.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A failure talking to a backend; ``status`` is what the client sees before any byte was sent."""

    status = 502
    reason = "unreachable"


class UpstreamConnectError(UpstreamError):
    """The TCP connection could not be made."""


class UpstreamTlsError(UpstreamConnectError):
    """The TLS handshake failed (the server's certificate is not trusted, or not for its name)."""


class UpstreamTimeout(UpstreamError):
    """A deadline passed; the subclass says which one, ``phase`` words it."""

    status = 504
    reason = "timeout"
    phase = "answer"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no {self.phase} within {seconds:g} s")


class ConnectTimeout(UpstreamTimeout):
    """The connection was not open in time."""

    phase = "connect"


class FirstByteTimeout(UpstreamTimeout):
    """The response head did not come in time."""

    phase = "first byte"


class IdleTimeout(UpstreamTimeout):
    """The response went silent for too long between two chunks."""

    phase = "idle"


class UpstreamProtocolError(UpstreamError):
    """The backend sent something that is not HTTP/1.1, or closed the connection mid-response."""
