"""Issue 16: assignment, "Meine Vorgänge", "Fristen", "Zur Zeichnung", notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from eakte.process.service import local_today
from eakte.process.ticker import tick
from eakte.work.service import signing_states
from support import TENANT_A, TENANT_B, case_payload

CLARA = "clara@augsburg"
BERND = "bernd@augsburg"


def clara(auth, **kw):  # type: ignore[no-untyped-def]
    return auth("clerk", sub=CLARA, **kw)


async def announce(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.put("/api/v1/directory/me", headers=headers)
    assert response.status_code == 200, response.text


async def create(client: httpx.AsyncClient, headers: dict[str, str], **fields: object) -> dict:  # type: ignore[type-arg]
    response = await client.post("/api/v1/cases", json=case_payload(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def fiction_received_on(days_left: int) -> date:
    """A receipt day whose Genehmigungsfiktion period (Art. 68 Abs. 2 S. 1 BayBO: 3 weeks
    + 3 months) ends about `days_left` days from today (holidays may move it a little)."""
    today = local_today()
    end = today + timedelta(days=days_left)
    month = end.month - 3
    year = end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(end.day, 28)) - timedelta(weeks=3)


async def test_a_clerk_who_records_a_case_is_its_sachbearbeiter(client, auth) -> None:  # type: ignore[no-untyped-def]
    case = await create(client, clara(auth))
    assert case["assignee"] == {"sub": CLARA, "name": "Test clerk"}
    assert case["deputy"] is None


async def test_assignment_names_known_clerks_and_is_audited(client, auth) -> None:  # type: ignore[no-untyped-def]
    bernd = auth("clerk", sub=BERND)
    await announce(client, bernd)
    case = await create(client, clara(auth))
    url = f"/api/v1/cases/{case['id']}/assignment"
    done = await client.put(url, json={"assignee": BERND, "deputy": CLARA}, headers=clara(auth))
    assert done.status_code == 200, done.text
    assert done.json()["assignee"]["sub"] == BERND and done.json()["deputy"]["sub"] == CLARA
    assert done.json()["revision"] == case["revision"]  # content unchanged
    history = (await client.get(f"/api/v1/cases/{case['id']}/history", headers=bernd)).json()
    assigned = [e for e in history["items"] if e["action"] == "case.assigned"]
    assert assigned[0]["details"] == {
        "old": {"assignee": CLARA, "deputy": None},
        "new": {"assignee": BERND, "deputy": CLARA},
    }


async def test_assignment_with_if_match_refuses_a_lost_update(client, auth) -> None:  # type: ignore[no-untyped-def]
    """Two clerks open the same case; the second one's stale change is refused, not applied."""
    await announce(client, auth("clerk", sub=BERND))
    case = await create(client, clara(auth))
    url = f"/api/v1/cases/{case['id']}/assignment"
    seen = case["assignment_tag"]
    first = await client.put(
        url, json={"assignee": BERND}, headers={**clara(auth), "If-Match": seen}
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == first.json()["assignment_tag"] != seen
    stale = await client.put(
        url,
        json={"assignee": CLARA, "deputy": BERND},
        headers={**clara(auth), "If-Match": seen, "Accept-Language": "de"},
    )
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("assignment-conflict")
    assert "Zuständigkeit" in stale.json()["title"]
    now = (await client.get(f"/api/v1/cases/{case['id']}", headers=clara(auth))).json()
    assert now["assignee"]["sub"] == BERND and now["deputy"] is None  # nothing overwritten
    assert now["assignment_tag"] == first.json()["assignment_tag"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assignee": "nobody@augsburg"}, "assignee"),
        ({"assignee": CLARA, "deputy": CLARA}, "deputy"),
    ],
)
async def test_assignment_refuses_unknown_officials_and_self_deputy(
    client, auth, body, field
) -> None:  # type: ignore[no-untyped-def]
    case = await create(client, clara(auth))
    response = await client.put(
        f"/api/v1/cases/{case['id']}/assignment", json=body, headers=clara(auth)
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:eakte:problem:unknown-official"
    assert problem["field"] == field and " / " in problem["detail"]  # German / English
    fetched = await client.get(f"/api/v1/cases/{case['id']}", headers=clara(auth))
    assert fetched.json()["assignee"]["sub"] == CLARA  # nothing changed


async def test_assignment_bad_input_roles_and_other_tenants(client, auth) -> None:  # type: ignore[no-untyped-def]
    case = await create(client, clara(auth))
    url = f"/api/v1/cases/{case['id']}/assignment"
    for body in ({"assignee": ""}, {"assignee": "x" * 201}, {"who": CLARA}, [CLARA]):
        response = await client.put(url, json=body, headers=clara(auth))
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    approver = await client.put(url, json={"assignee": None}, headers=auth("approver"))
    assert approver.status_code == 403
    foreign = await client.put(url, json={"assignee": None}, headers=auth("clerk", tenant=TENANT_B))
    assert foreign.status_code == 404
    assert foreign.json()["type"] == "urn:eakte:problem:case-not-found"


async def test_meine_vorgaenge_puts_overdue_and_fiction_first(client, auth) -> None:  # type: ignore[no-untyped-def]
    """Overdue first, then "Fiktion in n Tagen" (Art. 68 Abs. 2 BayBO, Art. 42a BayVwVfG),
    then the rest; total and paging; the deputy sees the case too."""
    headers = clara(auth)
    plain = await create(client, headers, title="Garage")
    soon = await create(
        client,
        headers,
        title="Wohnhaus bald",
        housing=True,
        received_on=fiction_received_on(7).isoformat(),
    )
    overdue = await create(
        client,
        headers,
        title="Wohnhaus überfällig",
        housing=True,
        received_on=fiction_received_on(-10).isoformat(),
    )
    await create(client, auth("clerk", sub=BERND), title="Nicht meins")
    got = await client.get("/api/v1/worklist/mine", headers=headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["total"] == 3
    assert [i["case_id"] for i in body["items"]] == [overdue["id"], soon["id"], plain["id"]]
    first, second, third = body["items"]
    # (both had their Vollständigkeitsprüfung period run out: received months ago)
    assert first["markers"] == ["overdue"] and first["overdue"] is True
    assert first["fiction_in_days"] < 0 and first["next_deadline"]["days_left"] < 0
    assert "fiction_soon" in second["markers"] and 0 <= second["fiction_in_days"] <= 14
    assert second["state"] == "eingegangen" and second["state_label_de"] != "eingegangen"
    assert third["markers"] == [] and third["my_role"] == "assignee"
    page = (await client.get("/api/v1/worklist/mine?limit=1&offset=1", headers=headers)).json()
    assert page["total"] == 3 and [i["case_id"] for i in page["items"]] == [soon["id"]]
    by_title = await client.get("/api/v1/worklist/mine?sort=title&order=desc", headers=headers)
    titles = [i["title"] for i in by_title.json()["items"]]
    assert titles == ["Wohnhaus überfällig", "Wohnhaus bald", "Garage"]
    # the deputy sees the case, with its role
    await announce(client, auth("clerk", sub=BERND))
    await client.put(
        f"/api/v1/cases/{plain['id']}/assignment",
        json={"assignee": CLARA, "deputy": BERND},
        headers=headers,
    )
    bernds = (await client.get("/api/v1/worklist/mine", headers=auth("clerk", sub=BERND))).json()
    roles = {i["title"]: i["my_role"] for i in bernds["items"]}
    assert roles == {"Garage": "deputy", "Nicht meins": "assignee"}


@pytest.mark.parametrize(
    "query", ["sort=nope", "order=up", "limit=0", "limit=201", "offset=-1", "offset=x"]
)
async def test_worklist_bad_input(client, auth, query) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/worklist/mine?{query}", headers=clara(auth))
    assert response.status_code == 422
    assert response.json()["type"] == "urn:eakte:problem:validation-failed"


async def test_worklists_are_for_officials_and_their_tenant(client, auth) -> None:  # type: ignore[no-untyped-def]
    await create(client, clara(auth))
    for path in ("/api/v1/worklist/mine", "/api/v1/worklist/signing", "/api/v1/deadlines"):
        for role in ("applicant", "agency"):
            assert (await client.get(path, headers=auth(role))).status_code == 403
        other = await client.get(path, headers=auth("clerk", tenant=TENANT_B, sub=CLARA))
        assert other.json()["total"] == 0, path  # same sub, other tenant: nothing


async def test_fristen_sorted_by_end_date_filtered_by_kind_and_official(client, auth) -> None:  # type: ignore[no-untyped-def]
    headers = clara(auth)
    later = await create(
        client, headers, housing=True, received_on=fiction_received_on(30).isoformat()
    )
    earlier = await create(
        client,
        auth("clerk", sub=BERND),
        housing=True,
        received_on=fiction_received_on(5).isoformat(),
    )
    body = (await client.get("/api/v1/deadlines", headers=auth("approver"))).json()
    fictions = [i for i in body["items"] if i["kind"] == "genehmigungsfiktion"]
    assert [i["case_id"] for i in fictions] == [earlier["id"], later["id"]]
    assert fictions[0]["fiction"] is True and fictions[0]["label_de"]
    assert [i["due"] for i in body["items"]] == sorted(i["due"] for i in body["items"])
    assert {k["kind"]: k["count"] for k in body["kinds"]}["genehmigungsfiktion"] == 2
    mine = (await client.get(f"/api/v1/deadlines?official={CLARA}", headers=headers)).json()
    assert {i["case_id"] for i in mine["items"]} == {later["id"]}
    kind = (
        await client.get("/api/v1/deadlines?kind=genehmigungsfiktion&limit=1", headers=headers)
    ).json()
    assert kind["total"] == 2 and len(kind["items"]) == 1
    # an open Beteiligung runs its own answer period (Art. 65 Abs. 2 S. 2 BayBO) and is listed
    asked = await client.post(
        f"/api/v1/cases/{later['id']}/participations",
        json={"kind": "fachstelle_zustimmung", "party": "Denkmalschutz"},
        headers=headers,
    )
    assert asked.status_code == 201, asked.text
    kind = "beteiligung_fachstelle_zustimmung"
    listed = (await client.get(f"/api/v1/deadlines?kind={kind}", headers=headers)).json()
    (row,) = listed["items"]
    assert row["source"] == "participation" and row["party"] == "Denkmalschutz"
    assert row["due"] == asked.json()["due"] and "Art. 65" in row["legal_basis"]
    assert {k["kind"]: k["label_de"] for k in listed["kinds"]}[kind].startswith("Beteiligung: ")
    answered = await client.post(
        f"/api/v1/cases/{later['id']}/participations/{asked.json()['id']}/answer",
        json={"answer": "consent"},
        headers=headers,
    )
    assert answered.status_code == 200
    after = (await client.get(f"/api/v1/deadlines?kind={kind}", headers=headers)).json()
    assert after["total"] == 0  # answered: no longer running
    bad = await client.get("/api/v1/deadlines?kind=Robert'); DROP", headers=headers)
    assert bad.status_code == 422


async def test_signing_inbox_lists_states_where_an_approver_signs() -> None:
    """Zur Zeichnung: states from which only an approver issues the decision (four eyes)."""
    states = signing_states()
    assert ("baybo-59", "zur_zeichnung") in states and ("baybo-60", "zur_zeichnung") in states
    assert ("baybo-59", "pruefung") not in states and ("baybo-59", "eingegangen") not in states


async def test_signing_inbox_empty_for_fresh_cases(client, auth) -> None:  # type: ignore[no-untyped-def]
    await create(client, clara(auth))
    body = (await client.get("/api/v1/worklist/signing", headers=auth("approver"))).json()
    assert body == {"items": [], "total": 0, "offset": 0, "limit": 50}


async def test_ticker_notifies_the_sachbearbeiter_of_a_detected_fiction(app, client, auth) -> None:  # type: ignore[no-untyped-def]
    """Genehmigungsfiktion (Art. 68 Abs. 2 S. 1 BayBO, Art. 42a Abs. 1 BayVwVfG) detected by
    the ticker: the Sachbearbeiter and the Vertretung get a notification, marked read per user."""
    headers = clara(auth)
    bernd = auth("clerk", sub=BERND)
    await announce(client, bernd)
    case = await create(
        client, headers, housing=True, received_on=fiction_received_on(-3).isoformat()
    )
    await client.put(
        f"/api/v1/cases/{case['id']}/assignment",
        json={"assignee": CLARA, "deputy": BERND},
        headers=headers,
    )
    report = await tick(app.state.db, now=datetime.now(UTC))
    # the fiction, and the Vollständigkeitsprüfung (Art. 65 Abs. 2 BayBO) that also ran out
    assert sorted(f.split(":")[1] for f in report.fired) == [
        "fiktion_eintreten",
        "vollstaendigkeitspruefung_ueberfaellig",
    ]
    for who in (headers, bernd):
        listed = (await client.get("/api/v1/notifications", headers=who)).json()
        assert listed["unread"] == 2
        kinds = {i["kind"]: i for i in listed["items"]}
        assert set(kinds) == {"fiction_detected", "deadline_overdue"}
        item = kinds["fiction_detected"]
        assert item["file_number"] == case["file_number"] and item["read"] is False
        assert "Genehmigungsfiktion" in item["text_de"] and "Art. 68" in item["text_de"]
    first = item["id"]  # bernd's
    foreign = await client.post(f"/api/v1/notifications/{first}/read", headers=headers)
    assert foreign.status_code == 404  # clara cannot mark bernd's
    assert foreign.json()["type"] == "urn:eakte:problem:notification-not-found"
    other_tenant = auth("clerk", sub=BERND, tenant=TENANT_B)
    response = await client.post(f"/api/v1/notifications/{first}/read", headers=other_tenant)
    assert response.status_code == 404
    marked = await client.post(f"/api/v1/notifications/{first}/read", headers=bernd)
    assert marked.json() == {"marked": 1, "unread": 1}
    assert (await client.get("/api/v1/notifications", headers=headers)).json()["unread"] == 2
    assert (await client.post("/api/v1/notifications/read", headers=headers)).json()["unread"] == 0
    unread = (await client.get("/api/v1/notifications?unread=true", headers=bernd)).json()
    assert [i["kind"] for i in unread["items"]] == ["deadline_overdue"]
    bad = await client.post("/api/v1/notifications/not-a-uuid/read", headers=headers)
    assert bad.status_code == 422


async def test_directory_lists_officials_by_role(client, auth) -> None:  # type: ignore[no-untyped-def]
    await announce(client, auth("agency", sub="wwa@augsburg"))
    await announce(client, clara(auth))
    assert (await client.put("/api/v1/directory/me", headers=auth("applicant"))).status_code == 403
    agencies = (await client.get("/api/v1/directory?role=agency", headers=clara(auth))).json()
    assert [m["sub"] for m in agencies["items"]] == ["wwa@augsburg"]
    other = await client.get("/api/v1/directory", headers=auth("clerk", tenant=TENANT_B))
    assert other.json()["items"] == []
    assert (await client.get("/api/v1/directory?role=king", headers=clara(auth))).status_code == 422
    assert TENANT_A  # the directory is per tenant
