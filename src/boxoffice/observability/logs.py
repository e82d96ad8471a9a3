"""One structured line per log event (logfmt or JSON), tagged with the request id.

Imported by the CLI before the server starts: it must not import prometheus_client
(multiprocess mode is decided at that import).
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["logfmt", "json"]

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_HANDLER_NAME = "boxoffice-structured"
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+\-]+$")
# Attributes every LogRecord has; anything else was passed via `extra=` and is logged as a field.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "pid": record.process,
    }
    rid = request_id.get()
    if rid:
        fields["request_id"] = rid
    fields["msg"] = record.getMessage()
    for key, value in vars(record).items():
        if key not in _RESERVED and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exc"] = logging.Formatter().formatException(record.exc_info)
    return fields


def _logfmt_value(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if text and _BARE.match(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    """`key=value` pairs; values with spaces, quotes or newlines are quoted so each event stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(record).items())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(_fields(record), default=str).decode()


def configure_logging(level: str, fmt: LogFormat = "logfmt") -> None:
    """Install one structured handler on the root logger (idempotent; every worker process calls it)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root.addHandler(handler)
    root.setLevel(level)
