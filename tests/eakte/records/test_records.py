"""Closing, file plan, retention, legal hold and refusal of deletes (issue 15)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
import sqlalchemy as sa

from eakte.auth.principal import Principal, Role
from eakte.db import Database, database_urls
from eakte.records import service
from eakte.records.retention import retention_ends, retention_over
from support import TENANT_A, TENANT_B, TINY_PDF

PROBLEM = "urn:eakte:problem:"
ADMIN = Principal(sub="admin@augsburg", tenant=TENANT_A, roles=frozenset({Role.admin}), name="A")


def test_retention_counts_from_the_end_of_the_closing_year() -> None:
    # StMI/opengever rule (DOMAIN.md): closed 03.01.2013 + 10 years → eligible 01.01.2024
    assert retention_ends(date(2013, 1, 3), 10) == date(2024, 1, 1)
    assert retention_ends(date(2013, 12, 31), 10) == date(2024, 1, 1)
    assert not retention_over(date(2013, 1, 3), 10, date(2023, 12, 31))
    assert retention_over(date(2013, 1, 3), 10, date(2024, 1, 1))


async def test_only_an_ended_procedure_can_be_closed(
    client: httpx.AsyncClient, auth, new_case, ended_case
) -> None:
    running = await new_case()
    refused = await client.post(
        f"/api/v1/cases/{running['id']}/record/closing", json={}, headers=auth("clerk")
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEM + "procedure-not-ended"
    case = await ended_case()
    closed = await client.post(
        f"/api/v1/cases/{case['id']}/record/closing",
        json={"file_plan_code": "632.2"},
        headers=auth("clerk"),
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["closed"] is True and body["closed_by"].startswith("clerk-")
    assert body["file_plan_code"] == "632.2" and body["retention_years"] == 10
    closed_year = datetime.fromisoformat(body["closed_at"]).year
    assert body["retention_until"] == f"{closed_year + 11}-01-01"
    again = await client.post(
        f"/api/v1/cases/{case['id']}/record/closing", json={}, headers=auth("clerk")
    )
    assert again.json()["type"] == PROBLEM + "case-closed"


async def test_a_closed_case_is_read_only_until_reopened_with_a_reason(
    client: httpx.AsyncClient, app, auth, ended_case
) -> None:
    store = app.state.store
    case = await ended_case()
    url = f"/api/v1/cases/{case['id']}"
    doc = await client.post(
        url + "/documents",
        data={"title": "Lageplan", "kind": "lageplan"},
        files={"file": ("plan.pdf", TINY_PDF, "application/pdf")},
        headers=auth("clerk"),
    )
    assert doc.status_code == 201
    await client.post(url + "/record/closing", json={}, headers=auth("clerk"))
    keys_before = sorted(e.key for e in store.iter_keys())

    etag = (await client.get(url, headers=auth("clerk"))).headers["ETag"]
    patch = await client.patch(
        url, json={"title": "geändert"}, headers=auth("clerk") | {"If-Match": etag}
    )
    upload = await client.post(
        url + "/documents",
        data={"title": "Nachtrag", "kind": "lageplan"},
        files={"file": ("n.pdf", TINY_PDF, "application/pdf")},
        headers=auth("clerk"),
    )
    version = await client.post(
        f"{url}/documents/{doc.json()['id']}/versions",
        files={"file": ("n.pdf", TINY_PDF, "application/pdf")},
        headers=auth("clerk"),
    )
    withdraw = await client.post(
        f"{url}/documents/{doc.json()['id']}/withdrawal",
        json={"reason": "falsch"},
        headers=auth("clerk"),
    )
    for response in (patch, upload, version, withdraw):
        assert response.status_code == 409, response.text
        assert response.json()["type"] == PROBLEM + "case-closed"
        assert "abgeschlossen" in response.json()["detail"]
    assert sorted(e.key for e in store.iter_keys()) == keys_before  # the refused upload left none
    assert (await client.get(url, headers=auth("clerk"))).json()["title"] == case["title"]

    no_reason = await client.post(url + "/record/reopening", json={}, headers=auth("clerk"))
    assert no_reason.status_code == 422
    reopened = await client.post(
        url + "/record/reopening", json={"reason": "Nachtrag zur Akte"}, headers=auth("clerk")
    )
    assert reopened.status_code == 200 and reopened.json()["closed"] is False
    history = (await client.get(url + "/history", headers=auth("auditor"))).json()["items"]
    events = {e["action"]: e["details"] for e in history}
    assert events["case.reopened"]["reason"] == "Nachtrag zur Akte"
    assert "case.closed" in events
    etag = (await client.get(url, headers=auth("clerk"))).headers["ETag"]
    ok = await client.patch(
        url, json={"title": "geändert"}, headers=auth("clerk") | {"If-Match": etag}
    )
    assert ok.status_code == 200


async def test_delete_of_a_case_a_document_or_a_version_is_refused(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    case = await new_case()
    url = f"/api/v1/cases/{case['id']}"
    doc = (
        await client.post(
            url + "/documents",
            data={"title": "Lageplan", "kind": "lageplan"},
            files={"file": ("plan.pdf", TINY_PDF, "application/pdf")},
            headers=auth("clerk"),
        )
    ).json()
    for target in (url, f"{url}/documents/{doc['id']}", f"{url}/documents/{doc['id']}/versions/1"):
        response = await client.delete(target, headers=auth("clerk", "admin"))
        assert response.status_code == 409, target
        assert response.json()["type"] == PROBLEM + "deletion-refused"
        assert "Aussonderung" in response.json()["detail"]
    assert (await client.get(url, headers=auth("clerk"))).status_code == 200
    listed = await client.get(url + "/documents", headers=auth("clerk"))
    assert [d["id"] for d in listed.json()["items"]] == [doc["id"]]


async def test_the_schema_has_no_cascading_deletes(settings) -> None:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(database_urls(settings.resolved_database_url()).sync_url)
    try:
        inspector = sa.inspect(engine)
        cascades = [
            (table, fk["name"])
            for table in inspector.get_table_names()
            for fk in inspector.get_foreign_keys(table)
            if (fk.get("options") or {}).get("ondelete")
        ]
    finally:
        engine.dispose()
    assert cascades == []


async def test_file_plan_has_defaults_a_city_can_change(
    client: httpx.AsyncClient, auth, ended_case
) -> None:
    plan = (await client.get("/api/v1/records/file-plan", headers=auth("clerk"))).json()["items"]
    codes = {e["code"]: e for e in plan}
    assert codes["632.1"]["is_default"] and codes["632.1"]["retention_years"] == 30
    body = {"title": "Bauanträge erledigt", "retention_years": 15, "archival_value": "anbieten"}
    refused = await client.put("/api/v1/records/file-plan/632.2", json=body, headers=auth("clerk"))
    assert refused.status_code == 403
    bad = await client.put(
        "/api/v1/records/file-plan/632.2",
        json=body | {"archival_value": "vielleicht"},
        headers=auth("admin"),
    )
    assert bad.status_code == 422
    changed = await client.put("/api/v1/records/file-plan/632.2", json=body, headers=auth("admin"))
    assert changed.status_code == 200 and changed.json()["retention_years"] == 15
    other = await client.get("/api/v1/records/file-plan", headers=auth("clerk", tenant=TENANT_B))
    assert {e["code"]: e for e in other.json()["items"]}["632.2"]["retention_years"] == 10
    case = await ended_case()
    unknown = await client.post(
        f"/api/v1/cases/{case['id']}/record/closing",
        json={"file_plan_code": "999"},
        headers=auth("clerk"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["type"] == PROBLEM + "file-plan-code-unknown"
    closed = await client.post(
        f"/api/v1/cases/{case['id']}/record/closing",
        json={"file_plan_code": "632.2"},
        headers=auth("clerk"),
    )
    assert closed.json()["retention_years"] == 15


async def _close_on(db: Database, case_id: str, when: datetime, code: str = "632.2") -> None:
    async with db.session() as session:
        await service.close_case(session, ADMIN, uuid.UUID(case_id), file_plan_code=code, now=when)


async def _due(db: Database, today: date) -> list[str]:
    async with db.session() as session:
        return [str(c.id) for c, _, _ in await service.due_for_offer(session, TENANT_A, today)]


async def test_closed_in_january_is_due_only_after_its_retention_year(db, ended_case) -> None:  # type: ignore[no-untyped-def]
    case = await ended_case()
    await _close_on(db, str(case["id"]), datetime(2013, 1, 3, 9, 0, tzinfo=UTC))
    assert await _due(db, date(2023, 12, 31)) == []
    assert await _due(db, date(2024, 1, 1)) == [case["id"]]


async def test_legal_hold_blocks_the_offer_until_lifted(
    client: httpx.AsyncClient, auth, db, ended_case
) -> None:
    case = await ended_case()
    await _close_on(db, str(case["id"]), datetime(2010, 6, 1, tzinfo=UTC))
    url = f"/api/v1/cases/{case['id']}/record/legal-hold"
    clerk = await client.post(url, json={"reason": "Klage"}, headers=auth("clerk"))
    assert clerk.status_code == 403
    held = await client.post(url, json={"reason": "Klage VG Augsburg"}, headers=auth("admin"))
    assert held.status_code == 200 and held.json()["legal_hold"]["reason"] == "Klage VG Augsburg"
    twice = await client.post(url, json={"reason": "nochmal"}, headers=auth("admin"))
    assert twice.json()["type"] == PROBLEM + "legal-hold-conflict"
    assert await _due(db, date(2030, 1, 1)) == []
    lifted = await client.post(
        url + "/lifting", json={"reason": "Verfahren rechtskräftig beendet"}, headers=auth("admin")
    )
    assert lifted.status_code == 200 and lifted.json()["legal_hold"] is None
    assert await _due(db, date(2030, 1, 1)) == [case["id"]]


@pytest.mark.parametrize(
    "path", ["/record", "/record/closing", "/record/legal-hold", "/record/reopening"]
)
async def test_records_routes_hide_other_tenants_cases(
    client: httpx.AsyncClient, auth, ended_case, path: str
) -> None:
    case = await ended_case(tenant=TENANT_B)
    method = "GET" if path == "/record" else "POST"
    response = await client.request(
        method,
        f"/api/v1/cases/{case['id']}{path}",
        json=None if method == "GET" else {} if path.endswith("closing") else {"reason": "fremd"},
        headers=auth("clerk", "admin"),
    )
    assert response.status_code == 404
    assert response.json()["type"] == PROBLEM + "case-not-found"
