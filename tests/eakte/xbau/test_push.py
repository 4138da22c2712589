"""Push delivery of outgoing XBau messages through the shared outbox to a real HTTP receiver.

The receiver is the threaded HTTP server of tests/receivers.py on loopback; the outbox worker
is the real one (`eakte.outbox.worker.Worker`). Crash behaviour (kill -9 mid-delivery, lease
expiry, re-send with the same key) is the outbox's and is tested generically in
tests/eakte/outbox/test_kill9.py; XBau adds only its channel.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from lxml import etree
from receivers import Received, WebhookReceiver
from sqlalchemy import select

from eakte.config import Settings
from eakte.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage
from eakte.outbox.worker import Worker
from eakte.xbau import parsing
from eakte.xbau.models import XBauOutgoing
from support import TENANT_A, TENANT_B, free_port

LAGEPLAN = ("lageplan.pdf", "application/pdf", "lageplan", "Lageplan M 1:1000")


@pytest.fixture
def receiver() -> Any:
    with WebhookReceiver() as r:
        yield r


def _worker(app: Any, settings: Settings) -> Worker:
    fast = settings.model_copy(update={"outbox_backoff_seconds": 0, "outbox_max_attempts": 3})
    return Worker(app.state.db, fast, store=app.state.store)


async def _configure(client: httpx.AsyncClient, auth: Any, url: str, tenant: str = TENANT_A) -> str:
    response = await client.put(
        "/api/v1/xbau/push", json={"url": url}, headers=auth("admin", tenant=tenant)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["url"] == url and body["secret"]
    return str(body["secret"])


def _parts(received: Received) -> list[EmailMessage]:
    head = f"Content-Type: {received.headers['Content-Type']}\r\n\r\n".encode()
    parsed = email.message_from_bytes(head + received.body, policy=email.policy.default)
    assert parsed.is_multipart()
    return list(parsed.iter_parts())  # type: ignore[arg-type]


def _name(part: EmailMessage) -> str:
    return str(part.get_param("name", header="content-disposition"))


def _check_signature(received: Received, secret: str, xml: bytes) -> None:
    timestamp = received.headers["Webhook-Timestamp"]
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + xml, hashlib.sha256)
    assert received.headers["Webhook-Signature"] == "v1=" + mac.hexdigest()


async def _rows(app: Any) -> tuple[list[XBauOutgoing], list[OutboxMessage]]:
    async with app.state.db.session(write=False) as session:
        xbau = list(await session.scalars(select(XBauOutgoing).order_by(XBauOutgoing.created_at)))
        outbox = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "xbau"))
        )
    return xbau, outbox


async def _case_with_participation(client: httpx.AsyncClient, auth: Any, deliver, message, pdf):  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[LAGEPLAN])
    received = await deliver(raw, {"lageplan.pdf": pdf})
    assert received.status_code == 201, received.text
    case_id = received.json()["case_id"]
    asked = await client.post(
        f"/api/v1/cases/{case_id}/participations",
        json={"kind": "fachstelle_stellungnahme", "party": "Wasserwirtschaftsamt Donauwörth"},
        headers=auth("clerk"),
    )
    assert asked.status_code == 201, asked.text
    sent = await client.post(
        f"/api/v1/cases/{case_id}/participations/{asked.json()['id']}/xbau",
        json={
            "agency_kennung": "wwa:097610042",
            "agency_name": "Wasserwirtschaftsamt Donauwörth",
            "reason": "Versickerung von Niederschlagswasser",
        },
        headers=auth("clerk"),
    )
    assert sent.status_code == 201, sent.text
    return sent.json()


async def test_pushed_once_with_xml_anlagen_key_and_signature_then_delivered_not_picked_up(
    client, auth, app, settings, deliver, message, pdf, receiver
) -> None:  # type: ignore[no-untyped-def]
    secret = await _configure(client, auth, receiver.url)
    request = await _case_with_participation(client, auth, deliver, message, pdf)
    assert request["status"] == "pushing"
    xbau = auth("xbau")
    assert (await client.get("/api/v1/xbau/outbox", headers=xbau)).json()["items"] == []

    worker = _worker(app, settings)
    await worker.run_once()  # the 1120 receipt and the 0300 request (and e-mails, not here)
    await worker.run_once()
    requests = receiver.wait_for(2)
    assert len(requests) == 2  # nothing is sent twice
    rows, outbox = await _rows(app)
    assert {m.status for m in outbox} == {DELIVERED}
    by_key = {m.idempotency_key: m for m in outbox}
    by_type = {r.headers["X-XBau-Nachrichtentyp"]: r for r in requests}
    assert set(by_type) == {
        "prozessnachrichten.eingangsbestaetigung.1120",
        "beteiligung.aufforderung.0300",
    }
    sent = by_type["beteiligung.aufforderung.0300"]
    row = next(r for r in rows if str(r.id) == request["id"])
    assert sent.headers["Idempotency-Key"] in by_key
    assert sent.headers["Idempotency-Key"] == f"xbau-{row.id}"
    assert sent.headers["X-XBau-Nachrichten-UUID"] == row.message_uuid
    parts = _parts(sent)
    assert [_name(p) for p in parts] == ["nachricht", "anlage"]
    xml = parts[0].get_payload(decode=True)
    assert xml == row.body
    parsing.validate(etree.fromstring(xml, parsing.safe_parser()))
    _check_signature(sent, secret, xml)  # type: ignore[arg-type]
    assert parts[1].get_filename() == "lageplan.pdf"
    assert parts[1].get_content_type() == "application/pdf"
    assert parts[1].get_payload(decode=True) == pdf
    # the Anlage in the signed XML carries the SHA-256 of the bytes sent beside it
    assert hashlib.sha256(pdf).hexdigest().encode() in xml  # type: ignore[operator]

    assert {r.status for r in rows} == {"delivered"}
    assert all(r.delivered_at is not None for r in rows)
    listed = await client.get("/api/v1/xbau/outbox?status=delivered", headers=xbau)
    assert {i["id"] for i in listed.json()["items"]} == {str(r.id) for r in rows}
    assert (await client.get("/api/v1/xbau/outbox", headers=xbau)).json()["items"] == []
    # an acknowledgement of a pushed message changes nothing
    ack = await client.post(f"/api/v1/xbau/outbox/{request['id']}/ack", headers=xbau)
    assert ack.status_code == 200 and ack.json()["status"] == "delivered"


async def test_receiver_down_is_retried_then_delivered_with_the_same_key(
    client, auth, app, settings, deliver, message, receiver
) -> None:  # type: ignore[no-untyped-def]
    await _configure(client, auth, f"http://127.0.0.1:{free_port()}/down")
    _, raw = message(anlagen=[])
    assert (await deliver(raw)).status_code == 201
    worker = _worker(app, settings)
    await worker.run_once()  # connection refused
    _, [first] = await _rows(app)
    assert first.status == PENDING and first.failures == 1 and first.last_error

    receiver.status = 503  # up, but failing
    secret = await _configure(client, auth, receiver.url)  # new URL and secret, same message
    await worker.run_once()
    _, [second] = await _rows(app)
    assert second.status == PENDING and second.failures == 2 and "503" in str(second.last_error)

    receiver.status = 200
    await worker.run_once()
    requests = receiver.wait_for(2)
    assert len(requests) == 2
    assert len({r.headers["Idempotency-Key"] for r in requests}) == 1
    _check_signature(requests[1], secret, _parts(requests[1])[0].get_payload(decode=True))  # type: ignore[arg-type]
    [row], [done] = await _rows(app)
    assert done.status == DELIVERED and done.attempts == 3
    assert row.status == "delivered"


async def test_4xx_is_a_dead_letter_visible_to_operators_and_stays_undelivered(
    client, auth, app, settings, deliver, message, receiver
) -> None:  # type: ignore[no-untyped-def]
    await _configure(client, auth, receiver.url)
    receiver.status = 422
    _, raw = message(anlagen=[])
    assert (await deliver(raw)).status_code == 201
    worker = _worker(app, settings)
    await worker.run_once()
    await worker.run_once()
    assert len(receiver.wait_for(1)) == 1  # permanent: not retried
    [row], [dead] = await _rows(app)
    assert dead.status == DEAD and dead.last_error == "HTTP 422"
    assert row.status == "pushing" and row.delivered_at is None
    overview = await client.get("/api/v1/outbox", headers=auth("admin"))
    assert overview.status_code == 200, overview.text
    [listed] = overview.json()["dead"]
    assert listed["kind"] == "xbau" and listed["event"].endswith("1120")
    assert listed["id"] == str(dead.id)
    # another tenant's operator does not see it
    other = await client.get("/api/v1/outbox", headers=auth("admin", tenant=TENANT_B))
    assert other.json()["dead"] == []

    receiver.status = 200  # an operator fixes the cause and requeues
    requeued = await client.post(f"/api/v1/outbox/{dead.id}/requeue", headers=auth("admin"))
    assert requeued.status_code == 200, requeued.text
    await worker.run_once()
    [row], [done] = await _rows(app)
    assert done.status == DELIVERED and row.status == "delivered"


async def test_removed_endpoint_sends_unpushed_messages_back_to_pickup(
    client, auth, app, settings, deliver, message, receiver
) -> None:  # type: ignore[no-untyped-def]
    await _configure(client, auth, receiver.url)
    _, raw = message(anlagen=[])
    assert (await deliver(raw)).status_code == 201
    removed = await client.delete("/api/v1/xbau/push", headers=auth("admin"))
    assert removed.status_code == 204
    assert (await client.get("/api/v1/xbau/push", headers=auth("admin"))).status_code == 404
    [row], [dead] = await _rows(app)
    assert row.status == "queued"  # not lost: the intermediary picks it up
    assert dead.status == DEAD and "pickup" in str(dead.last_error)
    await _worker(app, settings).run_once()
    assert receiver.requests == []  # a dead letter is not sent

    _, raw = message(anlagen=[])
    assert (await deliver(raw)).status_code == 201
    listed = await client.get("/api/v1/xbau/outbox", headers=auth("xbau"))
    assert [i["status"] for i in listed.json()["items"]] == ["queued", "queued"]
    _, outbox = await _rows(app)
    assert len(outbox) == 1  # the second message went to pickup only


async def test_tenant_without_push_keeps_pickup_and_no_outbox_row(
    client, auth, app, deliver, message, receiver
) -> None:  # type: ignore[no-untyped-def]
    await _configure(client, auth, receiver.url, tenant=TENANT_B)  # only München pushes
    _, raw = message(anlagen=[])
    assert (await deliver(raw)).status_code == 201
    rows, outbox = await _rows(app)
    assert [r.status for r in rows] == ["queued"] and outbox == []


async def test_push_configuration_bad_input_roles_and_tenants(client, auth) -> None:  # type: ignore[no-untyped-def]
    admin = auth("admin")
    missing = await client.get("/api/v1/xbau/push", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:eakte:problem:xbau-push-not-configured"
    assert "Mandant" in missing.json()["detail"] and "tenant" in missing.json()["detail"]
    assert (await client.delete("/api/v1/xbau/push", headers=admin)).status_code == 404
    for body in (
        {"url": "ftp://x.example/"},
        {"url": "nicht eine URL"},
        {},
        {"url": "http://a.example/" + "x" * 600},
        {"url": "http://a.example/", "extra": 1},
    ):
        bad = await client.put("/api/v1/xbau/push", json=body, headers=admin)
        assert bad.status_code == 422, (body, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
    for role in ("clerk", "xbau", "auditor"):
        denied = await client.put(
            "/api/v1/xbau/push", json={"url": "http://a.example/"}, headers=auth(role)
        )
        assert denied.status_code == 403
    await client.put(
        "/api/v1/xbau/push",
        json={"url": "http://b.example/x"},
        headers=auth("admin", tenant=TENANT_B),
    )
    shown = await client.get("/api/v1/xbau/push", headers=auth("admin", tenant=TENANT_B))
    assert shown.json()["url"] == "http://b.example/x" and shown.json()["secret"] is None
    assert (await client.get("/api/v1/xbau/push", headers=admin)).status_code == 404


async def test_each_authority_address_can_push_to_its_own_endpoint(
    client, auth, app, settings, db, deliver, message, authorities
) -> None:  # type: ignore[no-untyped-def]
    """A tenant with two XBau addresses: messages its second address writes (the Autor of the
    1120 answering a 0200 sent to it) go to that address's endpoint, the others to the
    tenant's; removing the address's endpoint sends its unpushed messages to the tenant's."""
    from eakte.xbau.inbox import register_authority

    first, second = authorities[TENANT_A], "bau:091610099"
    async with db.session() as session:
        await register_authority(session, kennung=second, tenant=TENANT_A, name="Denkmalamt")
    admin = auth("admin")
    with WebhookReceiver() as tenant_wide, WebhookReceiver() as per_address:
        await _configure(client, auth, tenant_wide.url)
        routed = await client.put(
            "/api/v1/xbau/push",
            json={"url": per_address.url, "authority": second},
            headers=admin,
        )
        assert routed.status_code == 200, routed.text
        assert routed.json()["authority"] == second and routed.json()["secret"]
        shown = await client.get(f"/api/v1/xbau/push?authority={second}", headers=admin)
        assert shown.json()["url"] == per_address.url
        for bad, status in (
            ({"url": per_address.url, "authority": "bau:000000000"}, 404),  # not ours
            ({"url": per_address.url, "authority": ""}, 422),
        ):
            refused = await client.put("/api/v1/xbau/push", json=bad, headers=admin)
            assert refused.status_code == status, refused.text
        other = await client.put(
            "/api/v1/xbau/push",
            json={"url": per_address.url, "authority": first},
            headers=auth("admin", tenant=TENANT_B),
        )
        assert other.status_code == 404  # another tenant's address

        _, raw = message(anlagen=[])
        assert (await deliver(raw)).status_code == 201  # to Augsburg's first address
        _, raw = message(anlagen=[], reader=second)
        assert (await deliver(raw)).status_code == 201
        await _worker(app, settings).run_once()
        [general] = tenant_wide.requests
        [routed_one] = per_address.requests
        for received, author in ((general, first), (routed_one, second)):
            xml = next(p for p in _parts(received) if _name(p) == "nachricht").get_content()
            root = etree.fromstring(xml if isinstance(xml, bytes) else xml.encode())
            assert root.findtext("{*}nachrichtenkopf.g2g/{*}autor/{*}kennung") == author

        _, raw = message(anlagen=[], reader=second)
        assert (await deliver(raw)).status_code == 201  # queued for the address's endpoint …
        removed = await client.delete(f"/api/v1/xbau/push?authority={second}", headers=admin)
        assert removed.status_code == 204
        gone = await client.get(f"/api/v1/xbau/push?authority={second}", headers=admin)
        assert gone.status_code == 404
        await _worker(app, settings).run_once()  # … and pushed to the tenant's, not lost
        assert len(tenant_wide.requests) == 2 and len(per_address.requests) == 1
    rows, _ = await _rows(app)
    assert [r.status for r in rows if r.message_type.endswith(".1120")] == ["delivered"] * 3
