"""Serve the built web app under `/app/`, its config, and the dev-only sign-in."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from eakte.auth.tokens import issue_token
from eakte.config import Settings
from eakte.deps import get_app_settings
from eakte.errors import NotFound
from eakte.openapi import problems
from eakte.tenants.service import DEMO_TENANTS, DEMO_USERS

STATIC_DIR = Path(__file__).parent / "static"
ASSET_CACHE = "public, max-age=31536000, immutable"
INDEX_CACHE = "no-cache"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_ASSET = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
# Applicants use their own API; the workspace is for officials.
DEV_LOGIN_USERS = tuple(u for u in DEMO_USERS if "applicant" not in u.roles)

SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def dev_login_enabled(settings: Settings) -> bool:
    """Demo sign-in only in explicit dev mode and never next to a real identity provider."""
    return settings.dev_mode and not settings.oidc_enabled


def _loopback_client(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def content_security_policy(request: Request, settings: Settings) -> str:
    """Scripts, fonts, images and connections only from this origin (plus its ws/wss).

    Styles also allow inline: CodeMirror sets style attributes for its layout and the remote
    cursors. With OIDC the issuer's origin is allowed for discovery and the token exchange.
    """
    connect = ["'self'"]
    host = request.headers.get("host", "")
    if _HOST.match(host):
        connect += [f"ws://{host}", f"wss://{host}"]
    if settings.oidc_issuer:
        issuer = urlparse(settings.oidc_issuer)
        if issuer.scheme in {"http", "https"} and issuer.netloc:
            connect.append(f"{issuer.scheme}://{issuer.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            # the signing preview shows a PDF the page fetched itself (issue 13)
            "frame-src blob:",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _secure(response: Response, request: Request, settings: Settings) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy(request, settings)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _index(request: Request, settings: Settings) -> Response:
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise NotFound("the web app is not built; run `make web`")
    response = FileResponse(index, media_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = INDEX_CACHE
    return _secure(response, request, settings)


class DemoUserRead(BaseModel):
    """A demo account offered by the dev sign-in."""

    tenant: str
    tenant_name: str
    user: str
    name: str
    roles: list[str]


class OidcConfig(BaseModel):
    """What the browser needs for the authorization-code flow with PKCE."""

    issuer: str
    client_id: str
    scope: str


class AppConfig(BaseModel):
    """How the web app signs in."""

    env: str
    dev_login: bool
    demo_users: list[DemoUserRead]
    oidc: OidcConfig | None


class DevLogin(BaseModel):
    """Sign in as one of the demo users (dev mode only)."""

    model_config = ConfigDict(extra="forbid")

    tenant: str
    user: str


class DevLoginResult(BaseModel):
    """A bearer token for the demo user."""

    token: str
    expires_in: int
    tenant: str
    sub: str
    name: str
    roles: list[str]


def build_router(settings: Settings) -> APIRouter:
    """The `/app` routes; the dev sign-in exists only in dev mode."""
    router = APIRouter(prefix="/app", tags=["web app"])

    @router.get("", include_in_schema=False)
    async def app_root() -> RedirectResponse:
        return RedirectResponse("/app/", status_code=308)

    @router.get("/config.json", response_model=AppConfig)
    async def app_config(request: Request, settings: SettingsDep) -> Response:
        """Sign-in options for the web app (no secrets)."""
        demo = [
            DemoUserRead(
                tenant=slug, tenant_name=name, user=u.sub, name=u.name, roles=list(u.roles)
            )
            for slug, (name, _) in DEMO_TENANTS.items()
            for u in DEV_LOGIN_USERS
        ]
        oidc = None
        if settings.oidc_issuer and settings.oidc_client_id:
            oidc = OidcConfig(
                issuer=settings.oidc_issuer,
                client_id=settings.oidc_client_id,
                scope=settings.oidc_scope,
            )
        body = AppConfig(
            env=settings.env,
            dev_login=dev_login_enabled(settings),
            demo_users=demo if settings.dev_mode else [],
            oidc=oidc,
        )
        response = Response(body.model_dump_json(), media_type="application/json")
        response.headers["Cache-Control"] = "no-cache"
        return response

    if dev_login_enabled(settings):

        @router.post("/dev-login", response_model=DevLoginResult, responses=problems(404, 413, 422))
        async def dev_login(
            data: DevLogin, request: Request, settings: SettingsDep
        ) -> DevLoginResult:
            """A token for a demo user; only in dev mode, without OIDC, from this machine."""
            if not _loopback_client(request):
                raise NotFound("demo sign-in is only offered to clients on this machine")
            user = next((u for u in DEV_LOGIN_USERS if u.sub == data.user), None)
            if data.tenant not in DEMO_TENANTS or user is None:
                raise NotFound("no such demo user")
            sub = f"{user.sub}@{data.tenant}"
            token = issue_token(
                settings,
                tenant=data.tenant,
                sub=sub,
                roles=list(user.roles),
                name=user.name,
                ttl_seconds=settings.dev_login_ttl_seconds,
            )
            return DevLoginResult(
                token=token,
                expires_in=settings.dev_login_ttl_seconds,
                tenant=data.tenant,
                sub=sub,
                name=user.name,
                roles=list(user.roles),
            )

    @router.api_route("/assets/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    async def asset(name: str, request: Request, settings: SettingsDep) -> Response:
        path = STATIC_DIR / "assets" / name
        if not _ASSET.match(name) or name.startswith(".") or not path.is_file():
            raise NotFound("no such asset")
        response = FileResponse(path)
        response.headers["Cache-Control"] = ASSET_CACHE
        return _secure(response, request, settings)

    @router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index(request: Request, settings: SettingsDep) -> Response:
        return _index(request, settings)

    @router.api_route(
        "/{path:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def spa_fallback(path: str, request: Request, settings: SettingsDep) -> Response:
        """Client-side routes (e.g. `/app/cases/<id>`) load the app; anything else is 404."""
        if request.method not in {"GET", "HEAD"}:
            raise NotFound("no such endpoint")
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            raise NotFound("no such file")
        return _index(request, settings)

    return router
