"""The router's settings: environment variables, overridden by command-line flags.

=============================  ==============================  ======================================
environment                    flag                            default
=============================  ==============================  ======================================
``FLEET_MODEL_MAP``            ``--model-map``                 required: the model-map file (JSON/YAML)
``FLEET_HOST``                 ``--host``                      ``0.0.0.0``
``FLEET_PORT``                 ``--port``                      ``11434``
``FLEET_API_KEYS``             —                               unset: inference needs no key
``FLEET_ADMIN_KEYS``           —                               unset: admin endpoints always refused
``FLEET_ORIGINS``              —                               localhost origins only (like OLLAMA_ORIGINS)
``FLEET_MAX_BODY_BYTES``       —                               ``33554432`` (32 MiB; blob uploads exempt)
``FLEET_CONNECT_TIMEOUT``      —                               ``5`` s to open a connection to a backend
``FLEET_FIRST_BYTE_TIMEOUT``   —                               ``600`` s to a backend's first byte (cold loads)
``FLEET_IDLE_TIMEOUT``         —                               ``120`` s of silence allowed inside an answer
``FLEET_LISTING_TIMEOUT``      —                               ``5`` s per backend for merged listings
``FLEET_LISTING_CACHE``        —                               ``1`` s that a merged listing is reused (0: off)
``FLEET_LOG_LEVEL``            —                               ``info``
``FLEET_RETRY_DEADLINE``       —                               ``30`` s after which no other backend is tried
``FLEET_CIRCUIT_FAILURES``     —                               ``3`` consecutive failures open a circuit
``FLEET_CIRCUIT_OPEN_SECONDS`` —                               ``10`` s an open circuit waits for a trial
``FLEET_PROBE_INTERVAL``       —                               ``5`` s between health probes, ±20 % (0: off)
``FLEET_PROBE_TIMEOUT``        —                               ``2`` s for a probe's answer
``FLEET_RESOLVE_INTERVAL``     —                               ``10`` s between DNS looks (``resolve: true``)
``FLEET_QUEUE_LENGTH``         —                               ``64`` requests waiting per full backend
``FLEET_QUEUE_WAIT``           —                               ``30`` s a request may wait for a slot
``FLEET_RELOAD_INTERVAL``      —                               ``1`` s between model-map file checks (0: off)
``FLEET_DRAIN_SECONDS``        —                               ``30`` s from SIGTERM to exit, at most
``FLEET_DRAIN_NOTICE_SECONDS`` —                               ``3`` s unready but still accepting
=============================  ==============================  ======================================

Keys and origins are comma-separated; blanks around commas are ignored. There is no total timeout: a
long answer that keeps streaming is never cut. A bad value is refused at start-up with a message that
names the variable, the value and what is expected.

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
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    """A setting has a value the router cannot use; the message names the variable or flag."""


@dataclass(frozen=True, slots=True)
class RouterSettings:
    """Everything the router needs to start, validated once."""

    model_map: Path
    host: str = "0.0.0.0"
    port: int = 11434
    api_keys: tuple[str, ...] = ()
    admin_keys: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    max_body_bytes: int = 32 * 1024 * 1024
    connect_timeout: float = 5.0
    first_byte_timeout: float = 600.0
    idle_timeout: float = 120.0
    listing_timeout: float = 5.0
    listing_cache: float = 1.0
    log_level: str = "info"
    retry_deadline: float = 30.0
    circuit_failures: int = 3
    circuit_open_seconds: float = 10.0
    probe_interval: float = 5.0
    probe_timeout: float = 2.0
    resolve_interval: float = 10.0
    queue_length: int = 64
    queue_wait: float = 30.0
    reload_interval: float = 1.0
    drain_seconds: float = 30.0
    drain_notice_seconds: float = 3.0


NUMBERS: tuple[tuple[str, str, bool, bool], ...] = (
    ("max_body_bytes", "FLEET_MAX_BODY_BYTES", True, False),
    ("connect_timeout", "FLEET_CONNECT_TIMEOUT", False, False),
    ("first_byte_timeout", "FLEET_FIRST_BYTE_TIMEOUT", False, False),
    ("idle_timeout", "FLEET_IDLE_TIMEOUT", False, False),
    ("listing_timeout", "FLEET_LISTING_TIMEOUT", False, False),
    ("listing_cache", "FLEET_LISTING_CACHE", False, True),
    ("retry_deadline", "FLEET_RETRY_DEADLINE", False, True),
    ("circuit_failures", "FLEET_CIRCUIT_FAILURES", True, False),
    ("circuit_open_seconds", "FLEET_CIRCUIT_OPEN_SECONDS", False, False),
    ("probe_interval", "FLEET_PROBE_INTERVAL", False, True),
    ("probe_timeout", "FLEET_PROBE_TIMEOUT", False, False),
    ("resolve_interval", "FLEET_RESOLVE_INTERVAL", False, False),
    ("queue_length", "FLEET_QUEUE_LENGTH", True, True),
    ("queue_wait", "FLEET_QUEUE_WAIT", False, False),
    ("reload_interval", "FLEET_RELOAD_INTERVAL", False, True),
    ("drain_seconds", "FLEET_DRAIN_SECONDS", False, False),
    ("drain_notice_seconds", "FLEET_DRAIN_NOTICE_SECONDS", False, True),
)
"""Numeric settings: field, variable, whole number or not, and whether 0 is allowed."""

_DEFAULTS: dict[str, Any] = {field.name: field.default for field in fields(RouterSettings)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m router",
        description="One Ollama-compatible endpoint in front of many Ollama servers.",
        epilog="Other settings come from FLEET_* environment variables (see router/runtime/settings.py).",
    )
    parser.add_argument("--model-map", help="the model-map file (default: $FLEET_MODEL_MAP)")
    parser.add_argument("--host", help="listen address (default: $FLEET_HOST or 0.0.0.0)")
    parser.add_argument("--port", help="listen port (default: $FLEET_PORT or 11434)")
    return parser


def _csv(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _number(name: str, value: str | None, default: float, *, integer: bool = False, zero: bool = False) -> float:
    if value is None or not value.strip():
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "a whole number" if integer else "a number of seconds"
        raise SettingsError(f"{name}: expected {kind}, got {value!r}") from None
    if number < 0 or (number == 0 and not zero):
        floor = "0 or more" if zero else "greater than 0"
        raise SettingsError(f"{name}: must be {floor}, got {value!r}")
    return number


def _port(name: str, value: str | None) -> int:
    port = int(_number(name, value, 11434, integer=True))
    if port > 65535:
        raise SettingsError(f"{name}: expected a port number 1-65535, got {value!r}")
    return port


def _numbers(env: Mapping[str, str]) -> dict[str, Any]:
    """Every numeric setting that ``env`` sets, validated (absent ones keep their defaults)."""
    values: dict[str, Any] = {}
    for field, name, integer, zero in NUMBERS:
        default = float(_DEFAULTS[field])
        number = _number(name, env.get(name), default, integer=integer, zero=zero)
        values[field] = int(number) if integer else number
    if values["drain_notice_seconds"] >= values["drain_seconds"]:
        raise SettingsError(
            f"FLEET_DRAIN_NOTICE_SECONDS: must be less than FLEET_DRAIN_SECONDS ({values['drain_seconds']:g}), "
            f"got {values['drain_notice_seconds']:g}"
        )
    return values


def load_settings(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> RouterSettings:
    """Settings from ``env`` (default ``os.environ``) with ``argv`` flags taking precedence."""
    env = os.environ if env is None else env
    args = _parser().parse_args(argv)
    model_map = args.model_map or env.get("FLEET_MODEL_MAP")
    if not model_map:
        raise SettingsError("the model map is required: pass --model-map FILE or set FLEET_MODEL_MAP")
    log_level = env.get("FLEET_LOG_LEVEL", "info").strip().lower() or "info"
    if log_level not in LOG_LEVELS:
        raise SettingsError(f"FLEET_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    base = RouterSettings(
        model_map=Path(model_map),
        host=args.host or env.get("FLEET_HOST") or "0.0.0.0",
        port=_port("--port" if args.port else "FLEET_PORT", args.port or env.get("FLEET_PORT")),
        api_keys=_csv(env.get("FLEET_API_KEYS")),
        admin_keys=_csv(env.get("FLEET_ADMIN_KEYS")),
        origins=_csv(env.get("FLEET_ORIGINS")),
        log_level=log_level,
    )
    return replace(base, **_numbers(env))
