"""Co-editing on /metrics (issue 19): commits, committed updates, commit latency."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from collab_support import until
from prometheus_client import generate_latest
from pycrdt import Text

from eakte.metrics import Metrics
from support import metric_value


async def test_co_editing_commits_are_counted_with_their_latency(
    live: Any, ycase: Any, yclient: Any
) -> None:
    case_id = await ycase()
    writer = await yclient(live, case_id, "clerk")
    reader = await yclient(live, case_id, "auditor")
    for word in ("Vermerk: ", "Stellplätze ", "geprüft"):
        await writer.edit(lambda d, w=word: d.get("notes", type=Text).insert(0, w))
    await until(lambda: "geprüft" in reader.text())
    async with httpx.AsyncClient(base_url=live.http, timeout=60) as client:
        body = (await client.get("/metrics")).text
    commits = metric_value(body, "eakte_collab_commits_total")
    assert commits >= 1
    assert metric_value(body, "eakte_collab_updates_committed_total") >= 3 >= commits / 3
    assert metric_value(body, "eakte_collab_commit_duration_seconds_count") == commits
    assert metric_value(body, "eakte_collab_connections") == 2.0


def test_commit_latencies_fall_into_prometheus_buckets() -> None:
    """`le` buckets are cumulative and include their bound (as prometheus_client's were)."""
    metrics = Metrics()
    for seconds in (0.001, 0.0011, 0.3, 7.0):
        metrics.committed(2, seconds)
    body = generate_latest(metrics.registry).decode()
    bucket = "eakte_collab_commit_duration_seconds_bucket"
    assert metric_value(body, bucket + '{le="0.001"}') == 1
    assert metric_value(body, bucket + '{le="0.002"}') == 2
    assert metric_value(body, bucket + '{le="0.5"}') == 3
    assert metric_value(body, bucket + '{le="2.5"}') == 3
    assert metric_value(body, bucket + '{le="+Inf"}') == 4
    assert metric_value(body, "eakte_collab_commit_duration_seconds_count") == 4
    assert metric_value(body, "eakte_collab_commit_duration_seconds_sum") == pytest.approx(7.3021)
    assert metric_value(body, "eakte_collab_commits_total") == 4
    assert metric_value(body, "eakte_collab_updates_committed_total") == 8
