"""JSON logs, one object per line, each carrying the request id of the request that caused it.

The request id lives in a context variable set by the gate for the duration of a request, so any log
record made while serving it (ours or a library's) is tagged without passing the id around. API keys and
``Authorization`` values are never put in a record: nothing here logs request headers.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from json.encoder import encode_basestring_ascii
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("fleet_request_id", default=None)
"""The id of the request being served in this context, or None outside a request."""

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName", "color_message"}


_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode
"""``json.dumps(..., default=str, separators=(",", ":"))`` without building an encoder per record."""


JSON_FIELDS = "_json_fields"
"""A record attribute holding its extra fields already rendered (``,"key":value...``), as ``json_fields``
makes them; the formatter then appends them instead of encoding the record's attributes again."""


def json_string(value: str | None) -> str:
    """``value`` as :func:`json.dumps` writes it (``null`` for None)."""
    return "null" if value is None else encode_basestring_ascii(value)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, logger, message, request id, extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stamp: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        """``YYYY-MM-DDTHH:MM:SS``, formatted once per second rather than once per record."""
        second = int(created)
        stamp = self._stamp
        if stamp[0] != second:
            stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._stamp = stamp
        return stamp[1]

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON; ``extra={...}`` fields of the call become keys of the object."""
        entry: dict[str, Any] = {
            "time": f"{self._time(record.created)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        rendered = record.__dict__.get(JSON_FIELDS)
        if rendered is not None and not record.exc_info:
            # The same object as below, written without building and encoding a dict.
            rid = "" if request_id is None else ',"request_id":' + encode_basestring_ascii(request_id)
            return (
                f'{{"time":{encode_basestring_ascii(entry["time"])},"level":{encode_basestring_ascii(entry["level"])},'
                f'"logger":{encode_basestring_ascii(record.name)},"message":{encode_basestring_ascii(entry["message"])}'
                f"{rid}{rendered}}}"
            )
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry)


def quiet_record_fields() -> None:
    """Stop filling record fields no log line shows (thread, process): ``getpid()`` and more per record."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: every logger, uvicorn's too, writes JSON to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "router": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
