"""Cases walked through their BayBO procedures via the API; deadlines by an injected clock."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, date, datetime

import httpx
import pytest

import workflows as wf
from eakte.db import Database
from eakte.process.service import local_today
from eakte.process.ticker import tick
from support import TENANT_B, TINY_PDF, issue_letter

PDF = TINY_PDF
BAUVORLAGEN = ("lageplan", "bauzeichnung", "baubeschreibung")


AUGSBURG = wf.get_calendar("bavaria-augsburg")


def days_from_today(days: int) -> date:
    """A day relative to the real today (officials' actions use the real clock)."""
    return date.fromordinal(local_today().toordinal() + days)


def saturday_ahead(min_days: int) -> date:
    day = days_from_today(min_days)
    return date.fromordinal(day.toordinal() + (5 - day.weekday()) % 7)


def at(day: str) -> datetime:
    """Noon UTC of an ISO date (the ticker's injected clock)."""
    return datetime.fromisoformat(day + "T12:00:00+00:00")


async def act(
    client: httpx.AsyncClient,
    headers: dict,
    case: dict,
    action: str,
    expected: str,
    **input: object,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/cases/{case['id']}/process/actions",
        json={"action": action, "expected_state": expected, "input": input},
        headers=headers,
    )


async def process(client: httpx.AsyncClient, headers: dict, case: dict) -> dict:
    response = await client.get(f"/api/v1/cases/{case['id']}/process", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def upload(client: httpx.AsyncClient, headers: dict, case: dict, *kinds: str) -> None:
    for kind in kinds:
        response = await client.post(
            f"/api/v1/cases/{case['id']}/documents",
            data={"title": kind.title(), "kind": kind},
            files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
            headers=headers,
        )
        assert response.status_code == 201, response.text


def running(view: dict) -> dict[str, str]:
    return {d["kind"]: d["due"] for d in view["deadlines"] if d["status"] == "running"}


@pytest.fixture
def clerk(auth) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth("clerk", sub="clara@augsburg")


@pytest.fixture
def approver(auth) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth("approver", sub="anton@augsburg")


async def test_procedures_are_listed_with_definitions(client: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    listing = (await client.get("/api/v1/procedures", headers=auth("clerk"))).json()
    assert {p["id"] for p in listing["items"]} >= {"baybo-58", "baybo-59", "baybo-60", "baybo-71"}
    detail = await client.get("/api/v1/procedures/baybo-59", headers=auth("applicant"))
    assert detail.status_code == 200
    body = detail.json()
    assert body["mermaid"].startswith("stateDiagram-v2")
    assert "genehmigt_fiktion" in body["mermaid"]
    missing = await client.get("/api/v1/procedures/baybo-99", headers=auth("clerk"))
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:eakte:problem:procedure-not-found"


async def test_unknown_procedure_is_422_and_creates_nothing(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    from support import case_payload

    response = await client.post(
        "/api/v1/cases", json=case_payload(procedure="baybo-99"), headers=auth("clerk")
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:eakte:problem:unknown-procedure"
    assert (await client.get("/api/v1/cases", headers=auth("clerk"))).json()["items"] == []
    first = await new_case()
    assert first["file_number"].endswith("-00001")  # the failed create used no number


async def test_case_starts_at_receipt_with_its_deadlines(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case(received_on="2026-03-02")
    view = await process(client, clerk, case)
    assert view["state"] == "eingegangen"
    assert view["state_label"]["de"]
    assert view["procedure"] == "baybo-59" and view["procedure_version"] == 2
    # three weeks, not counting the day of receipt
    assert running(view) == {"vollstaendigkeitspruefung": "2026-03-23"}
    assert [t["action"] for t in view["transitions"]] == ["eingang_erfassen"]
    actions = {a["id"]: a for a in view["available_actions"]}
    assert actions["vollstaendigkeit_feststellen"]["allowed"] is False
    assert (
        actions["vollstaendigkeit_feststellen"]["blocked_reasons"][0]["code"] == "documents_missing"
    )
    assert {f["name"] for f in actions["nachfordern"]["input_fields"]} >= {"maengel", "frist_bis"}


async def test_missing_bauvorlagen_block_completeness_with_reasons(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    await upload(client, clerk, case, "lageplan")
    response = await act(client, clerk, case, "vollstaendigkeit_feststellen", "eingegangen")
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:eakte:problem:action-blocked"
    assert "bauzeichnung" in problem["reasons"][0]["en"]
    assert (await process(client, clerk, case))["state"] == "eingegangen"


async def test_baybo59_from_receipt_to_start_of_construction(
    client: httpx.AsyncClient, auth, new_case, clerk, approver
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case(received_on="2026-02-02")
    await upload(client, clerk, case, *BAUVORLAGEN)
    assert (
        await act(client, clerk, case, "vollstaendigkeit_feststellen", "eingegangen")
    ).status_code == 200

    # two participations: one answered, one times out into consent
    asked = []
    for kind, party in (
        ("fachstelle_stellungnahme", "Wasserwirtschaftsamt"),
        ("fachstelle_zustimmung", "Denkmalschutz"),
    ):
        response = await client.post(
            f"/api/v1/cases/{case['id']}/participations",
            json={"kind": kind, "party": party, "requested_on": "2026-02-10"},
            headers=clerk,
        )
        assert response.status_code == 201, response.text
        asked.append(response.json())
    assert asked[0]["due"] == "2026-03-10"
    blocked = await act(client, clerk, case, "beteiligung_abschliessen", "beteiligung")
    assert blocked.status_code == 422
    assert blocked.json()["reasons"][0]["code"] == "participations_open"
    answer = await client.post(
        f"/api/v1/cases/{case['id']}/participations/{asked[0]['id']}/answer",
        json={"answer": "statement", "statement": "Keine Bedenken", "received_on": "2026-03-01"},
        headers=clerk,
    )
    assert answer.status_code == 200 and answer.json()["late"] is False
    report = await tick(
        Database(client._transport.app.state.settings.resolved_database_url()), now=at("2026-03-12")
    )  # type: ignore[attr-defined]
    assert len(report.deemed) == 1
    view = await process(client, clerk, case)
    assert {p["party"]: p["status"] for p in view["participations"]} == {
        "Wasserwirtschaftsamt": "answered",
        "Denkmalschutz": "deemed",
    }
    neighbours = await act(
        client,
        clerk,
        case,
        "nachbarbeteiligung_erfassen",
        "beteiligung",
        zustimmende_nachbarn=["Fl.-Nr. 1234/6"],
        nicht_zustimmende_nachbarn=["Fl.-Nr. 1234/7"],
    )
    assert neighbours.status_code == 200
    assert neighbours.json()["variables"]["nicht_zustimmende_nachbarn"] == ["Fl.-Nr. 1234/7"]
    assert (
        await act(client, clerk, case, "beteiligung_abschliessen", "beteiligung")
    ).status_code == 200
    assert (
        await act(client, clerk, case, "entscheidung_entwerfen", "pruefung", vermerk="zulässig")
    ).status_code == 200
    await issue_letter(client, auth, case["id"], "baugenehmigung", make_known=False)  # issue 13
    signed = await act(client, approver, case, "genehmigung_zeichnen", "zur_zeichnung")
    assert signed.status_code == 200, signed.text
    notified = await act(
        client,
        clerk,
        case,
        "bekanntgabe_genehmigung_erfassen",
        "genehmigt",
        bekanntgabe_am="2026-04-14",
    )
    assert notified.status_code == 200
    view = notified.json()
    assert view["state"] == "genehmigung_wirksam"
    assert running(view) == {"geltungsdauer": "2030-04-15"}  # 14.04.2030 is Easter Sunday
    done = await act(
        client, clerk, case, "baubeginn_anzeigen", "genehmigung_wirksam", baubeginn_am="2026-05-04"
    )
    assert done.status_code == 200
    # Art. 69 Abs. 1 BayBO: after the Baubeginn an interruption of 4 years can still follow
    assert done.json()["final"] is False
    case_now = (await client.get(f"/api/v1/cases/{case['id']}", headers=clerk)).json()
    assert case_now["state"] == "baubeginn_angezeigt"
    history = (
        await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("auditor"))
    ).json()
    assert [e["action"] for e in history["items"]].count("process.transition") == 8
    verify = (await client.get("/api/v1/audit/verify", headers=auth("auditor"))).json()
    assert verify["valid"] is True


async def test_four_eyes_drafter_cannot_sign(
    client: httpx.AsyncClient, auth, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    both = auth("clerk", "approver", sub="doris@augsburg")
    case = await new_case()
    await upload(client, clerk, case, *BAUVORLAGEN)
    for action, state in (
        ("vollstaendigkeit_feststellen", "eingegangen"),
        ("beteiligung_abschliessen", "beteiligung"),
    ):
        assert (await act(client, clerk, case, action, state)).status_code == 200
    assert (await act(client, both, case, "entscheidung_entwerfen", "pruefung")).status_code == 200
    own = await act(client, both, case, "genehmigung_zeichnen", "zur_zeichnung")
    assert own.status_code == 422
    assert own.json()["reasons"][0]["code"] == "four_eyes"
    view = await process(client, both, case)
    sign = next(a for a in view["available_actions"] if a["id"] == "genehmigung_zeichnen")
    assert sign["allowed"] is False
    await issue_letter(client, auth, case["id"], "baugenehmigung", make_known=False)  # issue 13
    other = await act(
        client, auth("approver", sub="erik@augsburg"), case, "genehmigung_zeichnen", "zur_zeichnung"
    )
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("notice", "final_state"), [(True, "ruecknahmefiktion_festgestellt"), (False, "nachforderung")]
)
async def test_nachforderung_expiry_withdraws_only_after_notice(
    client: httpx.AsyncClient, new_case, clerk, approver, settings, notice: bool, final_state: str
) -> None:  # type: ignore[no-untyped-def]
    """Art. 65 Abs. 1 S. 3 BayBO: deemed withdrawal only after the notice, and only once an
    approver confirms what the ticker detected; Art. 31 Abs. 3 S. 1 BayVwVfG: a Saturday
    end rolls to the next working day, and the view says why."""
    case = await new_case(received_on=days_from_today(-2).isoformat())
    saturday = saturday_ahead(10)
    last_day = AUGSBURG.next_working_day(saturday)
    response = await act(
        client,
        clerk,
        case,
        "nachfordern",
        "eingegangen",
        maengel=["Standsicherheitsnachweis"],
        frist_bis=saturday.isoformat(),
        hinweis_ruecknahmefiktion=notice,
    )
    assert response.status_code == 200, response.text
    (deadline,) = [d for d in response.json()["deadlines"] if d["kind"] == "nachforderungsfrist"]
    assert deadline["due"] == last_day.isoformat()
    assert deadline["unrolled_due"] == saturday.isoformat()
    assert "§ 193 BGB" in deadline["why_moved"]["de"]
    day_after = date.fromordinal(last_day.toordinal() + 1)
    db = Database(settings.resolved_database_url())
    try:
        assert (await tick(db, now=at(last_day.isoformat()))).total == 0
        await tick(db, now=at(day_after.isoformat()))
        again = await tick(db, now=at(date.fromordinal(day_after.toordinal() + 1).isoformat()))
    finally:
        await db.dispose()
    assert again.total == 0
    view = await process(client, clerk, case)
    assert view["state"] == final_state
    if notice:
        # flagged and visible to officials, not final: the approver decides
        assert "fiktion_pruefen" in view["flags"]
        assert [f["rule"] for f in view["fictions"]] == ["ruecknahmefiktion"]
        assert view["final"] is False
        confirmed = await act(
            client,
            approver,
            case,
            "ruecknahmefiktion_bestaetigen",
            "ruecknahmefiktion_festgestellt",
            begruendung="keine Unterlagen eingegangen",
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["state"] == "zurueckgenommen"
        assert confirmed.json()["fictions"] == []
    if not notice:
        assert "nachforderungsfrist_abgelaufen" in view["flags"]
        assert (
            await act(
                client,
                clerk,
                case,
                "nachfrist_setzen",
                "nachforderung",
                maengel=["x"],
                frist_bis=days_from_today(40).isoformat(),
                hinweis_ruecknahmefiktion=True,
            )
        ).status_code == 200
        assert "nachforderungsfrist_abgelaufen" not in (await process(client, clerk, case))["flags"]


async def test_ticker_never_withdraws_because_of_a_typo_deadline(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    """Art. 65 Abs. 1 S. 2 BayBO, Art. 31 BayVwVfG: a deadline in the past is refused (422,
    German and English), so the ticker cannot make the application count as withdrawn."""
    case = await new_case()
    response = await act(
        client,
        clerk,
        case,
        "nachfordern",
        "eingegangen",
        maengel=["Lageplan"],
        frist_bis="2020-01-31",
        hinweis_ruecknahmefiktion=True,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:eakte:problem:invalid-action-input"
    (error,) = body["errors"]
    assert error["field"] == "frist_bis" and error["code"] == "date_in_past"
    assert "Vergangenheit" in error["de"] and "in the past" in error["en"]
    view = await process(client, clerk, case)
    assert view["state"] == "eingegangen" and "nachforderungsfrist" not in running(view)


async def test_genehmigungsfiktion_fires_on_the_right_day(
    client: httpx.AsyncClient, auth, new_case, clerk, approver, settings
) -> None:  # type: ignore[no-untyped-def]
    # receipt 08.12.2026 + 3 weeks = 29.12.2026; + 3 months = 29.03.2027 = Easter Monday
    case = await new_case(received_on="2026-12-08", housing=True)
    view = await process(client, clerk, case)
    assert running(view)["genehmigungsfiktion"] == "2027-03-30"
    db = Database(settings.resolved_database_url())
    try:
        await tick(db, now=at("2027-03-30"))
        assert (await process(client, clerk, case))["state"] == "eingegangen"
        report = await tick(db, now=datetime(2027, 3, 30, 22, 30, tzinfo=UTC))  # 00:30 in Munich
    finally:
        await db.dispose()
    assert any(line.endswith(":fiktion_eintreten") for line in report.fired)
    view = await process(client, clerk, case)
    assert view["state"] == "genehmigt_fiktion"
    assert view["transitions"][-1]["actor"] == "system"
    assert view["transitions"][-1]["deadline"] == "genehmigungsfiktion"
    await issue_letter(client, auth, case["id"], "fiktionsbescheinigung", make_known=False)
    issued = await act(
        client, approver, case, "fiktionsbescheinigung_ausstellen", "genehmigt_fiktion"
    )
    assert issued.status_code == 200
    assert issued.json()["state"] == "genehmigung_wirksam"


async def test_no_fiktion_without_housing_flag(client: httpx.AsyncClient, new_case, clerk) -> None:  # type: ignore[no-untyped-def]
    case = await new_case(received_on="2026-12-08")
    assert "genehmigungsfiktion" not in running(await process(client, clerk, case))


async def test_timely_nachforderung_stops_the_fiktion_clock_and_restarts_it(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    """Art. 68 Abs. 2 S. 1 BayBO: a Nachforderung sent within three weeks of receipt stops the
    clock; it restarts three weeks after the requested documents arrived."""
    case = await new_case(received_on=days_from_today(-7).isoformat(), housing=True)
    response = await act(
        client,
        clerk,
        case,
        "nachfordern",
        "eingegangen",
        maengel=["Lageplan"],
        frist_bis=days_from_today(30).isoformat(),
        hinweis_ruecknahmefiktion=True,
    )
    assert "genehmigungsfiktion" not in running(response.json())
    arrived = days_from_today(0)
    response = await act(
        client,
        clerk,
        case,
        "unterlagen_nachreichen",
        "nachforderung",
        nachgereicht_am=arrived.isoformat(),
    )
    begins = date.fromordinal(arrived.toordinal() + 21)
    expected = wf.add_period(begins, 3, "months", AUGSBURG)
    assert running(response.json())["genehmigungsfiktion"] == expected.isoformat()


async def test_late_nachforderung_keeps_the_fiktion_clock_running(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    """Art. 68 Abs. 2 S. 1 BayBO: a Nachforderung sent after the clock began (three weeks
    after receipt) is allowed, but the clock keeps running and is not restarted."""
    case = await new_case(received_on=days_from_today(-40).isoformat(), housing=True)
    before = running(await process(client, clerk, case))["genehmigungsfiktion"]
    response = await act(
        client,
        clerk,
        case,
        "nachfordern",
        "eingegangen",
        maengel=["Lageplan"],
        frist_bis=days_from_today(20).isoformat(),
        hinweis_ruecknahmefiktion=False,
    )
    assert response.status_code == 200, response.text
    assert running(response.json())["genehmigungsfiktion"] == before
    response = await act(
        client,
        clerk,
        case,
        "unterlagen_nachreichen",
        "nachforderung",
        nachgereicht_am=days_from_today(0).isoformat(),
    )
    assert response.status_code == 200, response.text
    assert running(response.json())["genehmigungsfiktion"] == before


async def test_concurrent_actions_exactly_one_wins(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    body = {
        "maengel": ["Lageplan"],
        "frist_bis": days_from_today(60).isoformat(),
        "hinweis_ruecknahmefiktion": True,
    }
    results = await asyncio.gather(
        *[act(client, clerk, case, "nachfordern", "eingegangen", **body) for _ in range(4)]
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    conflict = next(r for r in results if r.status_code == 409).json()
    assert conflict["type"] == "urn:eakte:problem:state-conflict"
    view = await process(client, clerk, case)
    assert [t["action"] for t in view["transitions"]] == ["eingang_erfassen", "nachfordern"]
    assert list(running(view)) == ["nachforderungsfrist"]


async def test_stale_expected_state_is_409(client: httpx.AsyncClient, new_case, clerk) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await act(client, clerk, case, "beteiligung_abschliessen", "beteiligung")
    assert response.status_code == 409
    assert response.json()["current_state"] == "eingegangen"


@pytest.mark.parametrize(
    ("role", "action", "status", "slug"),
    [
        ("auditor", "nachfordern", 403, "forbidden"),
        ("agency", "nachfordern", 403, "forbidden"),
        ("applicant", "nachfordern", 403, "forbidden"),
        ("approver", "nachfordern", 403, "action-forbidden"),
    ],
)
async def test_roles_that_may_not_act(
    client: httpx.AsyncClient, auth, new_case, role: str, action: str, status: int, slug: str
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await act(
        client,
        auth(role),
        case,
        action,
        "eingegangen",
        maengel=["x"],
        frist_bis="2030-01-01",
        hinweis_ruecknahmefiktion=True,
    )
    assert response.status_code == status
    assert response.json()["type"] == f"urn:eakte:problem:{slug}"


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"action": "fliegen", "expected_state": "eingegangen"}, "unknown-action"),
        (
            {"action": "nachfordern", "expected_state": "eingegangen", "input": {}},
            "invalid-action-input",
        ),
        (
            {
                "action": "nachfordern",
                "expected_state": "eingegangen",
                "input": {"maengel": "x", "frist_bis": "morgen", "hinweis_ruecknahmefiktion": True},
            },
            "invalid-action-input",
        ),
        (
            {"action": "nachfordern", "expected_state": "eingegangen", "extra": 1},
            "validation-failed",
        ),
        ({"action": "Nachfordern!", "expected_state": "eingegangen"}, "validation-failed"),
        ({"expected_state": "eingegangen"}, "validation-failed"),
    ],
)
async def test_bad_action_requests_change_nothing(
    client: httpx.AsyncClient, new_case, clerk, body: dict, slug: str
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await client.post(
        f"/api/v1/cases/{case['id']}/process/actions", json=body, headers=clerk
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == f"urn:eakte:problem:{slug}"
    view = await process(client, clerk, case)
    assert view["state"] == "eingegangen" and len(view["transitions"]) == 1


async def test_two_tickers_at_once_fire_each_deadline_once(
    client: httpx.AsyncClient, new_case, clerk, settings
) -> None:  # type: ignore[no-untyped-def]
    cases = [await new_case(received_on="2026-01-05", housing=True) for _ in range(3)]
    first, second = (
        Database(settings.resolved_database_url()),
        Database(settings.resolved_database_url()),
    )
    try:
        reports = await asyncio.gather(
            tick(first, now=at("2026-09-01")), tick(second, now=at("2026-09-01"))
        )
    finally:
        await first.dispose()
        await second.dispose()
    fired = reports[0].fired + reports[1].fired
    # per case: the completeness check (overdue flag) and the Genehmigungsfiktion
    assert len(fired) == 6 and len(set(fired)) == 6
    for case in cases:
        view = await process(client, clerk, case)
        assert view["state"] == "genehmigt_fiktion"
        assert [t["deadline"] for t in view["transitions"]].count("genehmigungsfiktion") == 1


async def test_late_statement_is_recorded_and_flagged(
    client: httpx.AsyncClient, auth, new_case, clerk, settings
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    await upload(client, clerk, case, *BAUVORLAGEN)
    await act(client, clerk, case, "vollstaendigkeit_feststellen", "eingegangen")
    asked = (
        await client.post(
            f"/api/v1/cases/{case['id']}/participations",
            json={
                "kind": "fachstelle_stellungnahme",
                "party": "Brandschutzdienststelle",
                "agency_sub": "feuerwehr@augsburg",
                "requested_on": "2026-01-05",
            },
            headers=clerk,
        )
    ).json()
    agency = auth("agency", sub="feuerwehr@augsburg")
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=agency)).status_code == 200
    other_agency = auth("agency", sub="thw@augsburg")
    assert (
        await client.get(f"/api/v1/cases/{case['id']}", headers=other_agency)
    ).status_code == 404
    url = f"/api/v1/cases/{case['id']}/participations/{asked['id']}/answer"
    late = await client.post(
        url,
        json={"answer": "statement", "statement": "Zufahrt zu schmal", "received_on": "2026-02-20"},
        headers=agency,
    )
    assert late.status_code == 200
    assert late.json()["late"] is True
    again = await client.post(url, json={"answer": "consent"}, headers=agency)
    assert again.status_code == 409


async def test_bad_participation_requests(client: httpx.AsyncClient, new_case, clerk, auth) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    url = f"/api/v1/cases/{case['id']}/participations"
    unknown = await client.post(url, json={"kind": "orakel", "party": "Delphi"}, headers=clerk)
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "urn:eakte:problem:unknown-participation-kind"
    assert (
        await client.post(url, json={"kind": "fachstelle_zustimmung"}, headers=clerk)
    ).status_code == 422
    assert (
        await client.post(
            url, json={"kind": "fachstelle_zustimmung", "party": "x"}, headers=auth("agency")
        )
    ).status_code == 403
    missing = await client.post(
        url + "/7c7c7c7c-7c7c-4c7c-8c7c-7c7c7c7c7c7c/answer",
        json={"answer": "consent"},
        headers=clerk,
    )
    assert missing.status_code == 404
    foreign = await client.post(
        url,
        json={"kind": "fachstelle_zustimmung", "party": "x"},
        headers=auth("clerk", tenant=TENANT_B),
    )
    assert foreign.status_code == 404


async def test_baybo58_month_expires_into_construction_start(
    client: httpx.AsyncClient, new_case, clerk, settings
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case(procedure="baybo-58", received_on="2026-01-20")
    await upload(client, clerk, case, *BAUVORLAGEN)
    response = await act(
        client,
        clerk,
        case,
        "vollstaendigkeit_feststellen",
        "vorgelegt",
        vollstaendig_seit="2026-01-30",
    )
    assert response.status_code == 200, response.text
    # one month from 30.01. ends on 28.02.2026 (no 30 February), a Saturday -> Monday 02.03.
    assert running(response.json()) == {"freistellungsfrist": "2026-03-02"}
    db = Database(settings.resolved_database_url())
    try:
        await tick(db, now=at("2026-03-03"))
    finally:
        await db.dispose()
    assert (await process(client, clerk, case))["state"] == "baubeginn_zulaessig"


async def test_baybo58_converts_to_permit_procedure(
    client: httpx.AsyncClient, new_case, clerk
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case(procedure="baybo-58", procedure_input={"als_bauantrag_behandeln": True})
    await upload(client, clerk, case, *BAUVORLAGEN)
    await act(
        client,
        clerk,
        case,
        "vollstaendigkeit_feststellen",
        "vorgelegt",
        vollstaendig_seit=date.today().isoformat(),
    )
    response = await act(
        client,
        clerk,
        case,
        "genehmigungsverfahren_verlangen",
        "frist_laeuft",
        zugang_beim_bauherrn_am=date.today().isoformat(),
        begruendung="Bebauungsplan nicht eingehalten",
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["procedure"] == "baybo-59" and view["state"] == "eingegangen"
    assert [t["procedure"] for t in view["transitions"]][-2:] == ["baybo-58", "baybo-59"]
    fetched = (await client.get(f"/api/v1/cases/{case['id']}", headers=clerk)).json()
    assert fetched["procedure"] == "baybo-59"


async def test_baybo60_refusal(client: httpx.AsyncClient, auth, new_case, clerk, approver) -> None:  # type: ignore[no-untyped-def]
    case = await new_case(procedure="baybo-60")
    await issue_letter(client, auth, case["id"], "ablehnungsbescheid", make_known=False)
    await upload(client, clerk, case, *BAUVORLAGEN)
    blocked = await act(client, clerk, case, "vollstaendigkeit_feststellen", "eingegangen")
    assert blocked.status_code == 422  # special buildings also need the Standsicherheitsnachweis
    await upload(client, clerk, case, "standsicherheitsnachweis")
    steps = [
        (clerk, "vollstaendigkeit_feststellen", "eingegangen", {}),
        (clerk, "beteiligung_abschliessen", "beteiligung", {}),
        (clerk, "entscheidung_entwerfen", "pruefung", {}),
        (approver, "ablehnung_zeichnen", "zur_zeichnung", {"begruendung": "Abstandsflächen"}),
        (
            clerk,
            "bekanntgabe_ablehnung_erfassen",
            "ablehnung_gezeichnet",
            {"bekanntgabe_am": date.today().isoformat()},
        ),
    ]
    for headers, action, state, input in steps:
        response = await act(client, headers, case, action, state, **input)
        assert response.status_code == 200, (action, response.text)
    assert response.json()["state"] == "abgelehnt" and response.json()["final"] is True


async def test_baybo71_vorbescheid(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, auth, new_case, clerk, approver
) -> None:
    case = await new_case(
        procedure="baybo-71",
        procedure_input={"fragen": ["Ist eine Bebauung mit drei Vollgeschossen zulässig?"]},
    )
    await issue_letter(client, auth, case["id"], "vorbescheid", make_known=False)
    await upload(client, clerk, case, "lageplan")
    steps = [
        (clerk, "vollstaendigkeit_feststellen", "eingegangen", {}),
        (clerk, "von_nachbarbeteiligung_absehen", "beteiligung", {}),
        (clerk, "beteiligung_abschliessen", "beteiligung", {}),
        (clerk, "entscheidung_entwerfen", "pruefung", {}),
        (approver, "vorbescheid_zeichnen", "zur_zeichnung", {}),
        (
            clerk,
            "bekanntgabe_vorbescheid_erfassen",
            "vorbescheid_gezeichnet",
            {"bekanntgabe_am": "2026-05-04"},
        ),
        (clerk, "bauantrag_eingereicht", "vorbescheid_wirksam", {}),
    ]
    for headers, action, state, input in steps:
        response = await act(client, headers, case, action, state, **input)
        assert response.status_code == 200, (action, response.text)
    assert response.json()["state"] == "bauantrag_gestellt"


def test_cli_tick_with_injected_now(cli_env: dict[str, str]) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "eakte.cli", "process", "tick", "--now", "gestern"],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "eakte.cli",
            "process",
            "tick",
            "--now",
            "2030-01-01T00:00:00+01:00",
        ],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "0 fired" in ok.stderr


def test_committed_procedure_docs_are_current() -> None:
    from pathlib import Path

    from workflows import load_versions, render_markdown

    committed = Path(__file__).parents[3] / "docs" / "procedures.md"
    assert committed.read_text(encoding="utf-8") == render_markdown(
        [d for versions in load_versions().values() for d in versions]
    ), (
        "docs/procedures.md is stale: run `eakte procedures docs`"
    )
