"""Issue 12 rules through the service and API: each test names its legal source."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

import workflows as wf
from eakte.db import Database
from eakte.process import errors
from eakte.process.service import map_workflow_error
from eakte.process.ticker import tick
from eakte.tenants.service import ensure_tenant
from support import LETTER_DATA, TINY_PDF, issue_letter

BAUVORLAGEN = ("lageplan", "bauzeichnung", "baubeschreibung")


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


async def to_signing(client: httpx.AsyncClient, auth, case: dict) -> None:  # type: ignore[no-untyped-def]
    """Bauvorlagen uploaded, complete, participation closed, decision drafted (by Clara)."""
    clerk = auth("clerk", sub="clara@augsburg")
    for kind in BAUVORLAGEN:
        uploaded = await client.post(
            f"/api/v1/cases/{case['id']}/documents",
            data={"title": kind.title(), "kind": kind},
            files={"file": (f"{kind}.pdf", TINY_PDF, "application/pdf")},
            headers=clerk,
        )
        assert uploaded.status_code == 201, uploaded.text
    for action, state in (
        ("vollstaendigkeit_feststellen", "eingegangen"),
        ("beteiligung_abschliessen", "beteiligung"),
        ("entscheidung_entwerfen", "pruefung"),
    ):
        response = await act(client, clerk, case, action, state)
        assert response.status_code == 200, response.text


async def to_refusal_signed(client: httpx.AsyncClient, auth, case: dict) -> None:  # type: ignore[no-untyped-def]
    approver = auth("approver", sub="anton@augsburg")
    await to_signing(client, auth, case)
    # the refusal is signed only once its sealed Bescheid exists (issue 13)
    await issue_letter(client, auth, case["id"], "ablehnungsbescheid", make_known=False)
    signed = await act(
        client, approver, case, "ablehnung_zeichnen", "zur_zeichnung", begruendung="§ 34 BauGB"
    )
    assert signed.status_code == 200, signed.text


async def test_bekanntgabe_by_post_is_computed_not_the_posting_day(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 41 Abs. 2 S. 1 BayVwVfG (fourth day from 01.01.2025, [nv] for Bavaria); Art. 41
    Abs. 2 S. 3: a proven later receipt counts, an earlier one does not move it forward."""
    case = await new_case(received_on="2026-03-02")
    await to_refusal_signed(client, auth, case)
    url = f"/api/v1/cases/{case['id']}/process/bekanntgabe"
    clerk = auth("clerk")
    body = {"expected_state": "ablehnung_gezeichnet", "method": "post", "sent_on": "2026-05-04"}
    preview = await client.post(url, json=body | {"preview": True}, headers=clerk)
    assert preview.status_code == 200, preview.text
    assert preview.json()["bekanntgabe_on"] == "2026-05-08"
    assert preview.json()["process"] is None
    earlier = await client.post(url, json=body | {"proven_receipt_on": "2026-05-05"}, headers=clerk)
    assert earlier.status_code == 422
    assert earlier.json()["errors"][0]["code"] == "earlier_receipt"
    assert "verschiebt" in earlier.json()["errors"][0]["de"]
    later = await client.post(url, json=body | {"proven_receipt_on": "2026-05-11"}, headers=clerk)
    assert later.status_code == 200, later.text
    result = later.json()
    assert result["bekanntgabe_on"] == "2026-05-11"
    assert result["recorded_by_action"] == "bekanntgabe_ablehnung_erfassen"
    assert result["process"]["state"] == "abgelehnt"
    assert result["process"]["variables"]["bekanntgabe_am"] == "2026-05-11"
    again = await client.post(url, json=body, headers=clerk)
    assert again.status_code == 409


async def posted_letter(client: httpx.AsyncClient, auth, case_id: str, letter_type: str) -> dict:  # type: ignore[no-untyped-def]
    """A postal letter drafted by Clara and signed by Anton (issuing, issue 13)."""
    drafted = await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={
            "letter_type": letter_type,
            "channel": "postal",
            "addressee": {"name": "Jörg Müller", "address": "Hauptstraße 5\n86150 Augsburg"},
            "data": LETTER_DATA[letter_type],
        },
        headers=auth("clerk", sub="clara@augsburg"),
    )
    assert drafted.status_code == 201, drafted.text
    signed = await client.post(
        f"/api/v1/cases/{case_id}/issued/{drafted.json()['id']}/sign",
        headers=auth("approver", sub="anton@augsburg"),
    )
    assert signed.status_code == 200, signed.text
    return signed.json()  # type: ignore[no-any-return]


async def process_view(client: httpx.AsyncClient, auth, case: dict) -> dict:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/cases/{case['id']}/process", headers=auth("clerk"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def running(view: dict) -> dict[str, str]:
    return {d["kind"]: d["due"] for d in view["deadlines"] if d["status"] == "running"}


@pytest.mark.parametrize(
    ("letter_type", "sign", "signed_state", "final_state"),
    [
        ("baugenehmigung", "genehmigung_zeichnen", "genehmigt", "genehmigung_wirksam"),
        ("ablehnungsbescheid", "ablehnung_zeichnen", "ablehnung_gezeichnet", "abgelehnt"),
    ],
)
async def test_posting_the_decision_letter_is_the_procedures_bekanntgabe(
    client: httpx.AsyncClient,
    auth,
    new_case,
    letter_type: str,
    sign: str,
    signed_state: str,
    final_state: str,
) -> None:  # type: ignore[no-untyped-def]
    """Art. 42a Abs. 1 BayVwVfG: the Bekanntgabe of the decision, recorded by posting its
    letter (issuing route), stops the Fiktion clock; Art. 41 Abs. 2 BayVwVfG: on the fourth
    day after posting (from 01.01.2025, [nv] for Bavaria) — the same rule as the process
    route; Art. 69 Abs. 1 BayBO: the Geltungsdauer of a permit starts from that day."""
    case = await new_case(received_on="2026-03-02", housing=True)
    assert running(await process_view(client, auth, case))["genehmigungsfiktion"] == "2026-06-23"
    await to_signing(client, auth, case)
    letter = await posted_letter(client, auth, case["id"], letter_type)
    signed = await act(
        client,
        auth("approver", sub="anton@augsburg"),
        case,
        sign,
        "zur_zeichnung",
        **({"begruendung": "§ 34 BauGB"} if sign == "ablehnung_zeichnen" else {}),
    )
    assert signed.status_code == 200, signed.text
    assert "genehmigungsfiktion" in running(signed.json())  # signing does not stop it
    known = await client.post(
        f"/api/v1/cases/{case['id']}/issued/{letter['id']}/bekanntgabe",
        json={"posted_on": "2026-05-04"},
        headers=auth("clerk", sub="clara@augsburg"),
    )
    assert known.status_code == 200, known.text
    assert known.json()["bekanntgabe_on"] == "2026-05-08"
    view = await process_view(client, auth, case)
    assert view["state"] == final_state
    assert view["variables"]["bekanntgabe_am"] == "2026-05-08"
    assert "genehmigungsfiktion" not in running(view)
    assert view["transitions"][-1]["from_state"] == signed_state
    if final_state == "genehmigung_wirksam":
        assert running(view)["geltungsdauer"] == "2030-05-08"


async def test_a_refusal_posted_too_late_is_refused_and_stays_signed(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 42a Abs. 1 BayVwVfG, Art. 68 Abs. 2 BayBO: a refusal made known after the Fiktion
    took effect (23.06.2026) cannot stop it: posted 25.06., known 29.06.: 422, nothing
    changes; the procedure's role rule applies to the issuing route too (approver: 403)."""
    case = await new_case(received_on="2026-03-02", housing=True)
    await to_signing(client, auth, case)
    letter = await posted_letter(client, auth, case["id"], "ablehnungsbescheid")
    signed = await act(
        client,
        auth("approver", sub="anton@augsburg"),
        case,
        "ablehnung_zeichnen",
        "zur_zeichnung",
        begruendung="§ 34 BauGB",
    )
    assert signed.status_code == 200, signed.text
    url = f"/api/v1/cases/{case['id']}/issued/{letter['id']}/bekanntgabe"
    late = await client.post(
        url, json={"posted_on": "2026-06-25"}, headers=auth("clerk", sub="clara@augsburg")
    )
    assert late.status_code == 422, late.text
    assert late.json()["type"] == "urn:eakte:problem:action-blocked"
    assert late.json()["reasons"][0]["code"] == "fiction_occurred"
    approver = await client.post(
        url, json={"posted_on": "2026-05-04"}, headers=auth("approver", sub="anton@augsburg")
    )
    assert approver.status_code == 403, approver.text
    listed = await client.get(f"/api/v1/cases/{case['id']}/issued", headers=auth("clerk"))
    assert next(i for i in listed.json() if i["id"] == letter["id"])["state"] == "signed"
    assert (await process_view(client, auth, case))["state"] == "ablehnung_gezeichnet"


async def test_a_legal_challenge_suspends_the_validity_audited_and_the_ticker_waits(
    client: httpx.AsyncClient, auth, new_case, settings
) -> None:  # type: ignore[no-untyped-def]
    """Art. 69 Abs. 1 Hs. 2 BayBO: while a Widerspruch runs the permit does not lapse, even
    long after its old end; afterwards the validity ends later by the suspended days
    (01.06.–30.11.2026 = 183 days, § 209 BGB): 08.05.2030 → 07.11.2030. Both steps are
    audited with their dates and reasons."""
    case = await new_case(received_on="2026-03-02", housing=True)
    await to_signing(client, auth, case)
    letter = await posted_letter(client, auth, case["id"], "baugenehmigung")
    clerk = auth("clerk", sub="clara@augsburg")
    signed = await act(
        client,
        auth("approver", sub="anton@augsburg"),
        case,
        "genehmigung_zeichnen",
        "zur_zeichnung",
    )
    assert signed.status_code == 200, signed.text
    known = await client.post(
        f"/api/v1/cases/{case['id']}/issued/{letter['id']}/bekanntgabe",
        json={"posted_on": "2026-05-04"},
        headers=clerk,
    )
    assert known.status_code == 200, known.text
    lodged = await act(
        client,
        clerk,
        case,
        "rechtsbehelf_erfassen",
        "genehmigung_wirksam",
        art="Widerspruch Nachbar Fl.Nr. 7/3",
        eingelegt_am="2026-06-01",
        begruendung="Widerspruchsschreiben vom 01.06.2026",
    )
    assert lodged.status_code == 200, lodged.text
    assert lodged.json()["state"] == "rechtsbehelf_anhaengig"
    assert "geltungsdauer" not in running(lodged.json())
    db = Database(settings.resolved_database_url())
    try:
        # without the suspension the permit would have lapsed on 09.05.2030
        await tick(db, now=datetime(2031, 1, 10, 9, tzinfo=UTC))
    finally:
        await db.dispose()
    after_tick = await process_view(client, auth, case)
    assert after_tick["state"] == "rechtsbehelf_anhaengig"
    assert after_tick["transitions"][-1]["action"] == "rechtsbehelf_erfassen"
    ended = await act(
        client,
        clerk,
        case,
        "rechtsbehelf_erledigt",
        "rechtsbehelf_anhaengig",
        erledigt_am="2026-11-30",
        begruendung="Widerspruch zurückgenommen",
    )
    assert ended.status_code == 200, ended.text
    view = ended.json()
    assert view["state"] == "genehmigung_wirksam"
    assert running(view)["geltungsdauer"] == "2030-11-07"
    assert view["variables"]["hemmungen"]["2026-06-01"]["bis"] == "2026-11-30"
    assert view["variables"]["hemmungen"]["2026-06-01"]["geltungsdauer_vorher"] == "2030-05-08"
    history = (
        await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("auditor"))
    ).json()["items"]
    steps = {
        e["details"]["action"]: e["details"] for e in history if e["action"] == "process.transition"
    }
    assert steps["rechtsbehelf_erfassen"]["input"]["eingelegt_am"] == "2026-06-01"
    assert steps["rechtsbehelf_erledigt"]["input"]["begruendung"] == "Widerspruch zurückgenommen"
    assert steps["rechtsbehelf_erledigt"]["deadlines_started"] == {"geltungsdauer": "2030-11-07"}


async def test_a_challenge_lodged_after_the_validity_ended_or_in_the_future_is_422(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 69 Abs. 1 Hs. 2 BayBO: only a running validity can be suspended; bad dates are a
    422 with German and English reasons, and nothing changes."""
    case = await new_case(received_on="2026-03-02", housing=True)
    await to_signing(client, auth, case)
    letter = await posted_letter(client, auth, case["id"], "baugenehmigung")
    clerk = auth("clerk", sub="clara@augsburg")
    await act(
        client,
        auth("approver", sub="anton@augsburg"),
        case,
        "genehmigung_zeichnen",
        "zur_zeichnung",
    )
    await client.post(
        f"/api/v1/cases/{case['id']}/issued/{letter['id']}/bekanntgabe",
        json={"posted_on": "2026-05-04"},
        headers=clerk,
    )
    for day, code in (("2099-01-01", "challenge_in_future"), ("gestern", None)):
        response = await act(
            client,
            clerk,
            case,
            "rechtsbehelf_erfassen",
            "genehmigung_wirksam",
            art="Klage",
            eingelegt_am=day,
            begruendung="x",
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"].startswith("urn:eakte:problem:")
        if code is not None:
            assert body["reasons"][0]["code"] == code
            assert body["reasons"][0]["de"] and body["reasons"][0]["en"]
    assert (await process_view(client, auth, case))["state"] == "genehmigung_wirksam"


async def test_a_letter_the_procedure_does_not_await_leaves_it_alone(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 42a Abs. 1 BayVwVfG: only the Bekanntgabe of the decision the procedure signed
    counts; a letter posted before the signing step changes nothing in the procedure."""
    case = await new_case(received_on="2026-03-02", housing=True)
    letter = await posted_letter(client, auth, case["id"], "baugenehmigung")
    known = await client.post(
        f"/api/v1/cases/{case['id']}/issued/{letter['id']}/bekanntgabe",
        json={"posted_on": "2026-05-04"},
        headers=auth("clerk", sub="clara@augsburg"),
    )
    assert known.status_code == 200, known.text
    view = await process_view(client, auth, case)
    assert view["state"] == "eingegangen"
    assert "bekanntgabe_am" not in view["variables"]
    assert running(view)["genehmigungsfiktion"] == "2026-06-23"


async def test_a_provided_decision_waits_for_its_retrieval(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 41 Abs. 2a BayVwVfG: provided for retrieval, the decision has no Bekanntgabe day
    until it is retrieved, so the procedure (and the Fiktion clock) is not changed yet."""
    case = await new_case(received_on="2026-03-02", housing=True)
    await to_refusal_signed(client, auth, case)
    letter = next(
        item
        for item in (
            await client.get(f"/api/v1/cases/{case['id']}/issued", headers=auth("clerk"))
        ).json()
        if item["letter_type"] == "ablehnungsbescheid"
    )
    known = await client.post(
        f"/api/v1/cases/{case['id']}/issued/{letter['id']}/bekanntgabe",
        json={},
        headers=auth("clerk", sub="clara@augsburg"),
    )
    assert known.status_code == 200, known.text
    assert known.json()["bekanntgabe_on"] is None
    view = await process_view(client, auth, case)
    assert view["state"] == "ablehnung_gezeichnet"
    assert "genehmigungsfiktion" in running(view)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"method": "provision"}, "not_retrieved"),
        ({"method": "provision", "retrieved_on": "2026-05-20"}, "retrieval_too_late"),
    ],
)
async def test_bekanntgabe_by_provision_needs_a_timely_retrieval(
    client: httpx.AsyncClient, auth, new_case, extra: dict, code: str
) -> None:  # type: ignore[no-untyped-def]
    """Art. 41 Abs. 2a S. 3-5 BayVwVfG: known the day after retrieval; not retrieved within
    ten days: no Bekanntgabe."""
    case = await new_case()
    body = {"expected_state": "eingegangen", "sent_on": "2026-05-04", "preview": True} | extra
    response = await client.post(
        f"/api/v1/cases/{case['id']}/process/bekanntgabe", json=body, headers=auth("clerk")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == code


async def test_bekanntgabe_bad_input_is_422(client: httpx.AsyncClient, auth, new_case) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await client.post(
        f"/api/v1/cases/{case['id']}/process/bekanntgabe",
        json={"expected_state": "eingegangen", "method": "taube", "sent_on": "gestern"},
        headers=auth("clerk"),
    )
    assert response.status_code == 422
    assert response.json()["type"].startswith("urn:eakte:problem:")


async def test_no_bekanntgabe_without_a_signed_decision(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 42a Abs. 1 BayVwVfG: only a decision's Bekanntgabe counts; none is pending here."""
    case = await new_case()
    response = await client.post(
        f"/api/v1/cases/{case['id']}/process/bekanntgabe",
        json={"expected_state": "eingegangen", "method": "post", "sent_on": "2026-05-04"},
        headers=auth("clerk"),
    )
    assert response.status_code == 409


async def test_deemed_consent_counts_from_the_requests_arrival(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Art. 65 Abs. 2 S. 2 BayBO: one month from the *arrival* of the request; the agency's
    own answer date is checked against the answer's arrival."""
    case = await new_case()
    clerk = auth("clerk")
    asked = await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={
            "kind": "fachstelle_zustimmung",
            "party": "Denkmalschutz",
            "requested_on": "2026-03-02",
            "arrived_on": "2026-03-05",
        },
        headers=clerk,
    )
    assert asked.status_code == 201, asked.text
    # 05.04.2026 is Easter Sunday, 06.04. Easter Monday: the month ends on Tuesday 07.04.
    assert asked.json()["arrived_on"] == "2026-03-05"
    assert asked.json()["due"] == "2026-04-07"
    answered = await client.post(
        f"/api/v1/cases/{case['id']}/participations/{asked.json()['id']}/answer",
        json={"answer": "refusal", "answered_on": "2026-04-01", "received_on": "2026-04-09"},
        headers=clerk,
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["late"] is True and body["claim_contradicts_arrival"] is True
    bad = await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={
            "kind": "fachstelle_zustimmung",
            "party": "x",
            "requested_on": "2026-03-05",
            "arrived_on": "2026-03-02",
        },
        headers=clerk,
    )
    assert bad.status_code == 422


async def test_an_older_pinned_version_keeps_working(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    """Versioned law: a case received before 01.01.2025 is pinned to baybo-59 v1 and keeps
    working while v2 applies to new cases (no 500)."""
    old = await new_case(received_on="2024-06-03")
    new = await new_case(received_on="2025-01-02")
    clerk = auth("clerk")
    views = [
        (await client.get(f"/api/v1/cases/{c['id']}/process", headers=clerk)).json()
        for c in (old, new)
    ]
    assert [v["procedure_version"] for v in views] == [1, 2]
    response = await act(
        client,
        clerk,
        old,
        "nachfordern",
        "eingegangen",
        maengel=["Lageplan"],
        frist_bis=date.fromordinal(date.today().toordinal() + 30).isoformat(),
        hinweis_ruecknahmefiktion=False,
    )
    assert response.status_code == 200, response.text
    assert response.json()["procedure_version"] == 1
    listing = (await client.get("/api/v1/procedures", headers=clerk)).json()
    assert {(p["id"], p["version"]) for p in listing["items"]} >= {("baybo-59", 2)}


async def test_unknown_holiday_calendar_is_refused_when_the_tenant_is_created(db) -> None:  # type: ignore[no-untyped-def]
    """Art. 31 Abs. 3 BayVwVfG needs the right holidays: a typo in the tenant's calendar is
    refused at configuration, not discovered at every deadline."""
    async with db.session() as session:
        with pytest.raises(wf.UnknownCalendar, match="bavaria-augsburg"):
            await ensure_tenant(
                session, slug="neusaess", name="Stadt Neusäß", holiday_calendar="bavaria-augsbrug"
            )
        created, was_created = await ensure_tenant(
            session, slug="neusaess", name="Stadt Neusäß", holiday_calendar="bavaria-catholic"
        )
        assert was_created and created.holiday_calendar == "bavaria-catholic"


def test_only_errors_a_user_can_cause_map_to_409_or_422() -> None:
    """map_workflow_error: programming errors stay 500 (procedure-error), logged."""
    assert isinstance(map_workflow_error(wf.StaleState("x")), errors.ActionConflict)
    assert isinstance(map_workflow_error(wf.UnknownAction("x")), errors.UnknownActionError)
    for internal in (wf.InvalidContext("bad key"), wf.DefinitionMismatch("v1 vs v2")):
        mapped = map_workflow_error(internal)
        assert isinstance(mapped, errors.ProcedureError)
        assert mapped.status == 500
