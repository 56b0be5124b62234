"""nginx as the reference streaming reverse proxy: its config, rendered into a temp dir, and its process.

One worker, ``proxy_buffering off`` (each upstream read is passed on at once, as a token proxy must),
HTTP/1.1 to the upstream with a ``keepalive`` pool and an empty ``Connection`` header, ``Host`` rewritten
to the backend's address (the sim, like Ollama, refuses foreign Hosts on loopback), no access log. Each
listener forwards to one upstream: nginx cannot route by the ``model`` in a JSON body, so the benchmark
gives it one port per sim. It runs as a non-daemon child (``daemon off``) so it stops with the benchmark.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from bench.procs import Child, Pinning, StartError, wait_http_ok

SERVER = """\
    upstream {name} {{
        server 127.0.0.1:{upstream};
        keepalive 1024;
        keepalive_requests 1000000;
        keepalive_timeout 75s;
    }}
    server {{
        listen 127.0.0.1:{listen} backlog=4096;
        keepalive_requests 1000000;
        location / {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1:{upstream};
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
        }}
    }}
"""

CONFIG = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
worker_rlimit_nofile 16384;
events {{
    worker_connections 8192;
    multi_accept on;
}}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    tcp_nodelay on;
{servers}}}
"""


def nginx_binary() -> str | None:
    """Path of ``nginx`` when installed (``apt-get install nginx``), else None."""
    return shutil.which("nginx") or next(
        (str(path) for path in (Path("/usr/sbin/nginx"), Path("/usr/local/sbin/nginx")) if path.exists()), None
    )


def render_config(directory: Path, routes: Sequence[tuple[int, int]]) -> str:
    """nginx.conf with one ``listen port → upstream port`` server per entry of ``routes``."""
    servers = "".join(
        SERVER.format(name=f"sim{index}", listen=listen, upstream=upstream)
        for index, (listen, upstream) in enumerate(routes)
    )
    return CONFIG.format(dir=directory, servers=servers)


def start_nginx(
    binary: str, directory: Path, routes: Sequence[tuple[int, int]], pinning: Pinning, ready_path: str
) -> Child:
    """Write the config into ``directory``, start nginx on the proxy CPU and wait until it forwards."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(render_config(directory, routes))
    argv = [*pinning.prefix(pinning.proxy_cpu), binary, "-p", str(directory), "-e", str(directory / "error.log")]
    child = Child("nginx", [*argv, "-c", str(conf)], directory / "nginx.out")
    try:
        for listen, _ in routes:
            wait_http_ok(child, listen, ready_path, timeout=10.0)
    except StartError:
        child.stop()
        raise
    return child
