"""What the service shows to anyone (issue 18): /metrics, /docs and response headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from eakte.app import create_app
from eakte.config import Settings

METRICS_TOKEN = "mT7-qZ2_vL9xR4kW8pN3sB6hY1cF5jD0aG"


@asynccontextmanager
async def _client(settings: Settings, **update: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=update))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client
    await app.state.db.dispose()


async def test_metrics_are_not_public_in_production(settings: Settings, db: object) -> None:
    async with _client(settings, env="production") as client:
        assert (await client.get("/metrics")).status_code == 404
    async with _client(settings, env="production", metrics_token=METRICS_TOKEN) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert ok.status_code == 200 and "eakte_http_requests" in ok.text


async def test_docs_come_from_this_service_under_a_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "cdn" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids them
    for src in (
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/init.js",
    ):
        assert src in page.text
        asset = await client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 20
    assert (await client.get("/docs/assets/index.html")).status_code == 404


async def test_redoc_comes_from_this_service_under_a_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    """Issue 16: /redoc too is bundled (npm `redoc`, built by `make web`), no CDN."""
    page = await client.get("/redoc")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "https://" not in page.text and "<script>" not in page.text
    assert '<script src="/redoc/assets/redoc.js">' in page.text
    asset = await client.get("/redoc/assets/redoc.js")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
    # the one remote URL in the bundle (Redocly's logo) is blocked by img-src 'self' data:
    assert b"/openapi.json" in asset.content and "img-src 'self' data:;" in csp
    assert (await client.get("/redoc/assets/..%2Fapp.py")).status_code == 404
    assert (await client.get("/redoc/assets/index.html")).status_code == 404


async def test_docs_can_be_switched_off(settings: Settings, db: object) -> None:
    async with _client(settings, docs_enabled=False) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404


async def test_authenticated_api_answers_are_not_cached_or_sniffed(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    me = await client.get("/api/v1/me", headers=auth("clerk"))
    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    assert me.headers["x-content-type-options"] == "nosniff"
    refused = await client.get("/api/v1/cases")
    assert refused.headers["x-content-type-options"] == "nosniff"


async def test_hsts_when_configured(settings: Settings, db: object) -> None:
    async with _client(settings, hsts_seconds=31536000) as client:
        response = await client.get("/healthz")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
