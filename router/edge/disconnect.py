"""Noticing that a client hung up, at any point after its request body was read.

Uvicorn (ASGI spec 2.3) silently drops what is sent after a client disconnects, so a proxy that only
sends would keep a backend generating for nobody. :class:`DisconnectWatcher` waits on ``receive()`` in a
task of its own (one per proxied request, nothing per chunk) and, on ``http.disconnect``, cancels the
task serving the request. Wherever that task is waiting (connecting, waiting for a cold model's first
byte, relaying chunks), the cancellation unwinds it and the upstream connection is aborted, never
returned to the pool; the serving code then absorbs the cancellation with :meth:`absorb`.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive


class DisconnectWatcher:
    """Cancels the current task when the client disconnects; stop it when the response is done."""

    def __init__(self, receive: Receive) -> None:
        task = asyncio.current_task()
        assert task is not None, "a watcher runs inside the task serving the request"
        self._served = task
        self.fired = False
        self.finishing = False
        self._task = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            continue
        if not self.finishing:
            self.fired = True
            self._served.cancel()

    def absorb(self) -> None:
        """Undo the cancellation this watcher caused (call it in the ``except CancelledError``)."""
        self._served.uncancel()

    def stop(self) -> None:
        """The response is complete (or abandoned): stop watching."""
        self.finishing = True
        self._task.cancel()
