"""0202/0212/0601: the changed data of `bauvorhabenAenderungsdaten` is written into the case.

The changes go through `cases.service.update_case`, the path of REST edits: a new revision, an
audit event `case.updated_from_xbau` with old and new values, and the search text follows. A
change for a decided or closed case is refused with a 1100 (XBau 2.6: a 0202 refers to an
application "zu dem noch kein Bescheid erteilt wurde").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import func, select

from eakte.cases.models import Case
from eakte.documents.models import Document
from eakte.xbau import outgoing, parsing
from eakte.xbau.models import XBauOutgoing

FIXTURES = Path(__file__).parent / "fixtures"
XBAU = "http://www.xleitstelle.de/xbau/2/6"
CHANGE = "0202_aenderung_bauvorhaben.xml"
LAGEPLAN = ("lageplan.pdf", "application/pdf", "lageplan", "Lageplan M 1:1000")
SITE_BEFORE = {
    "address": "Am Eiskanal 7, 86161 Augsburg",
    "gemarkung": "Hochzoll",
    "flurstueck": "1234/5",
}


Builder = Callable[..., tuple[str, bytes]]


def _change(build_message: Builder, file_number: str, keep: str | None = None) -> bytes:
    """The change fixture for `file_number`, with only the element `keep` of the changed data
    (a path below bauvorhabenAenderungsdaten, e.g. "beteiligte/bauherr"); None keeps all."""
    _, raw = build_message(CHANGE, vorgang=file_number)
    root = etree.fromstring(raw)
    data = root.find(f"{{{XBAU}}}bauvorhabenAenderungsdaten")
    assert data is not None
    if keep is not None:
        first, *rest = keep.split("/")
        for child in list(data):
            if etree.QName(child).localname != first:
                data.remove(child)
        if rest:
            [parent] = list(data)
            for child in list(parent):
                if etree.QName(child).localname != rest[0]:
                    parent.remove(child)
    raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    parsing.load(raw)  # every variant is a valid XBau 2.6 message
    return raw


async def _received(deliver, message, pdf) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[LAGEPLAN])
    response = await deliver(raw, {"lageplan.pdf": pdf})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _case(client: httpx.AsyncClient, auth: Any, case_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=auth("clerk"))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def _attributes(db: Any, case_id: str) -> dict[str, Any]:
    async with db.session(write=False) as session:
        case = await session.get(Case, uuid.UUID(case_id))
        assert case is not None
        return dict(case.attributes or {})


def test_the_change_fixture_is_valid_xbau() -> None:
    parsing.load((FIXTURES / CHANGE).read_bytes())


async def test_every_changed_field_is_written_audited_and_searchable(
    client, auth, deliver, message, pdf, db
) -> None:  # type: ignore[no-untyped-def]
    first = await _received(deliver, message, pdf)
    before = await _case(client, auth, first["case_id"])
    response = await deliver(_change(message, first["file_number"]))
    assert response.status_code == 201, response.text
    body = response.json()
    case = await _case(client, auth, first["case_id"])
    assert case["title"] == "Neubau eines Einfamilienhauses mit Einliegerwohnung und Carport"
    # weitereAngaben explain the change (XBau 2.6 Bauvorhaben: "ergänzende textliche
    # Erläuterungen"): kept as a dated note with the message id, the description stays
    assert case["description"] == before["description"]
    assert case["applicant"] == {
        "name": "Dr. Maria Huber-Wagner",
        "email": "m.huber-wagner@example.org",
    }
    assert case["site"] == {
        "address": "Am Eiskanal 7a, 86161 Augsburg",
        "gemarkung": "Hochzoll",
        "flurstueck": "1234/6",
    }
    assert case["revision"] == before["revision"] + 1
    attributes = await _attributes(db, first["case_id"])
    assert attributes["designer"]["name"] == "Planungsgruppe Wertach GmbH"
    assert attributes["applicant_contact"]["address"] == "Rosenaustraße 21, 86150 Augsburg"
    assert attributes["xbau"]["flur"] == "4"
    assert attributes["xbau"]["portal_reference"]  # the rest of the XBau attributes is kept
    [note] = attributes["weitere_angaben"]
    assert note["text"].startswith("Zweigeschossiges Wohnhaus mit Einliegerwohnung")
    assert note["message_uuid"] == body["message_uuid"]
    assert note["received_on"]

    # what changed is recorded: in the answer and in the case history (old and new values)
    assert set(body["changes"]) == {
        "title",
        "attributes.weitere_angaben",
        "applicant_name",
        "applicant_email",
        "site_address",
        "site_flurstueck",
        "attributes.applicant_contact",
        "attributes.designer",
        "attributes.xbau",
    }
    assert body["changes"]["site_flurstueck"] == {"old": "1234/5", "new": "1234/6"}
    history = await client.get(f"/api/v1/cases/{first['case_id']}/history", headers=auth("clerk"))
    [entry] = [e for e in history.json()["items"] if e["action"] == "case.updated_from_xbau"]
    assert entry["details"]["changes"]["title"]["old"] == before["title"]
    assert "(XBau)" in (entry["actor_name"] or "")
    [received] = [
        e
        for e in history.json()["items"]
        if e["action"] == "xbau.message_received"
        and e["details"].get("message_uuid") == body["message_uuid"]
    ]
    assert "weitere Angaben: Zweigeschossiges Wohnhaus" in received["text"]

    # a second change adds its note; the first stays
    second = await deliver(_change(message, first["file_number"], "weitereAngaben"))
    assert second.status_code == 201, second.text
    notes = (await _attributes(db, first["case_id"]))["weitere_angaben"]
    assert [n["message_uuid"] for n in notes] == [
        body["message_uuid"],
        second.json()["message_uuid"],
    ]
    assert (await _case(client, auth, first["case_id"]))["description"] == before["description"]

    # the search index follows the change
    found = await client.get("/api/v1/cases?q=Einliegerwohnung", headers=auth("clerk"))
    assert [c["id"] for c in found.json()["items"]] == [first["case_id"]]


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        ("bezeichnungDesBauvorhabens", {"title"}),
        ("weitereAngaben", {"attributes.weitere_angaben"}),
        (
            "beteiligte/bauherr",
            {"applicant_name", "applicant_email", "attributes.applicant_contact"},
        ),
        ("beteiligte/entwurfsverfasser", {"attributes.designer"}),
        ("verortung", {"site_address", "site_flurstueck", "attributes.xbau"}),
    ],
)
async def test_each_mapped_field_alone_changes_only_that_field(
    client, auth, deliver, message, pdf, db, keep, expected
) -> None:  # type: ignore[no-untyped-def]
    first = await _received(deliver, message, pdf)
    before = await _case(client, auth, first["case_id"])
    attributes_before = await _attributes(db, first["case_id"])
    response = await deliver(_change(message, first["file_number"], keep))
    assert response.status_code == 201, response.text
    assert set(response.json()["changes"]) == expected
    after = await _case(client, auth, first["case_id"])
    attributes = await _attributes(db, first["case_id"])
    unchanged = {
        "title": ("title" not in expected, after["title"] == before["title"]),
        "description": (
            "description" not in expected,
            after["description"] == before["description"],
        ),
        "applicant": (
            "applicant_name" not in expected,
            after["applicant"] == before["applicant"],
        ),
        "site": ("site_address" not in expected, after["site"] == SITE_BEFORE),
        "designer": (
            "attributes.designer" not in expected,
            attributes["designer"] == attributes_before["designer"],
        ),
    }
    for name, (should_stay, stayed) in unchanged.items():
        assert should_stay == stayed, name


async def test_a_change_without_changed_data_keeps_the_case_as_it_was(
    client, auth, deliver, message, pdf
) -> None:  # type: ignore[no-untyped-def]
    first = await _received(deliver, message, pdf)
    before = await _case(client, auth, first["case_id"])
    _, raw = message(
        "0202_nachreichung.xml",
        vorgang=first["file_number"],
        anlagen=[("plan2.pdf", "application/pdf", "lageplan", "Lageplan neu")],
    )
    root = etree.fromstring(raw)
    data = root.find(f"{{{XBAU}}}bauvorhabenAenderungsdaten")
    root.remove(data)  # type: ignore[arg-type]
    raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    response = await deliver(raw, {"plan2.pdf": pdf})
    assert response.status_code == 201, response.text
    assert response.json()["changes"] == {} and len(response.json()["documents"]) == 1
    after = await _case(client, auth, first["case_id"])
    assert after == before | {"updated_at": after["updated_at"]}
    assert after["revision"] == before["revision"]


async def _refused(deliver, db, raw: bytes, case_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        documents = await session.scalar(
            select(func.count()).select_from(Document).where(Document.case_id == uuid.UUID(case_id))
        )
    files = {"lageplan-neu.pdf": b"%PDF-1.4\n"} if b"lageplan-neu.pdf" in raw else {}
    response = await deliver(raw, files)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"] == "urn:eakte:problem:xbau-case-closed"
    assert "entschieden oder abgeschlossen" in body["detail"] and "decided" in body["detail"]
    async with db.session(write=False) as session:
        rejection = await session.get(XBauOutgoing, uuid.UUID(body["rueckweisung"]))
        assert rejection is not None
        assert rejection.message_type == "prozessnachrichten.rueckweisung.G2G.1100"
        assert b"entschieden oder abgeschlossen" in rejection.body
        parsing.load(rejection.body)
        after = await session.scalar(
            select(func.count()).select_from(Document).where(Document.case_id == uuid.UUID(case_id))
        )
    assert after == documents  # nothing was added
    return body


async def test_change_for_a_withdrawn_case_is_refused_with_a_1100_and_changes_nothing(
    client, auth, deliver, message, pdf, db
) -> None:  # type: ignore[no-untyped-def]
    """Antragsrücknahme (Art. 22 BayVwVfG) ends the procedure: no change is taken after it."""
    first = await _received(deliver, message, pdf)
    withdrawn = await client.post(
        f"/api/v1/cases/{first['case_id']}/process/actions",
        json={
            "action": "ruecknahme_erklaeren",
            "expected_state": "eingegangen",
            "input": {"erklaert_am": "2026-12-01"},
        },
        headers=auth("clerk"),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    before = await _case(client, auth, first["case_id"])
    raw = _change(message, first["file_number"])
    root = etree.fromstring(raw)
    anlagen = deepcopy(etree.fromstring(message("0202_nachreichung.xml")[1]))
    container = anlagen.find(f"{{{XBAU}}}anlagen")
    container[0].find("anhangOderVerlinkung/anhang/dateiname").text = "lageplan-neu.pdf"  # type: ignore[index,union-attr]
    root.append(container)
    raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    await _refused(deliver, db, raw, first["case_id"])
    assert await _case(client, auth, first["case_id"]) == before


async def test_change_after_the_bescheid_went_out_is_refused(
    client, auth, deliver, message, pdf, db
) -> None:  # type: ignore[no-untyped-def]
    first = await _received(deliver, message, pdf)
    async with db.session() as session:
        case = await session.get(Case, uuid.UUID(first["case_id"]))
        assert case is not None
        sent = await outgoing.queue_decision(session, case, key="test-decision", granted=True)
        assert sent is not None
    before = await _case(client, auth, first["case_id"])
    body = await _refused(deliver, db, _change(message, first["file_number"]), first["case_id"])
    assert body["state"] == "eingegangen"
    assert await _case(client, auth, first["case_id"]) == before


async def test_unacceptable_changed_data_is_refused_with_reasons_not_a_500(
    client, auth, deliver, message, pdf, db
) -> None:  # type: ignore[no-untyped-def]
    first = await _received(deliver, message, pdf)
    before = await _case(client, auth, first["case_id"])
    raw = _change(message, first["file_number"])
    # valid XBau (kennung is free text), but not an e-mail address the case file takes
    raw = raw.replace(b"m.huber-wagner@example.org", b"m.huber@beispiel..de")
    response = await deliver(raw)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == "urn:eakte:problem:xbau-incomplete"
    assert "applicant.email" in body["detail"]
    assert body["rueckweisung"]  # the sender gets a 1100
    assert await _case(client, auth, first["case_id"]) == before  # nothing half-applied
    assert (await _attributes(db, first["case_id"]))["xbau"]["flur"] == "3"


async def test_0200_with_an_unacceptable_email_is_refused_not_a_500(deliver, message, db) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[])
    raw = raw.replace(b"maria.huber@example.org", b"maria.huber@beispiel..de")
    response = await deliver(raw)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:eakte:problem:xbau-incomplete"
    assert "applicant.email" in response.json()["detail"]
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0


async def test_a_transition_a_0202_causes_drafts_its_letters_for_an_official(
    client, auth, deliver, message, pdf, db, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The inbox's transaction carries the object store: a letter effect of the step the 0202
    takes (Unterlagen nachgereicht) is drafted, not only audited as not drafted."""
    from eakte.audit.models import AuditEvent
    from support import add_effect

    add_effect(
        monkeypatch,
        "unterlagen_nachreichen",
        "request_participations",
        kinds=["fachstelle_stellungnahme"],
    )
    first = await _received(deliver, message, pdf)
    clerk = auth("clerk", sub="clara")
    asked = await client.post(
        f"/api/v1/cases/{first['case_id']}/process/actions",
        json={
            "action": "nachfordern",
            "expected_state": "eingegangen",
            "input": {
                "maengel": ["Baubeschreibung fehlt"],
                "frist_bis": "2027-01-29",
                "hinweis_ruecknahmefiktion": True,
            },
        },
        headers=clerk,
    )
    assert asked.status_code == 200, asked.text
    _, raw = message(
        "0202_nachreichung.xml",
        vorgang=first["file_number"],
        anlagen=[("baubeschreibung.pdf", "application/pdf", "baubeschreibung", "Baubeschreibung")],
    )
    arrived = await deliver(raw, {"baubeschreibung.pdf": pdf})
    assert arrived.status_code == 201, arrived.text
    assert arrived.json()["procedure_action"] == "unterlagen_nachreichen"
    listed = (await client.get(f"/api/v1/cases/{first['case_id']}/issued", headers=clerk)).json()
    assert [(i["letter_type"], i["state"], i["addressee_kind"]) for i in listed] == [
        ("beteiligungsersuchen", "draft", "agency")
    ]
    async with db.session(write=False) as session:
        not_drafted = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "issuing.effect_letter_not_drafted")
        )
    assert not_drafted == 0
