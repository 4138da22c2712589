"""Keep bearer tokens out of the logs, however the client spelled or encoded them.

uvicorn's access and error lines print the request target with its query string. A token
can arrive as `token=`, `access_token=`, `TOKEN=`, `%74oken=` (Starlette decodes the key, so
the server accepts it), `access%5Ftoken=` or with a percent-encoded value; and whatever
the key, a JWT is recognisable by its shape (`eyJ…`, three base64url parts, dots possibly
percent-encoded as `%2E`). Every one of them becomes `[redacted]`.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

# key=value pairs of a query string (or anything that looks like one)
_PAIR = re.compile(r"(?P<key>[A-Za-z0-9_%.\-+]+)=(?P<value>[^&\s\"']+)")
# a JWT/JWS in any encoding of its dots: header.payload.signature, header starts with '{"'
_JWT = re.compile(
    r"eyJ[A-Za-z0-9_\-]+(?:\.|%2[eE])[A-Za-z0-9_\-]+(?:(?:\.|%2[eE])[A-Za-z0-9_\-]*)?"
)
_BEARER = re.compile(r"(?i)(bearer[ .+]|bearer%20)[A-Za-z0-9_\-.%~+/=]+")
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "eakte")
REDACTED = "[redacted]"


def _key_is_token(key: str) -> bool:
    decoded = unquote(unquote(key)).lower()
    return "token" in decoded or decoded in ("jwt", "auth", "authorization", "bearer")


def _pair(match: re.Match[str]) -> str:
    if _key_is_token(match["key"]):
        return f"{match['key']}={REDACTED}"
    return match.group(0)


def redact(text: str) -> str:
    """`…?token=abc` becomes `…?token=[redacted]`; any JWT anywhere becomes `[redacted]`."""
    text = _PAIR.sub(_pair, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _JWT.sub(REDACTED, text)


def _suspicious(message: str) -> bool:
    lowered = message.lower()
    return (
        "=" in message
        and ("token" in lowered or "%" in message)
        or "eyj" in lowered
        or ("bearer" in lowered)
    )


class RedactTokens(logging.Filter):
    """Rewrites a record's message so that no token survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if _suspicious(message):
            cleaned = redact(message)
            if cleaned != message:
                record.msg = cleaned
                record.args = None
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Attach the filter to uvicorn's and our loggers and to their handlers (idempotent)."""
    for name in (*LOGGERS, ""):  # "": the root's handlers see what children propagate
        logger = logging.getLogger(name or None)
        if name and _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
