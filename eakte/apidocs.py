"""`/docs` and `/redoc` from bundled assets under a strict CSP.

FastAPI's default pages load Swagger UI and ReDoc from a CDN and run an inline script; here
the pages, their assets and start-up scripts all come from this service, so the
Content-Security-Policy can forbid every other origin and inline scripts. Both come from npm
through `make web` into `eakte/webapp/static/docs/` (committed, like the web app): Swagger UI
5 (`swagger-ui-dist`; the 4.x of PyPI's `swagger-ui-bundle` cannot read the OpenAPI 3.1 that
FastAPI writes, so `/docs` showed only "does not specify a valid version field") and ReDoc
(`redoc`, bundled with its React runtime). ReDoc's search is off: it
would need a `blob:` worker. `EAKTE_DOCS_ENABLED=false` removes `/docs`, `/redoc` and
`/openapi.json`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from eakte.errors import NotFound

ASSETS = Path(__file__).parent / "webapp" / "static" / "docs"
SERVED = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "swagger-ui.LICENSE.txt"}
)
REDOC_SERVED = frozenset({"redoc.js", "redoc.js.LEGAL.txt"})
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>E-Akte Bau – API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""
_REDOC_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>E-Akte Bau – API (ReDoc)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="redoc"></div><script src="/redoc/assets/redoc.js"></script></body></html>
"""
_INIT = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, presets: [SwaggerUIBundle.presets.apis]});
"""


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["X-Frame-Options"] = "DENY"
    return response


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` and `/redoc`, their start-up scripts and bundled assets."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return _secure(HTMLResponse(_PAGE))

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return _secure(Response(_INIT, media_type="text/javascript"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        return _secure(HTMLResponse(_REDOC_PAGE))

    @app.get("/redoc/assets/{name}", include_in_schema=False)
    async def redoc_asset(name: str) -> Response:
        path = ASSETS / name
        if name not in REDOC_SERVED or not path.is_file():
            raise NotFound("no such asset; run `make web`")
        response = FileResponse(
            path, media_type="text/javascript" if name.endswith(".js") else None
        )
        response.headers["Cache-Control"] = "public, max-age=86400"
        return _secure(response)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        if name not in SERVED or not (ASSETS / name).is_file():
            raise NotFound("no such asset; run `make web`")
        response = FileResponse(ASSETS / name)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return _secure(response)
