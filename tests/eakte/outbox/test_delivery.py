"""Outbox delivery to a real SMTP server and a real HTTP receiver; retries and dead letters."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from receivers import SmtpServer, WebhookReceiver
from sqlalchemy import select

from eakte.audit.models import AuditEvent
from eakte.config import Settings
from eakte.db import Database, utcnow
from eakte.outbox import service
from eakte.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage
from eakte.outbox.worker import Worker
from support import TENANT_A, free_port


def _settings(settings: Settings, **overrides: object) -> Settings:
    return settings.model_copy(update=overrides)


async def _message(db: Database, message_id: object) -> OutboxMessage:
    async with db.session(write=False) as session:
        row = await session.get(OutboxMessage, message_id)
        assert row is not None
        return row


async def _queue_mail(db: Database, to: str = "joerg@example.org") -> OutboxMessage:
    async with db.session() as session:
        return await service.enqueue_email(
            session,
            tenant=TENANT_A,
            event="test",
            to=to,
            subject="Eingangsbestätigung BA-2026-00001",
            body="Ihr Antrag ist eingegangen. Status: http://127.0.0.1/status",
        )


async def test_mail_reaches_the_smtp_server_with_its_idempotency_key(
    db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    message = await _queue_mail(db)
    worker = Worker(db, _settings(settings, smtp_host="127.0.0.1", smtp_port=smtp.port))
    assert await worker.run_once() == 1
    [mail] = smtp.mailbox.wait_for(1)
    assert mail["To"] == "joerg@example.org"
    assert mail["Subject"] == "Eingangsbestätigung BA-2026-00001"
    assert "Ihr Antrag ist eingegangen" in mail.get_content()
    assert mail["Message-ID"].startswith(f"<{message.idempotency_key}@")
    row = await _message(db, message.id)
    assert row.status == DELIVERED and row.attempts == 1
    assert await worker.run_once() == 0  # nothing is sent twice
    async with db.session(write=False) as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert "outbox.delivered" in actions


async def test_smtp_down_keeps_the_mail_queued_with_backoff_then_dead_letter(
    db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    message = await _queue_mail(db)
    closed = free_port()
    down = _settings(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=closed,
        outbox_backoff_seconds=0,
        outbox_max_attempts=3,
    )
    worker = Worker(db, down)
    assert await worker.run_once() == 1
    row = await _message(db, message.id)
    assert row.status == PENDING and row.failures == 1 and row.last_error
    assert await worker.run_once() == 1
    assert await worker.run_once() == 1
    row = await _message(db, message.id)
    assert row.status == DEAD and row.failures == 3
    assert await worker.run_once() == 0
    async with db.session(write=False) as session:
        failed = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "outbox.delivery_failed")
            )
        )
    assert len(failed) == 3  # every attempt is in the audit chain

    async with db.session() as session:
        assert await service.requeue(
            session, tenant=TENANT_A, message_id=message.id, actor="operator"
        )
    worker = Worker(db, _settings(settings, smtp_host="127.0.0.1", smtp_port=smtp.port))
    assert await worker.run_once() == 1
    [mail] = smtp.mailbox.wait_for(1)
    assert mail["Message-ID"].startswith(f"<{message.idempotency_key}@")  # same key after requeue


async def test_backoff_doubles_up_to_the_cap() -> None:
    assert service.backoff(1, base=30, cap=600) == timedelta(seconds=30)
    assert service.backoff(2, base=30, cap=600) == timedelta(seconds=60)
    assert service.backoff(3, base=30, cap=600) == timedelta(seconds=120)
    assert service.backoff(10, base=30, cap=600) == timedelta(seconds=600)


async def test_failed_attempt_waits_for_its_backoff(db: Database, settings: Settings) -> None:
    message = await _queue_mail(db)
    worker = Worker(db, _settings(settings, smtp_host="127.0.0.1", smtp_port=free_port()))
    assert await worker.run_once() == 1
    row = await _message(db, message.id)
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=20)
    assert await worker.run_once() == 0  # not due yet


async def _register(client, auth, url: str) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/outbox/webhooks",
        json={"url": url, "description": "Bürgerportal"},
        headers=auth("admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_webhook_is_signed_over_timestamp_and_body(
    client,
    auth,
    db: Database,
    settings: Settings,
    receiver: WebhookReceiver,  # type: ignore[no-untyped-def]
) -> None:
    endpoint = await _register(client, auth, receiver.url)
    async with db.session() as session:
        [message] = await service.enqueue_webhooks(
            session, tenant=TENANT_A, event="document.bekanntgegeben", data={"file_number": "X"}
        )
    assert await Worker(db, settings).run_once() == 1
    [req] = receiver.wait_for(1)
    assert req.headers["Webhook-Id"] == message.idempotency_key
    timestamp = req.headers["Webhook-Timestamp"]
    expected = hmac.new(
        endpoint["secret"].encode(), timestamp.encode() + b"." + req.body, hashlib.sha256
    ).hexdigest()
    assert req.headers["Webhook-Signature"] == f"v1={expected}"
    assert req.json() == {
        "id": message.idempotency_key,
        "event": "document.bekanntgegeben",
        "data": {"file_number": "X"},
    }
    assert (await _message(db, message.id)).status == DELIVERED


async def test_webhook_5xx_is_retried_4xx_is_a_dead_letter(
    client,
    auth,
    db: Database,
    settings: Settings,
    receiver: WebhookReceiver,  # type: ignore[no-untyped-def]
) -> None:
    await _register(client, auth, receiver.url)
    fast = _settings(settings, outbox_backoff_seconds=0)
    async with db.session() as session:
        [message] = await service.enqueue_webhooks(session, tenant=TENANT_A, event="e", data={})
    receiver.status = 503
    assert await Worker(db, fast).run_once() == 1
    assert (await _message(db, message.id)).status == PENDING
    receiver.status = 410
    assert await Worker(db, fast).run_once() == 1
    row = await _message(db, message.id)
    assert row.status == DEAD and row.last_error == "HTTP 410"
    keys = {r.headers["Webhook-Id"] for r in receiver.wait_for(2)}
    assert keys == {message.idempotency_key}


async def test_queue_figures_in_the_operator_route_and_metrics(
    client,
    auth,
    db: Database,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    message = await _queue_mail(db)
    await Worker(db, _settings(settings, smtp_host="127.0.0.1", smtp_port=free_port())).run_once()
    response = await client.get("/api/v1/outbox", headers=auth("auditor"))
    assert response.status_code == 200
    body = response.json()
    assert body["figures"]["pending"] == 1 and body["figures"]["failures"] == 1
    assert [m["id"] for m in body["pending"]] == [str(message.id)]
    assert "body" not in body["pending"][0]  # personal data stays out of the operator view
    metrics = (await client.get("/metrics")).text
    assert "eakte_outbox_pending 1.0" in metrics
    assert "eakte_outbox_failed_attempts 1.0" in metrics
    other = await client.get("/api/v1/outbox", headers=auth("auditor", tenant="muenchen"))
    assert other.json()["figures"]["pending"] == 0
