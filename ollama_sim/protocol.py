"""One client connection: httptools parsing, keep-alive, pipelining, and the faults on each request.

Requests on a connection are answered in order (pipelined ones wait in a queue). A :class:`Fixed` answer is
one write; a :class:`Stream` goes to a :class:`StreamWriter`, which writes it a line at a time. Reading
continues while streaming, so a client that closes early is seen at once: the stream stops and counts as
a disconnect. :class:`Faults` are read when each request starts (``hang``, ``first_byte_delay``,
``fail_after_lines``); ``status`` is applied by the route table. With a scheduler, a request that runs a
model first waits for its ticket (:mod:`ollama_sim.scheduler`), holds it while it is answered, and gives it
back when the answer ends or the client leaves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import cast

import httptools

from ollama_sim.config import Faults
from ollama_sim.errors import native_error
from ollama_sim.observe import Observations, ObservedRequest
from ollama_sim.request import Request
from ollama_sim.routes import App
from ollama_sim.scheduler import Ticket
from ollama_sim.streaming import StreamWriter
from ollama_sim.wire import Fixed, Response, Stream, fixed_head, stream_head

log = logging.getLogger(__name__)

BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(slots=True)
class Context:
    """What every connection of one simulator shares."""

    app: App
    faults: Faults
    observed: Observations
    interval: float
    record: bool
    connections: set[Connection]

    def observe(self, request: Request) -> None:
        """Log ``request`` in :class:`Observations` (unless recording is off)."""
        if self.record:
            entry = ObservedRequest(request.method, request.target, request.headers, request.body, request.query)
            self.observed.requests.append(entry)


def _origin_form(target: str) -> str:
    """``http://host/path`` (absolute form, as proxies send it) reduced to ``/path``."""
    if target.startswith("/") or "://" not in target:
        return target
    rest = target.partition("://")[2]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


class Connection(asyncio.Protocol):
    """An HTTP/1.1 server connection speaking like Ollama's Go server."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._parser = httptools.HttpRequestParser(self)
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._queue: deque[Request] = deque()
        self._busy = False
        self._closed = False
        self._killed = False
        self._stream: StreamWriter | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._ticket: Ticket | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the connection so a stopping server can drop it."""
        self._transport = cast(asyncio.Transport, transport)
        self._context.connections.add(self)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; malformed HTTP gets Go's ``400 Bad Request`` and a close."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None and not self._busy:
                self._transport.write(BAD_REQUEST)
            self._close()

    def eof_received(self) -> bool:
        """The client closed its side: close ours too (Go cancels the request on EOF)."""
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """A stream still being written is a disconnect, or aborted if the simulator killed it."""
        self._closed = True
        self._cancel_timer()
        self._release()
        if self._stream is not None:
            self._stream.lost(self._killed)
            self._stream = None
        self._context.connections.discard(self)

    def pause_writing(self) -> None:
        """Flow control: the client reads slower than an unpaced stream writes."""
        if self._stream is not None:
            self._stream.pause()

    def resume_writing(self) -> None:
        """Flow control: the buffer drained, unpaced writing continues."""
        if self._stream is not None:
            self._stream.resume()

    # httptools callbacks

    def on_message_begin(self) -> None:
        """httptools: a new request starts."""
        self._url = b""
        self._headers = {}
        self._body = []

    def on_url(self, url: bytes) -> None:
        """httptools: (part of) the request target."""
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """httptools: one header; names are lower-cased, the last repeat wins."""
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        """Answer ``Expect: 100-continue`` as Go does when the handler reads the body."""
        expect = self._headers.get("expect", "")
        if expect.lower() == "100-continue" and not self._busy and self._transport is not None:
            self._transport.write(CONTINUE)

    def on_body(self, body: bytes) -> None:
        """httptools: a piece of the body."""
        self._body.append(body)

    def on_message_complete(self) -> None:
        """The request is complete: queue it and answer it when its turn comes."""
        target, _, query = self._url.decode("latin-1").partition("?")
        request = Request(
            method=self._parser.get_method().decode("ascii"),
            target=_origin_form(target),
            query=query,
            headers=self._headers,
            body=b"".join(self._body),
            keep_alive=self._parser.should_keep_alive(),
            http10=self._parser.get_http_version() == "1.0",
        )
        self._queue.append(request)
        self._advance()

    # answering

    def _advance(self) -> None:
        """Start answering the next queued request unless one is in progress."""
        if self._busy or self._closed or not self._queue:
            return
        request = self._queue.popleft()
        self._busy = True
        self._context.observe(request)
        faults = self._context.faults
        if faults.hang:
            return
        if faults.first_byte_delay > 0:
            self._timer = self._loop.call_later(faults.first_byte_delay, self._respond_later, request)
            return
        self._respond_later(request)

    def _respond_later(self, request: Request) -> None:
        self._timer = None
        admitted = self._context.app.admit(request)
        if admitted is None:
            self._respond(request)
        elif isinstance(admitted, Ticket):
            self._ticket = admitted
            admitted.ready.add_done_callback(lambda _: self._admitted(request, admitted))
        else:
            self._write_fixed(request, cast(Fixed, admitted))

    def _admitted(self, request: Request, ticket: Ticket) -> None:
        """The scheduler gave the request a slot: answer now, or after its generation time if not streamed."""
        if self._closed or ticket.done:
            return
        if ticket.hold > 0:
            self._timer = self._loop.call_later(ticket.hold, self._respond, request)
        else:
            self._respond(request)

    def _release(self) -> None:
        ticket, self._ticket = self._ticket, None
        if ticket is not None:
            ticket.release()

    def _respond(self, request: Request) -> None:
        try:
            response: Response = self._context.app.handle(request)
        except Exception as error:
            log.exception("simulated Ollama failed on %s %s", request.method, request.target)
            response = native_error(500, str(error))
        if isinstance(response, Stream) and not request.is_head:
            self._start_stream(request, response)
        else:
            self._write_fixed(request, cast(Fixed, response))

    def _write_fixed(self, request: Request, response: Fixed) -> None:
        if self._transport is None or self._closed:
            return
        body = response.body
        head = fixed_head(
            response.status,
            response.content_type,
            len(body),
            headers=response.headers,
            closing=not request.keep_alive,
            http10=request.http10,
        )
        omit = request.is_head or response.status in (204, 304)
        self._transport.write(head if omit else head + body)
        self._finished(request)

    def _finished(self, request: Request) -> None:
        """The answer is complete: close, or move on to the next pipelined request."""
        self._release()
        self._busy = False
        if not request.keep_alive:
            self._close()
        elif self._queue:
            self._loop.call_soon(self._advance)

    def _close(self) -> None:
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    # streams

    def _start_stream(self, request: Request, response: Stream) -> None:
        if request.http10:
            request.keep_alive = False
        writer = StreamWriter(
            cast(asyncio.Transport, self._transport),
            self._context.observed,
            response.lines if request.http10 else response.chunked,
            head=stream_head(response.content_type, response.headers, request.http10),
            interval=self._context.interval if response.paced else 0.0,
            fail_after=self._context.faults.fail_after_lines,
            on_end=lambda: self._end_stream(request),
        )
        self._stream = writer
        writer.start()

    def _end_stream(self, request: Request) -> None:
        self._stream = None
        self._finished(request)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def kill(self) -> None:
        """The backend stops: drop the connection at once (streams count as aborted, not disconnects)."""
        self._killed = True
        self._cancel_timer()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.abort()
