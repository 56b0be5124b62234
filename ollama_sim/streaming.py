"""Writing one streamed answer on a transport: a line per write, paced, abortable, flow-controlled.

This is what makes the simulator look like Ollama flushing each token
(https://github.com/ollama/ollama/blob/main/docs/api.md) and what the benchmark measures, so it avoids
per-line work beyond one ``transport.write``. With a token rate, line *i* is due at *start + (i+1)/rate*,
scheduled with ``loop.call_at`` from the previous one (no task, no drift); the final ``done`` line follows the
last token at once. Unpaced lines are written back to back until the transport asks to pause.
``fail_after_lines`` aborts the TCP connection once that many lines have left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ollama_sim.observe import Observations

ABORT_POLL_S = 0.002
ABORT_POLLS = 500


class StreamWriter:
    """Writes ``frames`` (the first one prefixed with ``head``) and reports the outcome in ``observed``."""

    __slots__ = (
        "_fail_after",
        "_frames",
        "_head",
        "_index",
        "_interval",
        "_loop",
        "_observed",
        "_on_end",
        "_paused",
        "_start",
        "_timer",
        "_transport",
        "active",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        observed: Observations,
        frames: tuple[bytes, ...],
        *,
        head: bytes,
        interval: float,
        fail_after: int | None,
        on_end: Callable[[], None],
    ) -> None:
        self._transport = transport
        self._observed = observed
        self._frames = frames
        self._head: bytes | None = head
        self._interval = interval
        self._fail_after = fail_after
        self._on_end = on_end
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()
        self._index = 0
        self._paused = False
        self._timer: asyncio.TimerHandle | None = None
        self.active = False

    def start(self) -> None:
        """Begin writing (at once, or after the first token interval when paced)."""
        self.active = True
        self._observed.active_streams += 1
        if self._fail_after is not None and self._fail_after <= 0:
            self._abort()
        elif self._interval > 0 and len(self._frames) > 1:
            self._timer = self._loop.call_at(self._start + self._interval, self._tick)
        else:
            self._pump()

    def pause(self) -> None:
        """The transport's buffer is full: unpaced writing waits for :meth:`resume`."""
        self._paused = True

    def resume(self) -> None:
        """The transport drained: carry on with unpaced lines."""
        self._paused = False
        if self.active and self._interval == 0:
            self._pump()

    def lost(self, killed: bool) -> None:
        """The connection closed under the stream: a client disconnect, or ``killed`` by the simulator."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.active:
            return
        self._finish()
        if killed:
            self._observed.aborted_streams += 1
        else:
            self._observed.disconnects += 1

    def _finish(self) -> None:
        self.active = False
        self._observed.active_streams -= 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _write_frame(self) -> bool:
        """Write the next line; return whether the stream goes on."""
        data = self._frames[self._index]
        if self._head is not None:
            data, self._head = self._head + data, None
        self._transport.write(data)
        self._index += 1
        if self._index == len(self._frames):
            self._finish()
            self._observed.completed_streams += 1
            self._on_end()
            return False
        if self._fail_after is not None and self._index >= self._fail_after:
            self._abort()
            return False
        return True

    def _pump(self) -> None:
        while self.active and not self._paused and self._write_frame():
            pass

    def _tick(self) -> None:
        self._timer = None
        if not self.active or not self._write_frame():
            return
        if self._index == len(self._frames) - 1:
            self._write_frame()
            return
        self._timer = self._loop.call_at(self._start + (self._index + 1) * self._interval, self._tick)

    def _abort(self) -> None:
        """Break the connection once what was written has left the buffer (a proxy sees a cut stream)."""
        self._finish()
        self._observed.aborted_streams += 1
        self._abort_when_flushed(ABORT_POLLS)

    def _abort_when_flushed(self, polls: int) -> None:
        if self._transport.is_closing():
            return
        if self._transport.get_write_buffer_size() and polls > 0:
            self._timer = self._loop.call_later(ABORT_POLL_S, self._abort_when_flushed, polls - 1)
            return
        self._timer = None
        self._transport.abort()
