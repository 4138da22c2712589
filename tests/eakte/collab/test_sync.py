"""Two pycrdt clients over the real y-websocket protocol: sync, durability, HTTP view."""

from __future__ import annotations

import httpx
from collab_support import until
from pycrdt import Array, Map, Text


async def test_two_clients_converge_and_the_log_survives_a_restart(
    live, live_with, collab_settings, ycase, yclient, auth
) -> None:
    case_id = await ycase()
    a = await yclient(live, case_id, "clerk")
    b = await yclient(live, case_id, "approver")
    assert a.fields()["title"] == "Neubau Einfamilienhaus"  # seeded from the case

    await a.edit(lambda d: d.get("notes", type=Text).insert(0, "Vermerk: "))
    await b.edit(lambda d: d.get("decision", type=Text).insert(0, "Genehmigung"))
    await a.edit(
        lambda d: d.get("checklist", type=Array).append(Map({"text": "Lageplan", "done": False}))
    )
    await until(lambda: a.text("decision") == "Genehmigung" and b.text() == "Vermerk: ")
    await until(lambda: len(b.array("checklist")) == 1)
    assert b.doc.get_update() != b""
    await a.close()
    await b.close()
    await live.stop()

    again = await live_with(collab_settings)
    c = await yclient(again, case_id, "auditor")
    assert c.text() == "Vermerk: "
    assert c.text("decision") == "Genehmigung"
    assert c.array("checklist") == [{"text": "Lageplan", "done": False}]

    async with httpx.AsyncClient(base_url=again.http, timeout=60) as http:
        view = await http.get(f"/api/v1/cases/{case_id}/workspace", headers=auth("auditor"))
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["notes"] == "Vermerk: "
    assert body["decision"] == "Genehmigung"
    assert body["checklist"] == [{"text": "Lageplan", "done": False}]
    assert body["fields"]["site_address"].startswith("Maximilianstraße")
    assert body["seq"] >= 2


async def test_updates_are_broadcast_only_after_they_are_in_the_log(live, ycase, yclient) -> None:
    from sqlalchemy import create_engine, select

    from eakte.collab.models import CollabUpdate
    from eakte.db import database_urls

    case_id = await ycase()
    a = await yclient(live, case_id, "clerk")
    b = await yclient(live, case_id, "clerk")
    engine = create_engine(
        database_urls(live.server.config.app.state.settings.resolved_database_url()).sync_url
    )
    seen: list[int] = []

    for i in range(20):
        await a.edit(lambda d, i=i: d.get("notes", type=Text).insert(0, f"{i};"))
    await until(lambda: b.text().count(";") == 20)
    with engine.connect() as conn:
        rows = conn.execute(
            select(CollabUpdate.seq).where(CollabUpdate.case_id == __import__("uuid").UUID(case_id))
        ).all()
        seen = [r[0] for r in rows]
    engine.dispose()
    assert seen == list(range(1, len(seen) + 1))
    assert 2 <= len(seen) <= 21  # seed + group-committed batches
