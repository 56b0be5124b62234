"""``python -m router status [URL] [--key KEY]``: a running router's ``/fleet/status`` as readable tables.

Backends first (health, circuit, requests in flight, queue, replicas), then the model map in force, then
every other section of the answer as ``key: value`` lines, so fields the router gains later show up
without a change here. Exit status 1 with one clear line when the router does not answer, refuses the
key, or answers something that is not its status.

Standard library only: this module is imported for the subcommand alone and never by the server.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

DEFAULT_URL = "http://127.0.0.1:11434"
TIMEOUT_SECONDS = 5.0
COMMON_FIELDS = {"health", "circuit", "in_flight", "idle_connections", "last_error"}
BACKEND_FIELDS = COMMON_FIELDS | {"name", "url", "resolve", "healthy", "max_in_flight", "queued", "replicas"}
REPLICA_FIELDS = COMMON_FIELDS | {"address", "last_probe"}
TOP_FIELDS = {"backends", "model_map", "model_map_version"}


class StatusError(Exception):
    """The status could not be read; the message says why and what to try."""


def base_url(given: str) -> str:
    """``given`` as a base URL; a bare ``host:port`` means ``http://`` as ``OLLAMA_HOST`` does."""
    url = given.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


def fetch_status(url: str, key: str | None, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    """The router's ``/fleet/status`` answer, or :class:`StatusError` naming what went wrong."""
    request = urllib.request.Request(f"{url}/fleet/status", headers={"Accept": "application/json"})
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise StatusError(_refusal(url, error.code, key)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise StatusError(f"no answer from {url}: {reason}. Is the router running there?") from None
    try:
        status = json.loads(body)
    except ValueError:
        raise StatusError(f"{url}/fleet/status did not answer JSON: is {url} an ollama-fleet router?") from None
    if not isinstance(status, dict) or not isinstance(status.get("backends"), list):
        raise StatusError(f"{url}/fleet/status answered JSON without backends: is {url} an ollama-fleet router?")
    return status


def _refusal(url: str, code: int, key: str | None) -> str:
    if code in (401, 403):
        fix = "this key is not one of its FLEET_API_KEYS or FLEET_ADMIN_KEYS" if key else "pass --key KEY"
        return f"{url} refused the request ({code}): {fix}"
    if code == 404:
        return f"{url} has no /fleet/status (404): is it an ollama-fleet router rather than Ollama itself?"
    return f"{url}/fleet/status answered HTTP {code}"


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=False)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    ]


def _in_flight(item: dict[str, Any]) -> str:
    current = _text(item.get("in_flight"))
    limit = item.get("max_in_flight")
    return f"{current}/{limit}" if limit is not None else current


def _backend_rows(backends: list[dict[str, Any]]) -> list[list[str]]:
    rows: list[list[str]] = []
    for backend in backends:
        replicas = backend.get("replicas") or []
        cells = [_text(backend.get(key)) for key in ("name", "health", "circuit")]
        load = [_in_flight(backend), _text(backend.get("queued")), str(len(replicas))]
        rows.append([*cells, *load, _text(backend.get("url"))])
        if len(replicas) > 1 or backend.get("resolve"):
            for replica in replicas:
                cells = [f"  {_text(replica.get('address'))}", _text(replica.get("health"))]
                probe = f"last probe {_text(replica.get('last_probe'))}"
                rows.append([*cells, _text(replica.get("circuit")), _in_flight(replica), "", "", probe])
    return rows


def _details(backends: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Each backend's last error, and the fields this table does not know yet, as ``key: value``."""
    errors: list[str] = []
    extra: list[str] = []
    for backend in backends:
        name = _text(backend.get("name"))
        if backend.get("last_error"):
            errors.append(f"  {name}: {_text(backend['last_error'])}")
        extra += [f"  {name}.{key}: {_text(value)}" for key, value in backend.items() if key not in BACKEND_FIELDS]
        for replica in backend.get("replicas") or []:
            where = f"{name}[{_text(replica.get('address'))}]"
            extra += [f"  {where}.{key}: {_text(value)}" for key, value in replica.items() if key not in REPLICA_FIELDS]
    return errors, extra


def render(status: dict[str, Any], url: str) -> str:
    """The status as text: backends, the model map, then every other section generically."""
    backends: list[dict[str, Any]] = status["backends"]
    lines = [f"Router {url}", "", "Backends"]
    header = ["  backend", "health", "circuit", "in flight", "queued", "replicas", "url"]
    lines += table(header, [[f"  {row[0]}", *row[1:]] for row in _backend_rows(backends)])
    errors, extra = _details(backends)
    if errors:
        lines += ["", "Last errors", *errors]
    if extra:
        lines += ["", "More about backends", *extra]
    model_map = status.get("model_map")
    lines += ["", "Model map"]
    if isinstance(model_map, dict):
        lines += [f"  {key}: {_text(value)}" for key, value in model_map.items()]
    else:
        lines.append(f"  version: {_text(status.get('model_map_version'))}")
    others = {key: value for key, value in status.items() if key not in TOP_FIELDS}
    if others:
        lines += ["", "Router", *(f"  {key}: {_text(value)}" for key, value in others.items())]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    """Print the status of the router at URL; 0 when it answered, 1 when it did not."""
    parser = argparse.ArgumentParser(
        prog="python -m router status", description="Show a running router's /fleet/status as tables."
    )
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"the router's base URL (default {DEFAULT_URL})")
    parser.add_argument("--key", help="an API or admin key, when the router requires one")
    args = parser.parse_args(argv)
    url = base_url(args.url)
    try:
        status = fetch_status(url, args.key)
    except StatusError as error:
        print(f"router status: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(render(status, url))
    return 0
