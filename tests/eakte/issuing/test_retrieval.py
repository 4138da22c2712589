"""Bekanntgabe of a document provided for retrieval (Art. 41 Abs. 2a BayVwVfG, issue 13)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from eakte.audit.models import AuditEvent
from eakte.db import Database, utcnow
from eakte.issuing.models import IssuedDocument
from eakte.outbox.models import DELIVERED, OutboxMessage
from eakte.postroom.models import PrintItem
from eakte.process import bekanntgabe as process_bekanntgabe
from eakte.process.service import local_today
from eakte.process.ticker import tick
from support import LETTER_DATA, TENANT_A, TENANT_B, act, issue_letter, to_zur_zeichnung


@pytest.fixture
def applicant(auth):  # type: ignore[no-untyped-def]
    return auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)


@pytest.fixture
async def receipt(client: httpx.AsyncClient, applicant) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/authorities/{TENANT_A}/applications",
        json={
            "procedure": "baybo-59",
            "site": {
                "address": "Hauptstraße 5, 86150 Augsburg",
                "gemarkung": "A",
                "flurstueck": "1",
            },
            "description": "Neubau eines Einfamilienhauses",
            "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
            "designer": {"name": "Büro", "email": "buero@example.org", "chamber_number": "B-1"},
            "housing": True,
        },
        headers=applicant,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _provide(client, auth, case_id: str, *, address: str = "") -> dict:  # type: ignore[no-untyped-def]
    """Draft, sign and provide a letter for retrieval in the applicant portal."""
    clerk = auth("clerk", sub="clara@augsburg")
    addressee: dict[str, str] = {"kind": "applicant"}
    if address:
        addressee["address"] = address
    drafted = await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={
            "letter_type": "ablehnungsbescheid",
            "channel": "electronic",
            "addressee": addressee,
            "data": LETTER_DATA["ablehnungsbescheid"],
        },
        headers=clerk,
    )
    assert drafted.status_code == 201, drafted.text
    issued = drafted.json()
    base = f"/api/v1/cases/{case_id}/issued/{issued['id']}"
    signed = await client.post(f"{base}/sign", headers=auth("approver", sub="anton@augsburg"))
    assert signed.status_code == 200, signed.text
    provided = await client.post(f"{base}/bekanntgabe", json={}, headers=clerk)
    assert provided.status_code == 200, provided.text
    body = provided.json()
    assert body["bekanntgabe_on"] is None  # provision alone has no day until the retrieval
    return body  # type: ignore[no-any-return]


async def _notice_sent(db: Database, issued: dict, at) -> None:  # type: ignore[no-untyped-def]
    """The outbox sent the provision's notice e-mail at `at` (as the worker records it)."""
    async with db.session() as session:
        record = await session.get(IssuedDocument, uuid.UUID(issued["id"]))
        assert record is not None and record.notice_id is not None
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == record.notice_id)
            .values(status=DELIVERED, delivered_at=at)
        )


async def _actions(db: Database, action: str) -> list[AuditEvent]:
    async with db.session(write=False) as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


async def test_first_retrieval_makes_it_known_the_next_day_art_41_abs_2a_s_3_bayvwvfg(
    client, auth, receipt, applicant, db
) -> None:  # type: ignore[no-untyped-def]
    issued = await _provide(client, auth, receipt["case_id"])
    url = f"{receipt['status_url']}/documents/{issued['document_id']}/content"
    clerk = auth("clerk")
    letter_url = f"/api/v1/cases/{receipt['case_id']}/issued/{issued['id']}"
    assert (await client.get(letter_url, headers=clerk)).json()["bekanntgabe_on"] is None
    first = await client.get(url, headers=applicant)
    assert first.status_code == 200
    assert first.content.startswith(b"%PDF")
    letter = (await client.get(letter_url, headers=clerk)).json()
    assert letter["bekanntgabe_on"] == (local_today() + timedelta(days=1)).isoformat()
    assert "Art. 41 Abs. 2a S. 3" in letter["bekanntgabe_rule"]
    again = await client.get(url, headers=applicant)
    assert again.status_code == 200
    assert (await client.get(letter_url, headers=clerk)).json() == letter
    events = await _actions(db, "issuing.retrieved")
    assert len(events) == 1  # only the first retrieval counts
    assert events[0].payload["retrieved_on"] == local_today().isoformat()


async def test_retrieval_after_ten_days_effects_no_bekanntgabe_art_41_abs_2a_s_4(
    client, auth, receipt, db
) -> None:  # type: ignore[no-untyped-def]
    issued = await _provide(client, auth, receipt["case_id"])
    await _notice_sent(db, issued, utcnow())
    late = utcnow() + timedelta(days=11)
    async with db.session() as session:
        record = await process_bekanntgabe.record_retrieval(
            session,
            uuid.UUID(receipt["case_id"]),
            uuid.UUID(issued["document_id"]),
            actor="maria@buergerkonto",
            now=late,
        )
        assert record is not None
        assert record.bekanntgabe_on is None
    events = await _actions(db, "issuing.retrieved")
    assert events[-1].payload["code"] == "retrieval_too_late"


async def test_the_ten_days_count_from_sending_the_notice_art_41_abs_2a_s_4(
    client, auth, receipt, db
) -> None:  # type: ignore[no-untyped-def]
    """ "nicht innerhalb von zehn Tagen nach Absendung einer Benachrichtigung über die
    Bereitstellung": a notice the outbox sends two days late moves the end by two days."""
    issued = await _provide(client, auth, receipt["case_id"])
    assert (await tick(db, now=utcnow() + timedelta(days=15))).lapsed == []  # notice unsent
    await _notice_sent(db, issued, utcnow() + timedelta(days=2))
    assert (await tick(db, now=utcnow() + timedelta(days=12))).lapsed == []  # 10th day
    retrieved = utcnow() + timedelta(days=12)  # 12 days after provision, 10 after the notice
    async with db.session() as session:
        record = await process_bekanntgabe.record_retrieval(
            session,
            uuid.UUID(receipt["case_id"]),
            uuid.UUID(issued["document_id"]),
            actor="maria@buergerkonto",
            now=retrieved,
        )
        assert record is not None
        assert record.bekanntgabe_on == local_today(retrieved) + timedelta(days=1)
    event = (await _actions(db, "issuing.retrieved"))[-1]
    assert event.payload["notice_sent_on"] == (local_today() + timedelta(days=2)).isoformat()


async def test_ticker_ends_an_unretrieved_provision_and_queues_it_for_print_art_41_abs_2a(
    client, auth, receipt, applicant, db
) -> None:  # type: ignore[no-untyped-def]
    posted = await _provide(
        client, auth, receipt["case_id"], address="Hauptstraße 5\n86150 Augsburg"
    )
    without = await _provide(client, auth, receipt["case_id"])
    assert (await tick(db, now=utcnow() + timedelta(days=11))).lapsed == []  # notices unsent
    for issued in (posted, without):
        await _notice_sent(db, issued, utcnow())
    url = f"{receipt['status_url']}/documents/{posted['document_id']}/content"
    on_day_ten = await tick(db, now=utcnow() + timedelta(days=10))
    assert on_day_ten.lapsed == []  # ten full days to retrieve (Art. 41 Abs. 2a S. 4)
    report = await tick(db, now=utcnow() + timedelta(days=11))
    assert sorted(report.lapsed) == sorted([posted["id"], without["id"]])
    assert (await client.get(url, headers=applicant)).status_code == 404  # provision ended
    status = (await client.get(receipt["status_url"], headers=applicant)).json()
    assert status["documents"] == []
    clerk = auth("clerk")
    base = f"/api/v1/cases/{receipt['case_id']}/issued"
    letter = (await client.get(f"{base}/{posted['id']}", headers=clerk)).json()
    assert letter["state"] == "signed" and letter["channel"] == "postal"
    assert letter["bekanntgabe_on"] is None
    assert "Art. 41 Abs. 2a S. 4" in letter["bekanntgabe_rule"]
    async with db.session(write=False) as session:
        queued = list(await session.scalars(select(PrintItem)))
    assert [(str(q.issued_id), q.reason) for q in queued] == [(posted["id"], "not_retrieved")]
    events = await _actions(db, "issuing.provision_lapsed")
    assert {e.payload["issued_id"]: e.payload["fallback"] for e in events} == {
        posted["id"]: "print_batch",
        without["id"]: "none",
    }
    assert (await tick(db, now=utcnow() + timedelta(days=12))).lapsed == []  # once
    # the post room prints and posts it: Bekanntgabe by post through the one rule
    postroom = auth("postroom", sub="paula@augsburg")
    lapse_day = (local_today() + timedelta(days=11)).isoformat()  # queued by that day's tick
    batch = await client.post(
        "/api/v1/postroom/batches", json={"date": lapse_day}, headers=postroom
    )
    assert batch.status_code == 201, batch.text
    assert [i["issued_id"] for i in batch.json()["items"]] == [posted["id"]]


async def test_retrieved_permit_is_the_procedures_bekanntgabe_art_41_abs_2a_and_42a_bayvwvfg(
    client, auth, receipt, applicant
) -> None:  # type: ignore[no-untyped-def]
    """The day after the first retrieval of the permit is recorded through the procedure: it
    stops the Fiktion clock (Art. 42a Abs. 1 BayVwVfG) and the permit takes effect."""
    case_id = receipt["case_id"]
    clerk = auth("clerk", sub="clara@augsburg")
    await to_zur_zeichnung(client, clerk, case_id)
    permit = await issue_letter(client, auth, case_id, "baugenehmigung", make_known=False)
    signed = await act(
        client,
        auth("approver", sub="erik@augsburg"),
        case_id,
        "genehmigung_zeichnen",
        "zur_zeichnung",
    )
    assert signed.status_code == 200, signed.text
    provided = await client.post(
        f"/api/v1/cases/{case_id}/issued/{permit['id']}/bekanntgabe", json={}, headers=clerk
    )
    assert provided.status_code == 200, provided.text
    view = (await client.get(f"/api/v1/cases/{case_id}/process", headers=clerk)).json()
    assert view["state"] == "genehmigt"  # provided, not yet known
    url = f"{receipt['status_url']}/documents/{permit['document_id']}/content"
    assert (await client.get(url, headers=applicant)).status_code == 200
    view = (await client.get(f"/api/v1/cases/{case_id}/process", headers=clerk)).json()
    assert view["state"] == "genehmigung_wirksam"
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    assert view["variables"]["bekanntgabe_am"] == tomorrow
    recorded = [t for t in view["transitions"] if t["action"] == "bekanntgabe_genehmigung_erfassen"]
    assert len(recorded) == 1
    assert (await client.get(url, headers=applicant)).status_code == 200
    view = (await client.get(f"/api/v1/cases/{case_id}/process", headers=clerk)).json()
    assert len([t for t in view["transitions"] if t["action"] == recorded[0]["action"]]) == 1
