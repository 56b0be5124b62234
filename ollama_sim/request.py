"""One parsed HTTP request as the simulator's handlers see it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(slots=True)
class Request:
    """An HTTP/1.x request, complete with its body.

    Attributes:
        method: ``GET``, ``POST``, ...
        target: the request target's path exactly as sent (percent-encoding kept).
        query: the query string without ``?``.
        headers: lower-cased names; a repeated header keeps its last value.
        body: the raw body.
        keep_alive: whether the connection stays open after the response (HTTP/1.1 default).
        http10: the request was HTTP/1.0 (no chunked encoding in the answer).
    """

    method: str
    target: str
    query: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool = True
    http10: bool = False

    @property
    def path(self) -> str:
        """The decoded path that routes match on, like gin's ``r.URL.Path``."""
        return unquote(self.target) if "%" in self.target else self.target

    @property
    def is_head(self) -> bool:
        """HEAD: the response carries the GET headers and no body."""
        return self.method == "HEAD"
