"""Letters drafted from procedure effects: Beteiligungsersuchen and Benachrichtigung der
Nachbarn (Art. 65, 66 BayBO) become drafts for an official, never sent unsigned (issue 13)."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pypdf
import pytest
from sqlalchemy import select

from eakte.audit.models import AuditEvent
from eakte.db import utcnow
from eakte.outbox.models import OutboxMessage
from eakte.postroom.models import PrintItem
from eakte.process.definitions import calendar_for, get_definition
from eakte.process.service import local_today
from eakte.process.ticker import tick
from support import add_effect, issue_letter
from workflows import participation_deadline

BAUVORLAGEN = ("lageplan", "bauzeichnung", "baubeschreibung")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def _act(client, headers, case, action: str, expected: str, **input):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/cases/{case['id']}/process/actions",
        json={"action": action, "expected_state": expected, "input": input},
        headers=headers,
    )


async def _complete(client: httpx.AsyncClient, clerk, case) -> None:  # type: ignore[no-untyped-def]
    for kind in BAUVORLAGEN:
        response = await client.post(
            f"/api/v1/cases/{case['id']}/documents",
            data={"title": kind.title(), "kind": kind},
            files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
            headers=clerk,
        )
        assert response.status_code == 201, response.text
    done = await _act(client, clerk, case, "vollstaendigkeit_feststellen", "eingegangen")
    assert done.status_code == 200, done.text


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


async def test_request_participations_drafts_beteiligungsersuchen_art_65_baybo(
    client, auth, new_case, db
) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk", sub="clara@augsburg")
    case = await new_case()
    await _complete(client, clerk, case)
    listed = (await client.get(f"/api/v1/cases/{case['id']}/issued", headers=clerk)).json()
    drafts = [i for i in listed if i["letter_type"] == "beteiligungsersuchen"]
    assert [d["addressee_kind"] for d in drafts] == ["gemeinde", "agency", "agency"]
    assert {d["state"] for d in drafts} == {"draft"}
    assert {d["drafted_by_name"] for d in drafts} == {"Test clerk"}  # the official who acted
    definition = get_definition("baybo-59")
    due = participation_deadline(
        definition,
        "gemeinde_einvernehmen",
        requested_on=local_today(),
        calendar=calendar_for("bavaria"),
    ).due
    approver = auth("approver", sub="anton@augsburg")
    preview = await client.get(drafts[0]["preview_url"], headers=approver)
    assert preview.status_code == 200
    text = _text(preview.content)
    assert "Gemeinde (Einvernehmen nach § 36 BauGB)" in text
    assert due.strftime("%d.%m.%Y") in text  # two months (§ 36 Abs. 2 S. 2 BauGB)
    # the text names the participation's own period, never a fixed "one month"
    assert "innerhalb von zwei Monaten, also bis zum " + due.strftime("%d.%m.%Y") in text
    assert "§ 36 Abs. 2 S. 2 BauGB" in text
    assert "gilt Ihr Einvernehmen als erteilt" in text
    assert "eines Monats" not in text
    # a Fachstelle whose consent is needed: one month (Art. 65 Abs. 2 S. 2 BayBO)
    agency_due = participation_deadline(
        definition,
        "fachstelle_zustimmung",
        requested_on=local_today(),
        calendar=calendar_for("bavaria"),
    ).due
    assert agency_due != due
    agency = _text((await client.get(drafts[1]["preview_url"], headers=approver)).content)
    assert "innerhalb von einem Monat, also bis zum " + agency_due.strftime("%d.%m.%Y") in agency
    assert "Art. 65 Abs. 2 S. 2 BayBO" in agency
    assert "gilt Ihre Zustimmung oder Ihr Einvernehmen als erteilt" in agency
    assert "zwei Monaten" not in agency
    # a draft: nothing left the system, nothing is made known without an official signing
    async with db.session(write=False) as session:
        mails = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
        )
    assert not [m for m in mails if "Beteiligung" in m.payload.get("subject", "")]
    sign = await client.post(
        f"/api/v1/cases/{case['id']}/issued/{drafts[0]['id']}/sign", headers=approver
    )
    assert sign.status_code == 409  # no address yet: the official drafts it with one
    assert sign.json()["type"] == "urn:eakte:problem:issuing-blocked"
    assert sign.json()["reasons"][0]["de"].startswith("Für den Postversand fehlt die Anschrift")
    letter_url = f"/api/v1/cases/{case['id']}/issued/{drafts[0]['id']}"
    again = (await client.get(letter_url, headers=clerk)).json()
    assert again["state"] == "draft"
    # another clerk completes the address; the draft is rendered again, then it can be signed
    berta = auth("clerk", "admin", sub="berta@augsburg")  # named "Test clerk/admin"
    for bad, status in (
        ({"addressee": {"kind": "gemeinde", "name": "Stadt Augsburg"}}, 409),  # postal: address
        ({"colour": "rot"}, 422),
        ({"channel": "fax"}, 422),
    ):
        refused = await client.patch(letter_url, json=bad, headers=berta)
        assert refused.status_code == status, (bad, refused.text)
    assert (await client.patch(letter_url, json={}, headers=approver)).status_code == 403
    completed = await client.patch(
        letter_url,
        json={
            "addressee": {
                "kind": "gemeinde",
                "name": "Stadt Augsburg, Bauordnungsamt",
                "address": "Rathausplatz 1\n86150 Augsburg",
            }
        },
        headers=berta,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["draft_version"] == 2
    assert completed.json()["drafted_by_name"] == "Test clerk/admin"  # the editor drafts now
    text = _text((await client.get(drafts[0]["preview_url"], headers=approver)).content)
    assert "Rathausplatz 1" in text
    assert due.strftime("%d.%m.%Y") in text  # the effect's data are kept
    sealed = await client.post(f"{letter_url}/sign", headers=approver)
    assert sealed.status_code == 200, sealed.text
    assert (await client.patch(letter_url, json={}, headers=berta)).status_code == 409
    async with db.session(write=False) as session:
        queued = list(await session.scalars(select(PrintItem.issued_id)))
    assert [str(q) for q in queued] == [drafts[0]["id"]]  # it goes to the post room


async def test_serve_neighbours_drafts_the_benachrichtigung_art_66_baybo(
    client, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk", sub="clara@augsburg")
    approver = auth("approver", sub="anton@augsburg")
    case = await new_case()
    await _complete(client, clerk, case)
    neighbours = await _act(
        client,
        clerk,
        case,
        "nachbarbeteiligung_erfassen",
        "beteiligung",
        zustimmende_nachbarn=["Fl.-Nr. 1234/6"],
        nicht_zustimmende_nachbarn=["Fl.-Nr. 1234/7", "Fl.-Nr. 1234/8"],
    )
    assert neighbours.status_code == 200, neighbours.text
    closed = await _act(client, clerk, case, "beteiligung_abschliessen", "beteiligung")
    assert closed.status_code == 200, closed.text
    drafted = await _act(client, clerk, case, "entscheidung_entwerfen", "pruefung", vermerk="ok")
    assert drafted.status_code == 200, drafted.text
    await issue_letter(client, auth, case["id"], "baugenehmigung", make_known=False)
    signed = await _act(client, approver, case, "genehmigung_zeichnen", "zur_zeichnung")
    assert signed.status_code == 200, signed.text
    url = f"/api/v1/cases/{case['id']}/issued"
    before = (await client.get(url, headers=clerk)).json()
    assert not [i for i in before if i["letter_type"] == "nachbarbenachrichtigung"]
    known = await _act(
        client,
        clerk,
        case,
        "bekanntgabe_genehmigung_erfassen",
        "genehmigt",
        bekanntgabe_am=local_today().isoformat(),
    )
    assert known.status_code == 200, known.text
    letters = [
        i
        for i in (await client.get(url, headers=clerk)).json()
        if i["letter_type"] == "nachbarbenachrichtigung"
    ]
    assert sorted(i["addressee_name"] for i in letters) == [
        "Eigentümer/in des Grundstücks Fl.-Nr. 1234/7",
        "Eigentümer/in des Grundstücks Fl.-Nr. 1234/8",
    ]  # only the neighbours who did not consent (Art. 66 Abs. 1 BayBO)
    assert {(i["state"], i["channel"], i["addressee_kind"]) for i in letters} == {
        ("draft", "postal", "neighbour")
    }
    permit = next(i for i in before if i["letter_type"] == "baugenehmigung")
    # each letter serves the sealed permit (Art. 66 Abs. 1 S. 4 BayBO), from the new default
    assert {i["enclosure_id"] for i in letters} == {permit["id"]}
    assert {(i["template_version"], i["default_version"]) for i in letters} == {(0, 2)}
    preview = await client.get(letters[0]["preview_url"], headers=approver)
    text = _text(preview.content)
    assert "Art. 66 Abs. 1 S. 4 BayBO" in text
    assert "Ausfertigung des Bescheids zugestellt" in text
    assert f"Prüfnummer {permit['verification_ref']}" in text  # names the enclosure
    assert "innerhalb eines Monats nach seiner Zustellung Klage" in text  # for the neighbour
    assert "§ 212a Abs. 1 BauGB" in text
    assert "einsehen (Art. 66 Abs. 1 BayBO)" not in text  # the old "inspect the plans" letter
    letter_url = f"{url}/{letters[0]['id']}"
    berta = auth("clerk", sub="berta@augsburg")
    electronic = await client.patch(
        letter_url,
        json={
            "channel": "electronic",
            "addressee": {"kind": "neighbour", "name": "Nora Nachbar", "email": "n@example.org"},
        },
        headers=berta,
    )
    assert electronic.status_code == 409  # served by post with the decision enclosed
    assert "Post zugestellt" in electronic.json()["reasons"][0]["de"]
    completed = await client.patch(
        letter_url,
        json={
            "addressee": {
                "kind": "neighbour",
                "name": "Nora Nachbar",
                "address": "Königstr. 1\n90402 Nürnberg",
            }
        },
        headers=berta,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["enclosure_id"] == permit["id"]  # kept when the draft changes
    sealed = await client.post(f"{letter_url}/sign", headers=approver)
    assert sealed.status_code == 200, sealed.text
    postroom = auth("postroom", sub="paula@augsburg")
    batch = (await client.post("/api/v1/postroom/batches", json={}, headers=postroom)).json()
    assert [i["issued_id"] for i in batch["items"]] == [letters[0]["id"]]
    item = batch["items"][0]
    content = (await client.get(batch["content_url"], headers=postroom)).content
    pages = [
        " ".join((p.extract_text() or "").split())
        for p in pypdf.PdfReader(io.BytesIO(content)).pages
    ]
    assert f"Anlage: Baugenehmigung ({permit['verification_ref']})" in pages[0]  # cover list
    printed = pages[item["first_page"] - 1 : item["first_page"] - 1 + item["pages"]]
    assert "Nora Nachbar" in printed[0]
    assert any("wird die Baugenehmigung für das Vorhaben" in p for p in printed[1:])  # enclosed
    assert any(permit["verification_ref"] in p for p in printed[1:])


async def test_a_neighbour_letter_needs_a_sealed_decision_to_serve(client, auth, new_case) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk", sub="clara@augsburg")
    case = await new_case()
    refused = await client.post(
        f"/api/v1/cases/{case['id']}/issued",
        json={
            "letter_type": "nachbarbenachrichtigung",
            "channel": "postal",
            "addressee": {"kind": "neighbour", "name": "Nora", "address": "A 1\n90402 N"},
        },
        headers=clerk,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "urn:eakte:problem:issuing-blocked"
    assert "Art. 66 Abs. 1 S. 4 BayBO" in refused.json()["reasons"][0]["de"]


@pytest.fixture
def letters_on_overdue_check(monkeypatch):  # type: ignore[no-untyped-def]
    """baybo-59 with a letter effect on a transition nobody requests: the ticker's
    `vollstaendigkeitspruefung_ueberfaellig` also asks for the Gemeinde's participation."""
    add_effect(
        monkeypatch,
        "vollstaendigkeitspruefung_ueberfaellig",
        "request_participations",
        kinds=["gemeinde_einvernehmen"],
    )


@pytest.mark.parametrize("with_store", [True, False])
async def test_a_ticker_transition_drafts_its_letters_for_an_official(
    client, auth, new_case, app, db, letters_on_overdue_check, with_store
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    store = app.state.store if with_store else None
    report = await tick(db, now=utcnow() + timedelta(days=30), store=store)
    assert [f.rsplit(":", 1)[-1] for f in report.fired] == [
        "vollstaendigkeitspruefung_ueberfaellig"
    ]
    clerk = auth("clerk", sub="clara@augsburg")
    listed = (await client.get(f"/api/v1/cases/{case['id']}/issued", headers=clerk)).json()
    async with db.session(write=False) as session:
        not_drafted = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "issuing.effect_letter_not_drafted")
            )
        )
        mails = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
        )
    if not with_store:  # a caller without the object store: audited, the step still runs
        assert listed == [] and len(not_drafted) == 1
        return
    assert not_drafted == []
    [letter] = listed
    assert (letter["letter_type"], letter["state"], letter["addressee_kind"]) == (
        "beteiligungsersuchen",
        "draft",
        "gemeinde",
    )
    assert letter["drafted_by_name"] == "E-Akte (Fristablauf)"  # drafted by the system …
    assert not [m for m in mails if "Beteiligung" in m.payload.get("subject", "")]
    # … completed and signed by officials: nothing with legal effect leaves without them
    url = f"/api/v1/cases/{case['id']}/issued/{letter['id']}"
    approver = auth("approver", sub="anton@augsburg")
    assert (await client.post(f"{url}/sign", headers=approver)).status_code == 409  # no address
    completed = await client.patch(
        url,
        json={
            "addressee": {"kind": "gemeinde", "name": "Stadt Augsburg", "address": "R 1\n86150 A"}
        },
        headers=clerk,
    )
    assert completed.status_code == 200, completed.text
    signed = await client.post(f"{url}/sign", headers=approver)
    assert signed.status_code == 200, signed.text
