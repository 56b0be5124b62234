"""The router's settings: environment variables, overridden by command-line flags where a setting has one.

Each setting is described once, by its field on :class:`RouterSettings`: its variable, its flag, its
default and a one-line description. Parsing, validation, ``--help`` and the settings table of docs/router.md
(:func:`settings_markdown`, kept current by a test) all read those definitions.

Keys and origins are comma-separated; blanks around commas are ignored. There is no total timeout: a
long answer that keeps streaming is never cut. A bad value is refused at start-up with a message that
names the variable (or flag), the value and what is expected.

Draining: on SIGTERM ``/readyz`` answers 503 at once; for ``FLEET_DRAIN_NOTICE_SECONDS`` the router
still accepts and serves new requests (load balancers take that long to notice), then it stops
listening and waits for requests in flight until ``FLEET_DRAIN_SECONDS`` after the signal; streams still
running then end with a final error line. Keep ``FLEET_DRAIN_SECONDS`` below the pod's
``terminationGracePeriodSeconds`` minus its preStop sleep.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    """A setting has a value the router cannot use; the message names the variable or flag."""


class Kind(StrEnum):
    """How a setting's text becomes its value."""

    PATH = "path"
    TEXT = "text"
    PORT = "port"
    LIST = "list"
    LEVEL = "level"
    WHOLE = "whole"
    SECONDS = "seconds"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Setting:
    """How one setting is given and what it means (a field's metadata)."""

    env: str
    kind: Kind
    help: str
    flag: str | None = None
    zero: bool = False
    shown: str | None = None
    choices: tuple[str, ...] = ()


def setting(default: Any, env: str, kind: Kind, help: str, **how: Any) -> Any:
    """A :class:`RouterSettings` field: its default and its :class:`Setting` description."""
    return field(default=default, metadata={"setting": Setting(env, kind, help, **how)})


@dataclass(frozen=True, slots=True)
class RouterSettings:
    """Everything the router needs to start, validated once."""

    model_map: Path = field(
        metadata={
            "setting": Setting(
                "FLEET_MODEL_MAP", Kind.PATH, "the model-map file (JSON or YAML)", "--model-map", shown="required"
            )
        }
    )
    host: str = setting(
        "127.0.0.1",
        "FLEET_HOST",
        Kind.TEXT,
        "listen address; loopback only, as Ollama's own default "
        "(https://github.com/ollama/ollama/blob/main/docs/faq.md); the image and the Deployment set `0.0.0.0`",
        flag="--host",
    )
    port: int = setting(11434, "FLEET_PORT", Kind.PORT, "listen port", flag="--port")
    keepalive: int = setting(
        620,
        "FLEET_KEEPALIVE",
        Kind.WHOLE,
        "seconds an idle client connection is kept open; longer than Google Cloud's load balancer keeps idle "
        "backend connections (600 s), as it requires "
        "(https://cloud.google.com/load-balancing/docs/https#timeouts_and_retries)",
        flag="--keepalive",
        shown="`620` s",
    )
    head_timeout: float = setting(
        10.0,
        "FLEET_HEAD_TIMEOUT",
        Kind.SECONDS,
        "for a client to send a request's line and headers (from connecting, or from a new request's first "
        "byte); then the connection is closed",
    )
    body_timeout: float = setting(
        60.0,
        "FLEET_BODY_TIMEOUT",
        Kind.SECONDS,
        "for a client to send a whole request body after its head (blob uploads exempt); then the connection is closed",
    )
    max_connections: int = setting(
        4096,
        "FLEET_MAX_CONNECTIONS",
        Kind.WHOLE,
        "client connections open at once; one more gets 503 and is closed. The soft open-files limit is "
        "raised to twice this plus 256 (start-up fails if the hard limit is lower)",
    )
    api_keys: tuple[str, ...] = setting(
        (), "FLEET_API_KEYS", Kind.LIST, "keys that open inference and listings", shown="unset: no key needed"
    )
    admin_keys: tuple[str, ...] = setting(
        (), "FLEET_ADMIN_KEYS", Kind.LIST, "keys that also open admin calls", shown="unset: admin always refused"
    )
    origins: tuple[str, ...] = setting(
        (),
        "FLEET_ORIGINS",
        Kind.LIST,
        "browser origins allowed besides Ollama's own (localhost, 127.0.0.1, 0.0.0.0, app/file/tauri/vscode); "
        "`*` allows all",
        shown="unset: Ollama's own",
    )
    allowed_hosts: tuple[str, ...] = setting(
        (),
        "FLEET_ALLOWED_HOSTS",
        Kind.LIST,
        "Host header names answered, any port (`*.example.org`: subdomains, `*`: any); others get 403 "
        "(DNS rebinding), except `/healthz` and `/readyz`",
        shown="unset: `localhost`, `127.0.0.1`, `[::1]` when listening on loopback, else any",
    )
    max_body_bytes: int = setting(
        32 * 1024 * 1024,
        "FLEET_MAX_BODY_BYTES",
        Kind.WHOLE,
        "largest request body read (blob uploads exempt)",
        shown="`33554432` (32 MiB)",
    )
    connect_timeout: float = setting(5.0, "FLEET_CONNECT_TIMEOUT", Kind.SECONDS, "to open a connection to a backend")
    first_byte_timeout: float = setting(
        600.0, "FLEET_FIRST_BYTE_TIMEOUT", Kind.SECONDS, "to a backend's first byte (a cold model load is slow)"
    )
    idle_timeout: float = setting(
        120.0, "FLEET_IDLE_TIMEOUT", Kind.SECONDS, "of silence inside an answer; no limit on a stream's length"
    )
    listing_timeout: float = setting(
        5.0, "FLEET_LISTING_TIMEOUT", Kind.SECONDS, "per backend for its part of a merged listing"
    )
    listing_cache: float = setting(
        1.0, "FLEET_LISTING_CACHE", Kind.SECONDS, "that a merged listing is reused (0: off)", zero=True
    )
    log_level: str = setting("info", "FLEET_LOG_LEVEL", Kind.LEVEL, "one of " + ", ".join(LOG_LEVELS))
    retry_deadline: float = setting(
        30.0, "FLEET_RETRY_DEADLINE", Kind.SECONDS, "after which no other backend is tried", zero=True
    )
    circuit_failures: int = setting(
        3, "FLEET_CIRCUIT_FAILURES", Kind.WHOLE, "consecutive failures that open a replica's circuit"
    )
    circuit_open_seconds: float = setting(
        10.0, "FLEET_CIRCUIT_OPEN_SECONDS", Kind.SECONDS, "an open circuit waits before a trial request"
    )
    probe_interval: float = setting(
        5.0,
        "FLEET_PROBE_INTERVAL",
        Kind.SECONDS,
        "between active `GET /api/version` probes, ±20 % (0: off)",
        zero=True,
    )
    probe_timeout: float = setting(2.0, "FLEET_PROBE_TIMEOUT", Kind.SECONDS, "for a probe's answer")
    resolve_interval: float = setting(
        10.0, "FLEET_RESOLVE_INTERVAL", Kind.SECONDS, "between DNS looks at `resolve: true` backends"
    )
    queue_length: int = setting(
        64, "FLEET_QUEUE_LENGTH", Kind.WHOLE, "requests that may wait per backend at `max_in_flight`", zero=True
    )
    queue_wait: float = setting(30.0, "FLEET_QUEUE_WAIT", Kind.SECONDS, "a queued request may wait for a slot")
    ps_interval: float = setting(
        5.0,
        "FLEET_PS_INTERVAL",
        Kind.SECONDS,
        "between `GET /api/ps` polls of every replica, ±20 %, to know which models each holds (0: off)",
        zero=True,
    )
    balance: str = setting(
        "warm-first",
        "FLEET_BALANCE",
        Kind.CHOICE,
        "how requests spread over a priority's replicas: `warm-first` (where the model is loaded), "
        "`least-outstanding` or `round-robin` (docs/warm-first.md)",
        choices=("warm-first", "least-outstanding", "round-robin"),
    )
    reload_interval: float = setting(
        1.0, "FLEET_RELOAD_INTERVAL", Kind.SECONDS, "between model-map file checks (0: off)", zero=True
    )
    drain_seconds: float = setting(30.0, "FLEET_DRAIN_SECONDS", Kind.SECONDS, "from SIGTERM to exit, at most")
    drain_notice_seconds: float = setting(
        3.0,
        "FLEET_DRAIN_NOTICE_SECONDS",
        Kind.SECONDS,
        "unready but still serving after SIGTERM, before the listener closes",
        zero=True,
    )


SETTINGS: tuple[tuple[str, Setting], ...] = tuple(
    (item.name, item.metadata["setting"]) for item in fields(RouterSettings)
)
"""Every setting: its field name and its description, in the order docs/router.md lists them."""

_DEFAULTS: dict[str, Any] = {item.name: item.default for item in fields(RouterSettings)}


def _shown_default(name: str, described: Setting) -> str:
    if described.shown is not None:
        return described.shown
    value = _DEFAULTS[name]
    if described.kind is Kind.SECONDS:
        return f"`{value:g}` s"
    return f"`{value}`"


def settings_markdown() -> str:
    """The settings table of docs/router.md, from the definitions above."""
    rows = ["| env | flag | default | what it is |", "|---|---|---|---|"]
    for name, described in SETTINGS:
        flag = f"`{described.flag}`" if described.flag else "—"
        shown = _shown_default(name, described)
        rows.append(f"| `{described.env}` | {flag} | {shown} | {described.help} |")
    return "\n".join(rows) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m router",
        description="One Ollama-compatible endpoint in front of many Ollama servers.",
        epilog="Other settings come from FLEET_* environment variables (docs/router.md, section Settings).",
    )
    for name, described in SETTINGS:
        if described.flag is not None:
            default = _shown_default(name, described).replace("`", "")
            parser.add_argument(described.flag, dest=name, help=f"{described.help} (${described.env}; {default})")
    return parser


def _number(name: str, value: str, *, integer: bool, zero: bool) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "a whole number" if integer else "a number of seconds"
        raise SettingsError(f"{name}: expected {kind}, got {value!r}") from None
    if number < 0 or (number == 0 and not zero):
        floor = "0 or more" if zero else "greater than 0"
        raise SettingsError(f"{name}: must be {floor}, got {value!r}")
    return number


def _value(name: str, described: Setting, text: str) -> Any:
    """The value of one setting given as ``text`` under ``name`` (its variable or its flag)."""
    kind = described.kind
    if kind is Kind.PATH:
        return Path(text)
    if kind is Kind.TEXT:
        return text
    if kind is Kind.LIST:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    if kind is Kind.CHOICE:
        choice = text.strip().lower()
        if choice not in described.choices:
            raise SettingsError(f"{name}: expected one of {', '.join(described.choices)}, got {choice!r}")
        return choice
    if kind is Kind.LEVEL:
        level = text.strip().lower()
        if level not in LOG_LEVELS:
            raise SettingsError(f"{name}: expected one of {', '.join(LOG_LEVELS)}, got {level!r}")
        return level
    if kind is Kind.PORT:
        port = int(_number(name, text, integer=True, zero=False))
        if port > 65535:
            raise SettingsError(f"{name}: expected a port number 1-65535, got {text!r}")
        return port
    return _number(name, text, integer=kind is Kind.WHOLE, zero=described.zero)


def load_settings(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> RouterSettings:
    """Settings from ``env`` (default ``os.environ``) with ``argv`` flags taking precedence."""
    env = os.environ if env is None else env
    args = vars(_parser().parse_args(argv))
    values: dict[str, Any] = {}
    for name, described in SETTINGS:
        flagged = args.get(name)
        given, source = (flagged, described.flag) if flagged else (env.get(described.env), described.env)
        if given is not None and given.strip():
            values[name] = _value(str(source), described, given)
    if "model_map" not in values:
        raise SettingsError("the model map is required: pass --model-map FILE or set FLEET_MODEL_MAP")
    settings = RouterSettings(**values)
    if settings.drain_notice_seconds >= settings.drain_seconds:
        raise SettingsError(
            f"FLEET_DRAIN_NOTICE_SECONDS: must be less than FLEET_DRAIN_SECONDS ({settings.drain_seconds:g}), "
            f"got {settings.drain_notice_seconds:g}"
        )
    return settings
