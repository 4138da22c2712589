"""Logging for operators: timestamps, level, logger, request id; text or JSON lines.

`configure()` installs one stderr handler on the root logger (uvicorn's loggers
propagate to it), so `eakte.*` INFO lines (start-up, deadline firings) appear. The
request id of the current request (from `X-Request-ID` or generated) is carried in a
context variable and added to every line logged while the request runs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("eakte_request_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
# a caller's id is echoed only if it is harmless in a log line and a header
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key != "color_message":
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2026-12-01T22:30:00.123Z INFO eakte.process [rid] message key=value`."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        rid = getattr(record, "request_id", None)
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_") and k != "color_message"
        )
        line = f"{ts.replace('+00:00', 'Z')} {record.levelname:<7} {record.name}"
        line += f" [{rid}]" if rid else ""
        line += f" {record.getMessage()}" + (f" {extras}" if extras else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(settings: Any, *, force_level: int | None = None) -> None:
    """Install the stderr handler (idempotent): EAKTE_LOG_FORMAT, EAKTE_LOG_LEVEL."""
    level = force_level or logging.getLevelName(str(settings.log_level).upper())
    if not isinstance(level, int):
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    handler.set_name("eakte")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "eakte":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # the SQL echo and HTTP client chatter stay at WARNING even with --debug
    for noisy in (
        "sqlalchemy.engine",
        "httpx",
        "httpcore",
        "aiosqlite",
        "asyncio",
        "alembic.runtime.plugins",
    ):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class RequestIdMiddleware:
    """Take `X-Request-ID` from the caller (or make one), log with it, echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = None
        for key, value in scope.get("headers", []):
            if key == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            # a WebSocket has no response head to tag: its frames (co-editing sends one per
            # client and update) go to the server's `send` without another call layer
            await self.app(scope, receive, _send if scope["type"] == "http" else send)
        finally:
            request_id.reset(token)
