"""Application factory and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from eakte import __version__, readiness
from eakte.apidocs import install_docs
from eakte.applicants.ratelimit import build_limiter
from eakte.applicants.router import router as applicants_router
from eakte.applicants.service import StatusCache
from eakte.audit.checkpoints import build_signer, build_witness
from eakte.audit.checkpoints import run_periodically as run_checkpoints
from eakte.audit.router import router as audit_router
from eakte.auth.router import router as auth_router
from eakte.auth.tokens import TokenVerifier
from eakte.cases.router import router as cases_router
from eakte.collab import redact as collab_redact
from eakte.collab.hub import CollabHub
from eakte.collab.router import router as collab_router
from eakte.config import Settings, get_settings
from eakte.db import Database
from eakte.documents.capacity import UploadCapacity
from eakte.documents.link_routes import fallback_router as download_fallback_router
from eakte.documents.link_routes import router as download_links_router
from eakte.documents.linking import LinkIssuer
from eakte.documents.router import kinds_router as document_kinds_router
from eakte.documents.router import router as documents_router
from eakte.documents.store import CountingStore, build_store
from eakte.documents.streaming import UploadPace
from eakte.errors import (
    ServiceUnavailable,
    error_response,
    install_error_handlers,
    request_language,
)
from eakte.headers import SecurityHeadersMiddleware
from eakte.issuing.router import router as issuing_router
from eakte.limits import RequestLimitMiddleware
from eakte.logging import RequestIdMiddleware
from eakte.metrics import Metrics, MetricsMiddleware, check_metrics_access
from eakte.notifications.router import router as notifications_router
from eakte.openapi import install_generic_problems, problems
from eakte.outbox.metrics import OutboxGauges
from eakte.outbox.router import router as outbox_router
from eakte.outbox.worker import Worker as OutboxWorker
from eakte.postroom.router import router as postroom_router
from eakte.process.router import router as process_router
from eakte.process.ticker import run_periodically
from eakte.records.endpoint_router import router as archive_endpoint_router
from eakte.records.offers_router import router as offers_router
from eakte.records.router import router as records_router
from eakte.search import worker as search_worker
from eakte.search.router import router as search_router
from eakte.tenants.router import router as tenants_router
from eakte.tenants.service import TenantDirectory
from eakte.webapp.router import build_router as build_webapp_router
from eakte.work.router import router as work_router
from eakte.xbau.router import case_router as xbau_case_router
from eakte.xbau.router import router as xbau_router

log = logging.getLogger("eakte")

READY_TIMEOUT_SECONDS = 3.0
DEV_MODE_BANNER = (
    "DEVELOPMENT MODE (EAKTE_ENV=dev): generated secrets, demo seeding and demo sign-in are "
    "enabled. Never expose this process to a network; unset EAKTE_ENV for production."
)


def _watch_state(
    metrics: Metrics, db: Database, collab: CollabHub, uploads: UploadCapacity
) -> None:
    """Gauges read at scrape time (issue 19)."""
    pool = db.engine.pool
    metrics.watch(
        "eakte_db_pool_checked_out",
        "Database connections in use",
        lambda: float(getattr(pool, "checkedout", lambda: 0)()),
    )
    metrics.watch("eakte_uploads_in_flight", "Uploads being received now", lambda: uploads.running)
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
        if settings.dev_mode:
            log.warning(DEV_MODE_BANNER)
        ticker = None
        if settings.tick_interval_seconds > 0:
            ticker = asyncio.create_task(
                run_periodically(
                    db,
                    settings.tick_interval_seconds,
                    app.state.metrics.ticked,
                    store=app.state.store,
                )
            )
        checkpoints = None
        if settings.audit_checkpoint_interval_seconds > 0:
            checkpoints = asyncio.create_task(
                run_checkpoints(
                    db,
                    build_signer(settings, create=True),
                    build_witness(settings, app.state.store),
                    settings.audit_checkpoint_interval_seconds,
                )
            )
        collab_redact.install()
        await app.state.collab.start()
        try:
            async with (
                search_worker.running(db, app.state.store, settings),
                anyio.create_task_group() as background,  # issue 13: outbox delivery
            ):
                if settings.outbox_worker:
                    background.start_soon(app.state.outbox_worker.run)
                try:
                    yield
                finally:
                    background.cancel_scope.cancel()
        finally:
            await app.state.collab.stop()
            for task in (ticker, checkpoints):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await db.dispose()

    app = FastAPI(
        title="E-Akte Bau",
        version=__version__,
        description=(
            "Electronic case files for building permits (BayBO) with live co-editing, "
            "documents and procedures. Every error is RFC 9457 problem JSON."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    if settings.docs_enabled:
        install_docs(app)
    app.state.settings = settings
    app.state.db = db
    app.state.tenants = TenantDirectory(db, algorithms=tuple(settings.oidc_algorithms))
    app.state.verifier = TokenVerifier(settings, tenant_issuers=app.state.tenants.issuer)
    app.state.applicant_limiter = build_limiter(settings)
    app.state.submission_limiter = build_limiter(settings, window_seconds=3600)
    app.state.status_cache = StatusCache()
    metrics = Metrics()
    app.state.metrics = metrics
    app.state.store = CountingStore(
        build_store(settings),
        on_error=lambda operation, error: metrics.store_errors.labels(operation, error).inc(),
        on_written=metrics.store_bytes_written.inc,
    )
    app.state.link_issuer = LinkIssuer.from_settings(settings, app.state.store)
    app.state.upload_capacity = UploadCapacity(
        workers=settings.upload_workers,
        per_principal=settings.uploads_per_principal,
        per_address=settings.uploads_per_address,
    )
    app.state.upload_pace = UploadPace(
        idle_seconds=settings.upload_idle_timeout_seconds,
        min_bytes_per_second=settings.upload_min_bytes_per_second,
        grace_seconds=settings.upload_rate_grace_seconds,
    )
    app.state.collab = CollabHub(db, settings)
    app.state.collab.on_commit = metrics.committed
    app.state.outbox_worker = OutboxWorker(db, settings, store=app.state.store)
    outbox_gauges = OutboxGauges(metrics.registry)
    _watch_state(metrics, db, app.state.collab, app.state.upload_capacity)

    install_error_handlers(app)
    install_generic_problems(app)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return error_response(
            ServiceUnavailable("the database is not reachable; retry later"),
            language=request_language(request),
        )

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return error_response(
                ServiceUnavailable("the database connection was lost; retry"),
                language=request_language(request),
            )
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(
            ServiceUnavailable("a database error occurred; retry later"),
            language=request_language(request),
        )

    app.add_middleware(
        RequestLimitMiddleware,
        max_body_bytes=settings.max_json_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)  # outermost: every log line of the request has it

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses=problems(503))
    async def readyz() -> dict[str, object]:
        """Database, schema at the migration head, object store, Redis (if configured) and
        room in the upload pool."""
        if app.state.upload_capacity.saturated:
            raise ServiceUnavailable("every upload worker is busy (upload pool saturated)")
        checks = await readiness.check(
            db=db,
            store=app.state.store,
            redis_url=settings.redis_url,
            timeout=settings.readiness_timeout_seconds,
        )
        failed = {k: v for k, v in checks.items() if v != "ok"}
        if failed:
            raise ServiceUnavailable(
                "not ready: " + "; ".join(f"{k} {v}" for k, v in failed.items()), checks=checks
            )
        return {"status": "ready", "database": db.backend, "checks": checks}

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics_endpoint(request: Request) -> PlainTextResponse:
        """Prometheus text exposition (behind EAKTE_METRICS_TOKEN; off in production without)."""
        check_metrics_access(settings, request.headers.get("authorization"))
        with contextlib.suppress(OperationalError, DBAPIError, OSError):
            await outbox_gauges.refresh(db)
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(auth_router)
    app.include_router(cases_router)
    app.include_router(audit_router)
    app.include_router(process_router)
    app.include_router(postroom_router)
    app.include_router(applicants_router)
    app.include_router(download_links_router)
    app.include_router(documents_router)
    app.include_router(download_fallback_router)
    app.include_router(document_kinds_router)
    app.include_router(collab_router)
    app.include_router(xbau_router)
    app.include_router(xbau_case_router)
    app.include_router(records_router)
    app.include_router(offers_router)
    app.include_router(archive_endpoint_router)
    app.include_router(search_router)
    app.include_router(outbox_router)
    app.include_router(issuing_router)
    app.include_router(tenants_router)
    app.include_router(work_router)
    app.include_router(notifications_router)
    app.include_router(build_webapp_router(settings))
    return app
