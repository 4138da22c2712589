"""Keep bearer tokens passed in WebSocket query strings out of the logs."""

from __future__ import annotations

import logging
import re

TOKEN = re.compile(r"((?:access_)?token=)[^&\s\"']+", re.IGNORECASE)
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "eakte")


def redact(text: str) -> str:
    """`…?token=abc` becomes `…?token=[redacted]`."""
    return TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message so that no `token=` value survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if "token=" in message.lower():
            record.msg = redact(message)
            record.args = None
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Attach the filter to uvicorn's and our loggers and to their handlers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
