"""What an operator sees: readiness checks, request ids, log lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from eakte.app import create_app
from eakte.config import Settings
from eakte.db import database_urls
from eakte.logging import JsonFormatter, RequestIdMiddleware, TextFormatter, configure
from support import free_port


async def _get(settings: Settings, path: str, **kwargs: object) -> httpx.Response:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(path, **kwargs)  # type: ignore[arg-type]
    await app.state.db.dispose()
    return response


async def test_readyz_lists_every_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "object_store": "ok"}


async def test_readyz_503_when_schema_is_behind_the_code(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(database_urls(settings.resolved_database_url()).sync_url)
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
    try:
        response = await _get(settings, "/readyz")
    finally:
        with engine.begin() as conn:  # back to the head it was at, whatever that is
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["type"] == "urn:eakte:problem:service-unavailable"
    assert "run `eakte migrate`" in body["checks"]["database"]
    assert body["checks"]["object_store"] == "ok"


async def test_readyz_503_when_object_directory_is_gone(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    """An unmounted volume: the directory the store was built on disappears."""
    import shutil

    app = create_app(settings)
    shutil.rmtree(settings.data_dir / "objects")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.db.dispose()
    assert response.status_code == 503
    assert "missing or not writable" in response.json()["checks"]["object_store"]


async def test_readyz_503_when_redis_is_configured_but_down(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    response = await _get(down, "/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"].startswith("failed") and checks["database"] == "ok"


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    # a header that would forge log lines is replaced, not echoed
    for evil in ("x level=error forged", "y" * 500, "caf\xe9".encode("latin-1")):
        response = await client.get("/healthz", headers={"X-Request-ID": evil})  # type: ignore[dict-item]
        assert len(response.headers["x-request-id"]) == 32
    problem = await client.get("/api/v1/me", headers={"X-Request-ID": "r-401"})
    assert problem.status_code == 401 and problem.headers["x-request-id"] == "r-401"


async def test_log_lines_carry_timestamp_level_logger_and_request_id(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    configure(Settings(env="dev", data_dir=tmp_path, log_format="json", log_level="info"))
    logger = logging.getLogger("eakte.test")

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        logger.info("inside the request", extra={"file_number": "BA-2026-00001"})
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=RequestIdMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/", headers={"X-Request-ID": "req-42"})
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
    entry = next(e for e in lines if e["message"] == "inside the request")
    assert entry["level"] == "info" and entry["logger"] == "eakte.test"
    assert entry["request_id"] == "req-42" and entry["file_number"] == "BA-2026-00001"
    assert entry["ts"].endswith("+00:00")


def test_text_format_has_a_utc_timestamp() -> None:
    record = logging.makeLogRecord(
        {"name": "eakte.process", "levelname": "INFO", "msg": "tick", "request_id": None}
    )
    line = TextFormatter().format(record)
    assert line.split(" ")[0].endswith("Z") and " INFO    eakte.process tick" in line
    assert json.loads(JsonFormatter().format(record))["logger"] == "eakte.process"


async def test_metrics_include_process_python_pool_and_collab_gauges(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/metrics")).text
    for name in (
        "process_resident_memory_bytes",
        "python_info",
        "python_gc_collections_total",
        "eakte_db_pool_checked_out",
        "eakte_collab_rooms 0.0",
        "eakte_collab_connections 0.0",
    ):
        assert name in body, name
