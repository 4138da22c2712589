"""Limits every request meets before a route runs (issue 18).

- Header block larger than `max_header_bytes`: 431 (uvicorn's h11 parser also caps it on the
  wire, see `eakte serve`).
- A request body on `/api/` needs a valid bearer token *before* a byte of it is read: no
  token or a bad one is answered 401 at once, so an anonymous client cannot make the process
  buffer or parse anything.
- `%00` anywhere in the URL: 422 (text input is checked by `eakte.textinput`).
- Bodies are capped at `max_body_bytes` whatever their content type; only the upload routes
  (`LARGE_BODY_ROUTES`) take multipart bodies larger than that, and they enforce their own
  limits while streaming.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eakte.errors import (
    DomainError,
    PayloadTooLarge,
    Unauthenticated,
    ValidationFailed,
    error_response,
    scope_language,
)

_UUID = "[0-9a-fA-F-]{36}"
# POST routes that accept multipart/form-data uploads (their own, streaming size limits)
LARGE_BODY_ROUTES = [
    re.compile(rf"^/api/v1/cases/{_UUID}/documents/?$"),
    re.compile(rf"^/api/v1/cases/{_UUID}/documents/{_UUID}/versions/?$"),
    re.compile(r"^/api/v1/authorities/[^/]+/applications/[^/]+/documents/?$"),
    # XBau inbox: the message plus its Anlagen (limits per part in eakte.xbau.inbox)
    re.compile(r"^/api/v1/xbau/inbox/?$"),
]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HeadersTooLarge(DomainError):
    slug, title, status = "headers-too-large", "Request headers too large", 431


class _TooLarge(BaseException):  # noqa: N818
    """Raised inside the body stream; a BaseException so no framework handler swallows it."""


def _accepts_upload(method: str, path: str, content_type: str) -> bool:
    return (
        method == "POST"
        and content_type.startswith("multipart/form-data")
        and any(pattern.match(path) for pattern in LARGE_BODY_ROUTES)
    )


def _has_body(method: str, headers: dict[bytes, bytes]) -> bool:
    declared = headers.get(b"content-length")
    if declared is not None:
        return declared.strip() not in {b"", b"0"}
    return method in BODY_METHODS or b"transfer-encoding" in headers


class RequestLimitMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        size += sum(len(k) + len(v) + 4 for k, v in raw)
        if size > self.max_header_bytes:
            error = HeadersTooLarge(
                f"request line and headers exceed {self.max_header_bytes} bytes"
            )
            await error_response(error, language=scope_language(scope))(scope, receive, send)
            return
        target = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
        if b"%00" in target:  # NUL cannot be stored (PostgreSQL) and has no place in a URL
            error = ValidationFailed("the URL must not contain NUL characters (%00)")
            await error_response(error, language=scope_language(scope))(scope, receive, send)
            return
        headers = dict(raw)
        method: str = scope["method"]
        path: str = scope["path"]
        if path.startswith("/api/") and _has_body(method, headers):
            failure = await self._authenticate(scope, headers)
            if failure is not None:
                await error_response(failure, language=scope_language(scope))(scope, receive, send)
                return
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if _accepts_upload(method, path, content_type):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        seen = 0
        started = False

        async def _receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def _send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, _receive, _send)
        except _TooLarge:
            if not started:
                await self._reject(scope, receive, send)

    async def _authenticate(self, scope: Scope, headers: dict[bytes, bytes]) -> DomainError | None:
        """None if the bearer token verifies, else the error to answer with (401 or 503)."""
        value = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Unauthenticated("missing bearer token (sent before the request body)")
        verifier: Any = scope["app"].state.verifier
        try:
            await verifier.verify(token.strip())
        except DomainError as exc:
            return exc
        return None

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"request body exceeds {self.max_bytes} bytes")
        await error_response(error, language=scope_language(scope))(scope, receive, send)
