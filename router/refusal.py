"""One refusal type for every answer the router gives instead of forwarding: status, message, headers.

Like starlette's ``HTTPException`` (https://www.starlette.io/exceptions/): whoever decides that a request
is refused raises (or returns) a :class:`Refusal`; the endpoint that catches it writes the error in the
path's shape. Every room may import this module; it imports nothing of the router.
"""

from __future__ import annotations

from collections.abc import Sequence


class Refusal(Exception):
    """A request answered with an error by the router itself; ``headers`` go out with the error body."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)
