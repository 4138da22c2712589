"""Security headers on every response (issue 18).

`X-Content-Type-Options: nosniff` everywhere; `Cache-Control: no-store` on `/api/` answers
to requests that carry credentials (a bearer token or an access code), unless the route set
its own caching (status reads with ETag); HSTS when `EAKTE_HSTS_SECONDS` is set (only behind
TLS, see docs/operations.md).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeadersMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers") or [])
        credentials = b"authorization" in request_headers or b"x-access-code" in request_headers
        api = scope["path"].startswith("/api/")

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if api:
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Referrer-Policy", "no-referrer")
                    if credentials:
                        headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, _send)
