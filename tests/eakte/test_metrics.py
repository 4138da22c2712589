"""What an operator sees on /metrics of the background work (issue 19): uploads in flight and
bytes written, ticker runs, object-store errors (co-editing: tests/eakte/collab)."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest

from eakte.db import Database
from eakte.documents.store import CountingStore
from eakte.metrics import Metrics
from eakte.process.ticker import TickReport, run_periodically
from storage import FilesystemStore, ObjectNotFound
from support import metric_value, png_image


async def test_uploads_count_bytes_written_and_none_in_flight_after(
    client: httpx.AsyncClient, auth: Any, new_case: Any
) -> None:
    case = await new_case()
    image = png_image()
    written = "eakte_object_store_bytes_written_total"
    before = metric_value((await client.get("/metrics")).text, written)
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        files={"file": ("lageplan.png", image, "image/png")},
        data={"title": "Lageplan", "kind": "lageplan"},
        headers=auth("clerk"),
    )
    assert response.status_code == 201, response.text
    body = (await client.get("/metrics")).text
    assert metric_value(body, written) - before == len(image)
    assert metric_value(body, "eakte_uploads_in_flight") == 0.0
    assert "eakte_object_store_errors_total{" not in body


def test_object_store_failures_are_counted_and_missing_objects_are_not(tmp_path: Path) -> None:
    metrics = Metrics()
    inner = FilesystemStore(tmp_path / "broken")
    shutil.rmtree(inner.root)  # the volume went away under the running service
    (tmp_path / "broken").write_text("a file where the store's directory should be")
    store = CountingStore(
        inner,
        on_error=lambda operation, error: metrics.store_errors.labels(operation, error).inc(),
        on_written=metrics.store_bytes_written.inc,
    )
    with pytest.raises(OSError):
        store.put("a/b", io.BytesIO(b"x"), 1, "text/plain")
    healthy = CountingStore(
        FilesystemStore(tmp_path / "objects"),
        on_error=lambda operation, error: metrics.store_errors.labels(operation, error).inc(),
        on_written=metrics.store_bytes_written.inc,
    )
    with pytest.raises(ObjectNotFound):
        healthy.head("missing/key")
    body = generate_latest(metrics.registry).decode()
    errors = re.findall(r'^eakte_object_store_errors_total\{(.*)\} (\S+)$', body, re.M)
    assert len(errors) == 1 and 'operation="put"' in errors[0][0] and float(errors[0][1]) == 1
    assert metric_value(body, "eakte_object_store_bytes_written_total") == 0


async def test_ticker_runs_are_counted(settings: Any) -> None:
    metrics = Metrics()
    reports: list[TickReport | None] = []

    def seen(report: TickReport | None) -> None:
        metrics.ticked(report)
        reports.append(report)

    db = Database(settings.resolved_database_url())
    task = asyncio.create_task(run_periodically(db, 0.01, seen))
    try:
        while len(reports) < 2:  # two runs of the real loop (bounded by the test timeout)
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db.dispose()
    body = generate_latest(metrics.registry).decode()
    assert metric_value(body, 'eakte_ticker_runs_total{outcome="ok"}') >= 2
    assert "eakte_ticker_events_total{" not in body  # nothing was due
