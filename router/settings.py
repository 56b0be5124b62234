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
=============================  ==============================  ======================================

Keys and origins are comma-separated; blanks around commas are ignored. There is no total timeout: a
long answer that keeps streaming is never cut. A bad value is refused at start-up with a message that
names the variable, the value and what is expected.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m router",
        description="One Ollama-compatible endpoint in front of many Ollama servers.",
        epilog="Other settings come from FLEET_* environment variables (see router/settings.py).",
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
    return RouterSettings(
        model_map=Path(model_map),
        host=args.host or env.get("FLEET_HOST") or "0.0.0.0",
        port=_port("--port" if args.port else "FLEET_PORT", args.port or env.get("FLEET_PORT")),
        api_keys=_csv(env.get("FLEET_API_KEYS")),
        admin_keys=_csv(env.get("FLEET_ADMIN_KEYS")),
        origins=_csv(env.get("FLEET_ORIGINS")),
        max_body_bytes=int(_number("FLEET_MAX_BODY_BYTES", env.get("FLEET_MAX_BODY_BYTES"), 32 << 20, integer=True)),
        connect_timeout=_number("FLEET_CONNECT_TIMEOUT", env.get("FLEET_CONNECT_TIMEOUT"), 5.0),
        first_byte_timeout=_number("FLEET_FIRST_BYTE_TIMEOUT", env.get("FLEET_FIRST_BYTE_TIMEOUT"), 600.0),
        idle_timeout=_number("FLEET_IDLE_TIMEOUT", env.get("FLEET_IDLE_TIMEOUT"), 120.0),
        listing_timeout=_number("FLEET_LISTING_TIMEOUT", env.get("FLEET_LISTING_TIMEOUT"), 5.0),
        listing_cache=_number("FLEET_LISTING_CACHE", env.get("FLEET_LISTING_CACHE"), 1.0, zero=True),
        log_level=log_level,
    )
