"""Case files through the HTTP API: create, read, list, search, change, history."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import httpx
import pytest

from support import TENANT_A, TENANT_B, case_payload

YEAR = datetime.now(UTC).year


async def test_create_returns_case_with_file_number(client: httpx.AsyncClient, auth) -> None:
    response = await client.post("/api/v1/cases", json=case_payload(), headers=auth("clerk"))
    assert response.status_code == 201
    body = response.json()
    assert body["file_number"] == f"BA-{YEAR}-00001"
    assert body["state"] == "eingegangen"
    assert body["revision"] == 1
    assert body["tenant"] == TENANT_A
    assert body["site"]["flurstueck"] == "1234/5"
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/api/v1/cases/{body['id']}"
    fetched = await client.get(f"/api/v1/cases/{body['id']}", headers=auth("approver"))
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_file_numbers_are_per_tenant(client: httpx.AsyncClient, new_case) -> None:
    a1 = await new_case()
    a2 = await new_case()
    b1 = await new_case(tenant=TENANT_B)
    assert [a1["file_number"], a2["file_number"], b1["file_number"]] == [
        f"BA-{YEAR}-00001",
        f"BA-{YEAR}-00002",
        f"BA-{YEAR}-00001",
    ]


async def test_twenty_parallel_creates_get_gap_free_unique_numbers(
    client: httpx.AsyncClient, auth
) -> None:
    headers = auth("clerk")
    responses = await asyncio.gather(
        *[
            client.post("/api/v1/cases", json=case_payload(title=f"Antrag {i}"), headers=headers)
            for i in range(20)
        ]
    )
    assert [r.status_code for r in responses] == [201] * 20
    numbers = sorted(r.json()["file_number"] for r in responses)
    assert numbers == [f"BA-{YEAR}-{i:05d}" for i in range(1, 21)]
    verify = await client.get("/api/v1/audit/verify", headers=auth("auditor"))
    assert verify.json() == {"valid": True, "events": 40, "first_broken": None}


@pytest.mark.parametrize("role", ["applicant", "auditor", "agency", "approver"])
async def test_create_needs_clerk_or_admin(client: httpx.AsyncClient, auth, role: str) -> None:
    response = await client.post("/api/v1/cases", json=case_payload(), headers=auth(role))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:eakte:problem:forbidden"
    assert (await client.get("/api/v1/cases", headers=auth("clerk"))).json()["items"] == []


async def test_admin_may_create(client: httpx.AsyncClient, auth) -> None:
    response = await client.post("/api/v1/cases", json=case_payload(), headers=auth("admin"))
    assert response.status_code == 201


async def test_applicant_cannot_read_officials_endpoints(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    case = await new_case()
    for url in [
        "/api/v1/cases",
        f"/api/v1/cases/{case['id']}",
        f"/api/v1/cases/{case['id']}/history",
    ]:
        response = await client.get(url, headers=auth("applicant"))
        assert response.status_code == 403, url


async def test_agency_sees_no_case_it_is_not_asked_on(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    case = await new_case()
    assert (await client.get("/api/v1/cases", headers=auth("agency"))).json()["items"] == []
    response = await client.get(f"/api/v1/cases/{case['id']}", headers=auth("agency"))
    assert response.status_code == 404


async def test_list_pages_with_cursor_newest_first(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    created = [await new_case(title=f"Antrag {i}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/api/v1/cases", params=params, headers=auth("clerk"))).json()
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [c["id"] for c in reversed(created)]


async def test_list_filters_and_full_text_search(client: httpx.AsyncClient, auth, new_case) -> None:
    await new_case(title="Garage", applicant={"name": "Anna Schäfer"})
    target = await new_case(
        title="Dachgeschossausbau",
        site={"address": "Königsplatz 3, 86150 Augsburg"},
        applicant={"name": "Özlem Yılmaz"},
    )
    await new_case(procedure="baybo-60", title="Hochhaus")
    headers = auth("clerk")

    async def ids(**params: object) -> list[str]:
        body = (await client.get("/api/v1/cases", params=params, headers=headers)).json()
        return [c["title"] for c in body["items"]]

    assert await ids(q="königsplatz") == ["Dachgeschossausbau"]
    assert await ids(q="KÖNIGS augsburg") == ["Dachgeschossausbau"]
    assert await ids(q="özlem") == ["Dachgeschossausbau"]
    assert await ids(q=target["file_number"]) == ["Dachgeschossausbau"]
    assert await ids(q="schäfer") == ["Garage"]
    assert await ids(q="100%_") == []
    assert await ids(procedure="baybo-60") == ["Hochhaus"]
    assert await ids(state="eingegangen", procedure="baybo-59") == ["Dachgeschossausbau", "Garage"]
    assert await ids(state="genehmigt") == []


async def test_list_never_shows_other_tenants(client: httpx.AsyncClient, auth, new_case) -> None:
    await new_case(tenant=TENANT_B, title="Münchner Antrag")
    body = (
        await client.get("/api/v1/cases", params={"q": "münchner"}, headers=auth("clerk"))
    ).json()
    assert body["items"] == []


async def test_invalid_cursor_is_400(client: httpx.AsyncClient, auth) -> None:
    response = await client.get("/api/v1/cases", params={"cursor": "!!!"}, headers=auth("clerk"))
    assert response.status_code == 400
    assert response.json()["type"] == "urn:eakte:problem:bad-request"


async def test_patch_requires_if_match_and_detects_stale_revision(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    case = await new_case()
    url = f"/api/v1/cases/{case['id']}"
    headers = auth("clerk")
    missing = await client.patch(url, json={"title": "Neu"}, headers=headers)
    assert missing.status_code == 428
    assert missing.json()["type"] == "urn:eakte:problem:precondition-required"

    ok = await client.patch(
        url, json={"title": "Neuer Titel"}, headers=headers | {"If-Match": '"1"'}
    )
    assert ok.status_code == 200
    assert ok.json()["revision"] == 2 and ok.json()["title"] == "Neuer Titel"
    assert ok.headers["etag"] == '"2"'

    stale = await client.patch(
        url, json={"title": "Verloren"}, headers=headers | {"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_revision"] == 2
    assert (await client.get(url, headers=headers)).json()["title"] == "Neuer Titel"

    garbage = await client.patch(url, json={"title": "x"}, headers=headers | {"If-Match": "abc"})
    assert garbage.status_code == 412


async def test_patch_partial_site_and_search_follows(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    case = await new_case()
    headers = auth("clerk")
    response = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"site": {"address": "Rathausplatz 1, 86150 Augsburg"}},
        headers=headers | {"If-Match": '"1"'},
    )
    assert response.status_code == 200
    site = response.json()["site"]
    assert site == {
        "address": "Rathausplatz 1, 86150 Augsburg",
        "gemarkung": "Augsburg",
        "flurstueck": "1234/5",
    }
    body = (await client.get("/api/v1/cases", params={"q": "rathausplatz"}, headers=headers)).json()
    assert [c["id"] for c in body["items"]] == [case["id"]]


async def test_concurrent_patches_one_wins(client: httpx.AsyncClient, auth, new_case) -> None:
    case = await new_case()
    url = f"/api/v1/cases/{case['id']}"
    results = await asyncio.gather(
        *[
            client.patch(url, json={"title": f"T{i}"}, headers=auth("clerk") | {"If-Match": '"1"'})
            for i in range(5)
        ]
    )
    assert sorted(r.status_code for r in results) == [200, 412, 412, 412, 412]


async def test_history_records_every_change_with_actor(
    client: httpx.AsyncClient, auth, new_case
) -> None:
    case = await new_case()
    await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"title": "Geändert"},
        headers=auth("clerk", sub="maria@augsburg") | {"If-Match": '"1"'},
    )
    body = (await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("auditor"))).json()
    actions = [(e["action"], e["actor"]) for e in body["items"]]
    assert [a for a, _ in actions] == ["case.created", "process.transition", "case.updated"]
    assert actions[2] == ("case.updated", "maria@augsburg")
    assert body["items"][1]["details"]["to"] == "eingegangen"
    assert body["items"][2]["details"]["changes"]["title"] == {
        "old": "Neubau Einfamilienhaus",
        "new": "Geändert",
    }


async def test_file_number_pattern_is_per_tenant(client: httpx.AsyncClient, auth, db) -> None:
    from eakte.tenants.models import Tenant

    async with db.session() as session:
        tenant = await session.get(Tenant, TENANT_A)
        tenant.file_number_pattern = "AUX/{seq:04d}/{year}"
    response = await client.post("/api/v1/cases", json=case_payload(), headers=auth("clerk"))
    assert re.fullmatch(rf"AUX/0001/{YEAR}", response.json()["file_number"])
