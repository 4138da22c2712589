"""Accountability: attributed history per user and time window, view, restore, audit chain."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from collab_support import until
from pycrdt import Map, Text


@pytest.fixture
async def http(live) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """HTTP against the same server (and so the same loaded room) as the WebSocket clients."""
    async with httpx.AsyncClient(base_url=live.http, timeout=60) as c:
        yield c


def _set_text(name: str, value: str):  # type: ignore[no-untyped-def]
    def change(doc) -> None:  # type: ignore[no-untyped-def]
        text = doc.get(name, type=Text)
        del text[0 : len(text)]
        if value:
            text.insert(0, value)

    return change


async def _history(client, auth, case_id: str, **params: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = await client.get(
        f"/api/v1/cases/{case_id}/workspace/history", params=params, headers=auth("auditor")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_colleagues_deletion_is_attributed_viewable_and_undone(
    live, http, ycase, yclient, auth
) -> None:
    client = http
    case_id = await ycase()
    alice = await yclient(live, case_id, "clerk", sub="alice@augsburg")
    bob = await yclient(live, case_id, "clerk", sub="bob@augsburg")
    await alice.edit(_set_text("notes", "Vermerk: Abstandsflächen geprüft"))
    await alice.edit(_set_text("decision", "Die Genehmigung wird erteilt."))
    await until(lambda: bob.text("decision") == "Die Genehmigung wird erteilt.")
    entries = await _history(client, auth, case_id)
    alice_entry = [e for e in entries if e["actor"] == "alice@augsburg"][-1]
    # Bob deletes both texts
    await bob.edit(_set_text("notes", ""))
    await bob.edit(_set_text("decision", ""))
    await until(lambda: alice.text() == "" and alice.text("decision") == "")
    entries = await _history(client, auth, case_id, actor="bob@augsburg")
    assert entries and all(e["actor"] == "bob@augsburg" for e in entries)
    bob_entry = entries[-1]
    assert len(bob_entry["sha256"]) == 64
    view = await client.get(
        f"/api/v1/cases/{case_id}/workspace/history/{bob_entry['id']}", headers=auth("auditor")
    )
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["before"]["notes"] == "Vermerk: Abstandsflächen geprüft"
    assert body["after"]["notes"] == "" and body["after"]["decision"] == ""
    # Alice restores the point after her own edits (a new edit, attributed to her)
    restored = await client.post(
        f"/api/v1/cases/{case_id}/workspace/history/{alice_entry['id']}/restore",
        headers=auth("clerk", sub="alice@augsburg"),
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["changed"] is True
    await until(lambda: bob.text() == "Vermerk: Abstandsflächen geprüft", what="restored for all")
    assert bob.text("decision") == "Die Genehmigung wird erteilt."
    # the restore is itself in the history, by Alice, after Bob's deletion
    latest = (await _history(client, auth, case_id))[-1]
    assert latest["actor"] == "alice@augsburg" and latest["first_seq"] > bob_entry["last_seq"]
    # and the audit chain holds one workspace.edited per user and window, with the hash
    audit = await client.get(f"/api/v1/cases/{case_id}/history", headers=auth("auditor"))
    events = audit.json()["items"]
    edited = [e for e in events if e["action"] == "workspace.edited"]
    assert {e["actor"] for e in edited} >= {"alice@augsburg", "bob@augsburg"}
    assert bob_entry["sha256"] in {e["details"]["sha256"] for e in edited}
    assert any(e["action"] == "workspace.restored" for e in events)
    verify = await client.get("/api/v1/audit/verify", headers=auth("auditor"))
    assert verify.json()["valid"] is True, verify.text


async def test_history_survives_compaction(
    live_with, collab_settings, ycase, yclient, auth
) -> None:
    server = await live_with(collab_settings, collab_compact_every_updates=3)
    client = httpx.AsyncClient(base_url=server.http, timeout=60)
    case_id = await ycase()
    alice = await yclient(server, case_id, "clerk", sub="alice@augsburg")
    bob = await yclient(server, case_id, "clerk", sub="bob@augsburg")
    for i in range(10):
        await alice.edit(lambda d, i=i: d.get("notes", type=Text).insert(0, f"a{i} "))
        await bob.edit(lambda d, i=i: d.get("decision", type=Text).insert(0, f"b{i} "))
    await until(lambda: alice.text("decision").count("b") == 10 and bob.text().count("a") == 10)
    hub = server.server.config.app.state.collab
    room = next(iter(hub.rooms.values()))
    await room.settle()
    await room.compact()
    entries = await _history(client, auth, case_id)
    actors = {e["actor"] for e in entries}
    assert {"alice@augsburg", "bob@augsburg"} <= actors
    updates = {a: sum(e["updates"] for e in entries if e["actor"] == a) for a in actors}
    assert updates["alice@augsburg"] >= 1 and updates["bob@augsburg"] >= 1
    assert max(e["last_seq"] for e in entries) == room.last_seq  # nothing unaccounted for
    await client.aclose()


async def test_restore_a_named_version(live, http, ycase, yclient, auth) -> None:
    client = http
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(_set_text("notes", "Stand A"))
    version = await client.post(
        f"/api/v1/cases/{case_id}/workspace/versions", json={"name": "A"}, headers=auth("clerk")
    )
    assert version.status_code == 201, version.text
    await clerk.edit(_set_text("notes", "Stand B"))
    await clerk.edit(lambda d: d.get("fields", type=Map).__setitem__("title", "Neuer Titel"))
    response = await client.post(
        f"/api/v1/cases/{case_id}/workspace/versions/{version.json()['id']}/restore",
        headers=auth("clerk"),
    )
    assert response.status_code == 200, response.text
    await until(lambda: clerk.text() == "Stand A", what="version restored")
    assert clerk.fields()["title"] != "Neuer Titel"


async def test_history_bad_input_and_rights(live, http, ycase, auth) -> None:
    client = http
    case_id = await ycase()
    missing = uuid.uuid4()
    response = await client.get(
        f"/api/v1/cases/{case_id}/workspace/history/{missing}", headers=auth("auditor")
    )
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:workspace-history-not-found"
    assert "Verlauf" in response.json()["detail"] and "history" in response.json()["detail"]
    response = await client.post(
        f"/api/v1/cases/{case_id}/workspace/versions/{missing}/restore", headers=auth("clerk")
    )
    assert response.status_code == 404
    entries = await _history(client, auth, case_id)
    response = await client.post(
        f"/api/v1/cases/{case_id}/workspace/history/{entries[0]['id']}/restore",
        headers=auth("auditor"),
    )
    assert response.status_code == 403
    response = await client.get(
        f"/api/v1/cases/{case_id}/workspace/history",
        params={"since": "gestern"},
        headers=auth("auditor"),
    )
    assert response.status_code == 422
    response = await client.get(
        f"/api/v1/cases/{case_id}/workspace/history/not-a-uuid", headers=auth("auditor")
    )
    assert response.status_code == 422
