"""Co-editing on /metrics (issue 19): commits, committed updates, commit latency."""

from __future__ import annotations

from typing import Any

import httpx
from collab_support import until
from pycrdt import Text

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
