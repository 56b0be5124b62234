"""The request as it goes upstream: kept in memory so that it can be sent again to another backend."""

from __future__ import annotations

from dataclasses import dataclass

from router.upstream.headers import request_head


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One client request, ready to be written to any backend.

    Attributes:
        method: the HTTP method.
        target: path and query, as the client encoded them.
        body: the request body (in memory, so it can be sent again).
        client_headers: the client's headers (only the end-to-end ones are forwarded).
        request_id: the request's ``X-Request-Id``, sent upstream too.
        model: the routed model's label, for logs about this request.
        model_fallback: a 404 "model not found" may be retried on the route's next backend.
    """

    method: str
    target: bytes
    body: bytes
    client_headers: list[tuple[bytes, bytes]]
    request_id: bytes
    model: str = ""
    model_fallback: bool = False

    def message(self, host_header: bytes, authorization: bytes | None = None) -> bytes:
        """Head and body as one write to a backend whose ``Host`` is ``host_header`` (and its own credential)."""
        head = request_head(
            self.method,
            self.target,
            host_header,
            self.client_headers,
            request_id=self.request_id,
            content_length=len(self.body),
            authorization=authorization,
        )
        return head + self.body

    @property
    def head_only(self) -> bool:
        """A HEAD request's response has no body, whatever its headers say."""
        return self.method == "HEAD"
