"""What can go wrong talking to a backend, arranged by the answer each failure becomes.

::

    UpstreamError                 any failure on the way to or from a backend
    ├── UpstreamConnectError      no connection: refused, unresolvable, reset while connecting  → 502
    ├── UpstreamTimeout           a deadline passed (connect, first byte, idle between chunks)   → 504
    └── UpstreamProtocolError     the backend broke HTTP/1.1 or closed before the response ended → 502

Catch :class:`UpstreamError` to handle them all; ``status`` is the HTTP status the client is given when
the failure happens before the first response byte. Messages name the phase, never internal details.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A failure talking to a backend; ``status`` is what the client sees before any byte was sent."""

    status = 502


class UpstreamConnectError(UpstreamError):
    """The TCP connection could not be made."""


class UpstreamTimeout(UpstreamError):
    """A deadline passed; ``phase`` says which one (``connect``, ``first byte`` or ``idle``)."""

    status = 504

    def __init__(self, phase: str, seconds: float) -> None:
        self.phase = phase
        self.seconds = seconds
        super().__init__(f"no {phase} within {seconds:g} s")


class UpstreamProtocolError(UpstreamError):
    """The backend sent something that is not HTTP/1.1, or closed the connection mid-response."""
