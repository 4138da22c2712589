"""The inbox: an 0200 from the portal becomes a case with its documents, exactly once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from eakte.cases.models import Case
from eakte.documents.fsck import check
from eakte.documents.models import Document
from eakte.xbau import parsing
from eakte.xbau.models import XBauOutgoing
from support import TENANT_A, TENANT_B

LAGEPLAN = ("lageplan.pdf", "application/pdf", "lageplan", "Lageplan M 1:1000")
ANSICHT = ("ansicht-sued.png", "image/png", "bauzeichnungAnsicht", "Ansicht Süd")


async def _count(db, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(await session.scalar(stmt) or 0)


async def _fsck_clean(app) -> None:  # type: ignore[no-untyped-def]
    report = await check(app.state.db, app.state.store, tenant=None, grace=timedelta(0))
    assert report.problems == 0, report


async def test_0200_becomes_a_case_with_mapped_fields_documents_and_original(
    deliver,
    message,
    pdf,
    png,
    client: httpx.AsyncClient,
    auth,
    db,
    app,  # type: ignore[no-untyped-def]
) -> None:
    message_uuid, raw = message(anlagen=[LAGEPLAN, ANSICHT])
    response = await deliver(raw, {"lageplan.pdf": pdf, "ansicht-sued.png": png})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "accepted" and body["message_uuid"] == message_uuid
    assert body["procedure"] == "baybo-59" and body["received_on"] == "2026-11-23"

    case = (await client.get(f"/api/v1/cases/{body['case_id']}", headers=auth("clerk"))).json()
    assert case["file_number"] == body["file_number"]
    assert case["title"] == "Neubau eines Einfamilienhauses mit Doppelgarage"
    assert case["applicant"] == {"name": "Maria Huber", "email": "maria.huber@example.org"}
    assert case["site"] == {
        "address": "Am Eiskanal 7, 86161 Augsburg",
        "gemarkung": "Hochzoll",
        "flurstueck": "1234/5",
    }
    assert case["housing"] is True and case["state"] == "eingegangen"

    process = (
        await client.get(f"/api/v1/cases/{body['case_id']}/process", headers=auth("clerk"))
    ).json()
    assert "2026-11-23" in str(process)  # Eingang from the message (Art. 64 Abs. 1 BayBO)

    docs = (
        await client.get(f"/api/v1/cases/{body['case_id']}/documents", headers=auth("clerk"))
    ).json()
    by_title = {d["title"]: d for d in docs["items"]}
    assert by_title["Lageplan M 1:1000"]["kind"] == "lageplan"
    assert by_title["Ansicht Süd"]["kind"] == "bauzeichnung"
    original = by_title["XBau-Nachricht 0200 (Original)"]
    assert original["id"] == body["original_document_id"]
    content = await client.get(original["latest_version"]["content_url"], headers=auth("clerk"))
    assert content.content == raw

    async with db.session(write=False) as session:
        ack = await session.scalar(
            select(XBauOutgoing).where(XBauOutgoing.case_id == uuid.UUID(case["id"]))
        )
    assert ack is not None and ack.message_type == "prozessnachrichten.eingangsbestaetigung.1120"
    assert ack.reader_kennung == "bpo:091620000"
    assert parsing.load(ack.body).code == "1120"
    await _fsck_clean(app)


async def test_second_delivery_answers_the_same_and_creates_nothing(
    deliver,
    message,
    pdf,
    db,  # type: ignore[no-untyped-def]
) -> None:
    _, raw = message(anlagen=[LAGEPLAN])
    first = await deliver(raw, {"lageplan.pdf": pdf})
    again = await deliver(raw, {"lageplan.pdf": pdf})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert await _count(db, Case) == 1
    assert await _count(db, XBauOutgoing) == 1


async def test_unknown_authority_is_refused(deliver, message, db) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(reader="bau:099999999", anlagen=[])
    response = await deliver(raw)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:xbau-unknown-authority"
    assert await _count(db, Case) == 0


async def test_another_tenants_authority_is_unknown_to_this_principal(
    deliver,
    message,
    db,  # type: ignore[no-untyped-def]
) -> None:
    _, raw = message(reader="bau:091620000", anlagen=[])  # München's address
    response = await deliver(raw, tenant=TENANT_A)
    assert response.status_code == 404
    assert await _count(db, Case) == 0
    assert (await deliver(raw, tenant=TENANT_B)).status_code == 201


async def test_attachment_whose_content_is_not_its_declared_type_leaves_nothing(
    deliver,
    message,
    png,
    db,
    app,  # type: ignore[no-untyped-def]
) -> None:
    _, raw = message(anlagen=[LAGEPLAN])
    response = await deliver(raw, {"lageplan.pdf": png})
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["type"] == "urn:eakte:problem:xbau-attachment-rejected"
    assert problem["detected_media_type"] == "image/png"
    assert await _count(db, Case) == 0 and await _count(db, Document) == 0
    rejection = await _rejection(db)
    assert parsing.load(rejection.body).code == "1100"
    assert problem["rueckweisung"] == str(rejection.id)
    await _fsck_clean(app)


async def _rejection(db) -> XBauOutgoing:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        row = await session.scalar(
            select(XBauOutgoing).where(
                XBauOutgoing.message_type == "prozessnachrichten.rueckweisung.G2G.1100"
            )
        )
    assert row is not None
    return row


async def test_a_failure_after_objects_were_stored_removes_them_and_the_case(
    deliver,
    message,
    pdf,
    db,
    app,  # type: ignore[no-untyped-def]
) -> None:
    # the declared hash is checked after the bytes are stored: the case, every row and every
    # object written so far must go again
    _, raw = message(anlagen=[LAGEPLAN, LAGEPLAN[:0] + ("plan2.pdf",) + LAGEPLAN[1:]])
    raw = raw.replace(b"<anhang>", b'<anhang hashValue="' + b"0" * 64 + b'">', 2)
    response = await deliver(raw, {"lageplan.pdf": pdf, "plan2.pdf": pdf})
    assert response.status_code == 415, response.text
    assert await _count(db, Case) == 0 and await _count(db, Document) == 0
    keys = list(app.state.store.iter_keys(f"{TENANT_A}/"))
    assert keys == []
    await _fsck_clean(app)


async def test_missing_and_unexpected_attachments(deliver, message, pdf, db) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[LAGEPLAN])
    missing = await deliver(raw, {})
    assert missing.status_code == 422 and missing.json()["missing"] == ["lageplan.pdf"]
    extra = await deliver(raw, {"lageplan.pdf": pdf, "virus.exe": b"MZ"})
    assert extra.status_code == 422 and extra.json()["unexpected"] == ["virus.exe"]
    assert await _count(db, Case) == 0


async def test_schema_invalid_message_is_refused_with_reasons_and_a_1100(
    deliver,
    message,
    db,  # type: ignore[no-untyped-def]
) -> None:
    _, raw = message(anlagen=[LAGEPLAN])
    raw = raw.replace(b"<versionsnummer>1</versionsnummer>", b"<versionsnummer>x</versionsnummer>")
    response = await deliver(raw)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:eakte:problem:xbau-schema-invalid"
    assert any("versionsnummer" in e["message"] for e in problem["errors"])
    rejection = await _rejection(db)
    assert rejection.reader_kennung == "bpo:091620000"


async def test_bad_xml_gets_problem_json_not_a_500(deliver, message) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[])
    forbidden = "xbau-forbidden-markup"
    cases = {
        raw[:200]: "xbau-malformed",
        b'<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>': forbidden,
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>': forbidden,
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>': forbidden,
        b"<r/>": "xbau-schema-invalid",
    }
    for body, slug in cases.items():
        response = await deliver(body)
        assert response.status_code in (400, 422), response.text
        problem = response.json()
        assert problem["type"] == f"urn:eakte:problem:{slug}"
        assert "root:" not in response.text


async def test_oversized_message(deliver, message, settings) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[])
    padded = raw.replace(
        b"</xbau:baugenehmigung.antrag.0200>",
        b"<!--" + b"x" * (16 * 1024 * 1024) + b"--></xbau:baugenehmigung.antrag.0200>",
    )
    response = await deliver(padded)
    assert response.status_code == 413
    assert response.json()["type"] == "urn:eakte:problem:xbau-too-large"


async def test_only_the_xbau_principal_may_deliver(deliver, message, auth) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[])
    assert (await deliver(raw, headers=auth("clerk"))).status_code == 403
    assert (await deliver(raw, headers={})).status_code == 401


async def test_unknown_verfahrensart_is_refused_and_missing_one_is_assumed(
    deliver,
    message,  # type: ignore[no-untyped-def]
) -> None:
    _, unknown = message(anlagen=[], verfahrensart="99")
    response = await deliver(unknown)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:eakte:problem:xbau-unsupported-message"
    _, none = message(anlagen=[], verfahrensart=None)
    accepted = await deliver(none)
    assert accepted.status_code == 201
    assert accepted.json()["procedure_assumed"] is True
    _, full = message(anlagen=[], verfahrensart="60")
    assert (await deliver(full)).json()["procedure"] == "baybo-60"


async def test_vorbescheid_and_genehmigungsfreistellung_open_their_procedures(
    deliver,
    message,
    pdf,
    client: httpx.AsyncClient,
    auth,  # type: ignore[no-untyped-def]
) -> None:
    _, vorbescheid = message("0210_vorbescheid.xml", anlagen=[LAGEPLAN])
    response = await deliver(vorbescheid, {"lageplan.pdf": pdf})
    assert response.status_code == 201, response.text
    assert response.json()["procedure"] == "baybo-71"
    process = (
        await client.get(
            f"/api/v1/cases/{response.json()['case_id']}/process", headers=auth("clerk")
        )
    ).json()
    assert len(process["variables"]["fragen"]) == 2
    _, freistellung = message("0600_genehmigungsfreistellung.xml", anlagen=[LAGEPLAN])
    response = await deliver(freistellung, {"lageplan.pdf": pdf})
    assert response.status_code == 201, response.text
    assert response.json()["procedure"] == "baybo-58"


async def test_change_for_an_unknown_or_foreign_case_is_refused(
    deliver,
    message,
    pdf,
    db,  # type: ignore[no-untyped-def]
) -> None:
    _, raw = message(anlagen=[LAGEPLAN], reader="bau:091620000")
    own = (await deliver(raw, {"lageplan.pdf": pdf}, tenant=TENANT_B)).json()  # München's case
    _, change = message("0202_nachreichung.xml", vorgang=own["file_number"], anlagen=[])
    response = await deliver(change)  # addressed to Augsburg
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:xbau-reference-not-found"
    assert await _count(db, Document, case_id=uuid.UUID(own["case_id"])) == 2


async def test_plain_xml_body_without_attachments(
    client: httpx.AsyncClient, auth, message, authorities
) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[])
    response = await client.post(
        "/api/v1/xbau/inbox",
        content=raw,
        headers={**auth("xbau"), "content-type": "application/xml"},
    )
    assert response.status_code == 201, response.text
    wrong = await client.post(
        "/api/v1/xbau/inbox",
        content=b"{}",
        headers={**auth("xbau"), "content-type": "application/json"},
    )
    assert wrong.status_code == 415


async def test_two_deliveries_at_the_same_time_make_one_case(
    deliver, message, pdf, db, app  # type: ignore[no-untyped-def]
) -> None:
    import asyncio

    _, raw = message(anlagen=[LAGEPLAN])
    first, second = await asyncio.gather(
        deliver(raw, {"lageplan.pdf": pdf}), deliver(raw, {"lageplan.pdf": pdf})
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201], (first.text, second.text)
    assert first.json() == second.json()
    assert await _count(db, Case) == 1
    assert await _count(db, Document) == 2  # the Lageplan and the original message
    await _fsck_clean(app)


async def test_a_message_type_we_do_not_take_is_refused_with_a_1100(deliver, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from eakte.xbau import messages
    from eakte.xbau.mapping import Authority

    env = messages.Envelope(
        str(uuid.uuid4()), datetime(2026, 12, 1, tzinfo=UTC),
        Authority("bpo:091620000", "BayernPortal"), Authority("bau:097610000", "Stadt Augsburg"),
    )
    ref = messages.Reference(str(uuid.uuid4()), "0200", None, "BA-2026-00001")
    raw = messages.decision(env, ref, family="baugenehmigung", granted=True)  # a valid 0205
    response = await deliver(raw)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:eakte:problem:xbau-unsupported-message"
    rejection = await _rejection(db)
    root = parsing.load(rejection.body).root
    assert root.findtext("rueckweisungDaten/idNachricht/{*}nachrichtenUUID") == env.message_uuid
    assert await _count(db, Case) == 0
