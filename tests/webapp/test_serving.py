"""Serving the built web app under /app/: index, assets, SPA fallback, headers, config."""

from __future__ import annotations

import re

import httpx
import pytest

from eakte.webapp.router import STATIC_DIR


def _asset_names() -> list[str]:
    return sorted(p.name for p in (STATIC_DIR / "assets").iterdir())


def test_the_built_bundle_is_committed_and_small() -> None:
    names = _asset_names()
    assert any(n.endswith(".js") for n in names) and any(n.endswith(".css") for n in names)
    # pdf.js (its module and worker, issue 16) loads only with the first document preview
    size = {n: (STATIC_DIR / "assets" / n).stat().st_size for n in names}
    assert sum(v for n, v in size.items() if not n.startswith("pdf-")) < 1_500_000
    pdf = [n for n in names if n.startswith("pdf-")]
    assert len(pdf) == 2 and sum(size[n] for n in pdf) < 2_000_000
    index = (STATIC_DIR / "index.html").read_text()
    for name in re.findall(r'/app/assets/([^"]+)"', index):
        assert name in names


async def test_index_is_served_with_csp_and_no_cache(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "E-Akte Bau" in response.text
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws://testserver wss://testserver"
    assert directives["object-src"] == "'none'"
    assert directives["frame-src"] == "blob:"  # only PDFs the page fetched itself
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in csp and "*" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_head_works_for_monitoring(client: httpx.AsyncClient) -> None:
    for path in ("/app/", "/app/cases/x"):
        response = await client.head(path)
        assert response.status_code == 200 and response.content == b""
    assert (await client.put("/app/cases/x")).status_code == 404


async def test_bare_app_path_redirects(client: httpx.AsyncClient) -> None:
    response = await client.get("/app")
    assert response.status_code == 308 and response.headers["location"] == "/app/"


async def test_assets_are_immutable(client: httpx.AsyncClient) -> None:
    index = (await client.get("/app/")).text
    for path in re.findall(r'"(/app/assets/[^"]+)"', index):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-security-policy" in response.headers
        kind = "javascript" if path.endswith(".js") else "css"
        assert kind in response.headers["content-type"]


@pytest.mark.parametrize(
    "path", ["/app/assets/missing-123.js", "/app/assets/..%2Fconfig.py", "/app/favicon.ico"]
)
async def test_missing_files_are_404_not_the_app(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_client_routes_fall_back_to_the_app(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/cases/6b0f8a52-3f25-4d7a-9b0c-0f3c2b8b1a11")
    assert response.status_code == 200
    assert response.text == (await client.get("/app/")).text
    assert response.headers["cache-control"] == "no-cache"


async def test_api_404s_stay_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
