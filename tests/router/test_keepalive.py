"""The idle keep-alive of client connections is FLEET_KEEPALIVE, over a real socket."""

from __future__ import annotations

import socket
import time

from tests.router.harness import model_map, running_router

REQUEST = b"GET /healthz HTTP/1.1\r\nhost: router\r\n\r\n"
BODY = b'{"status":"ok"}'
WAIT = 15.0


def _answer(sock: socket.socket) -> bytes:
    """One whole ``/healthz`` answer from ``sock`` (bounded by the socket's timeout)."""
    received = b""
    while not received.endswith(BODY):
        chunk = sock.recv(4096)
        assert chunk, f"the router closed the connection; got {received!r}"
        received += chunk
    return received


def test_an_idle_connection_is_served_before_the_keepalive_and_closed_after_it() -> None:
    document = model_map({"t4": "http://127.0.0.1:9"}, {})
    with running_router(document, keepalive=3) as router:
        host, port = router.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
            sock.sendall(REQUEST)
            assert _answer(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.5)
            sock.sendall(REQUEST)
            assert _answer(sock).startswith(b"HTTP/1.1 200 "), "a kept-alive connection takes a second request"
            assert sock.recv(4096) == b"", "an idle connection is closed once FLEET_KEEPALIVE has passed"
