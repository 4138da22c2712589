"""Application factory and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from eakte import __version__, readiness
from eakte.applicants.ratelimit import build_limiter
from eakte.applicants.router import router as applicants_router
from eakte.applicants.service import StatusCache
from eakte.audit.router import router as audit_router
from eakte.auth.router import router as auth_router
from eakte.auth.tokens import TokenVerifier
from eakte.cases.router import router as cases_router
from eakte.collab import redact as collab_redact
from eakte.collab.hub import CollabHub
from eakte.collab.router import router as collab_router
from eakte.config import Settings, get_settings
from eakte.db import Database
from eakte.documents.router import kinds_router as document_kinds_router
from eakte.documents.router import router as documents_router
from eakte.documents.store import build_store
from eakte.errors import ServiceUnavailable, error_response, install_error_handlers
from eakte.limits import BodyLimitMiddleware
from eakte.logging import RequestIdMiddleware
from eakte.metrics import Metrics, MetricsMiddleware
from eakte.openapi import install_generic_problems, problems
from eakte.process.router import router as process_router
from eakte.process.ticker import run_periodically
from eakte.tenants.router import router as tenants_router
from eakte.tenants.service import TenantDirectory
from eakte.webapp.router import build_router as build_webapp_router

log = logging.getLogger("eakte")


def _watch_state(metrics: Metrics, db: Database, collab: CollabHub) -> None:
    """Gauges read at scrape time (issue 19)."""
    pool = db.engine.pool
    metrics.watch(
        "eakte_db_pool_checked_out",
        "Database connections in use",
        lambda: float(getattr(pool, "checkedout", lambda: 0)()),
    )
    metrics.watch("eakte_collab_rooms", "Co-editing rooms loaded", lambda: len(collab.rooms))
    metrics.watch(
        "eakte_collab_connections",
        "Open co-editing WebSocket connections",
        lambda: sum(len(room.connections) for room in collab.rooms.values()),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    db = Database(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("E-Akte Bau %s starting (%s, %s)", __version__, db.backend, settings.env)
        ticker = None
        if settings.tick_interval_seconds > 0:
            ticker = asyncio.create_task(run_periodically(db, settings.tick_interval_seconds))
        collab_redact.install()
        await app.state.collab.start()
        try:
            yield
        finally:
            await app.state.collab.stop()
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            await db.dispose()

    app = FastAPI(
        title="E-Akte Bau",
        version=__version__,
        description=(
            "Electronic case files for building permits (BayBO) with live co-editing, "
            "documents and procedures. Every error is RFC 9457 problem JSON."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.tenants = TenantDirectory(db, algorithms=tuple(settings.oidc_algorithms))
    app.state.verifier = TokenVerifier(settings, tenant_issuers=app.state.tenants.issuer)
    app.state.applicant_limiter = build_limiter(settings)
    app.state.status_cache = StatusCache()
    app.state.store = build_store(settings)
    app.state.collab = CollabHub(db, settings)
    metrics = Metrics()
    app.state.metrics = metrics
    _watch_state(metrics, db, app.state.collab)

    install_error_handlers(app)
    install_generic_problems(app)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return error_response(ServiceUnavailable("the database is not reachable; retry later"))

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return error_response(ServiceUnavailable("the database connection was lost; retry"))
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(ServiceUnavailable("a database error occurred; retry later"))

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_json_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)  # outermost: every log line of the request has it

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses=problems(503))
    async def readyz() -> dict[str, object]:
        """Database, schema at the migration head, object store and Redis (if configured)."""
        checks = await readiness.check(db=db, store=app.state.store, redis_url=settings.redis_url)
        failed = {k: v for k, v in checks.items() if v != "ok"}
        if failed:
            raise ServiceUnavailable(
                "not ready: " + "; ".join(f"{k} {v}" for k, v in failed.items()), checks=checks
            )
        return {"status": "ready", "database": db.backend, "checks": checks}

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics_endpoint() -> PlainTextResponse:
        """Prometheus text exposition."""
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(auth_router)
    app.include_router(cases_router)
    app.include_router(audit_router)
    app.include_router(process_router)
    app.include_router(applicants_router)
    app.include_router(documents_router)
    app.include_router(document_kinds_router)
    app.include_router(collab_router)
    app.include_router(tenants_router)
    app.include_router(build_webapp_router(settings))
    return app
