"""Write messages in the causing transaction; claim, deliver and settle them in the worker."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.db import utcnow
from eakte.outbox.channels import EMAIL, WEBHOOK, Delivery
from eakte.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage, WebhookEndpoint

WORKER_ACTOR = "outbox-worker"


def new_key() -> str:
    """A fresh idempotency key (stable for the message's whole life, across re-sends)."""
    return f"eakte-{uuid.uuid4()}"


async def enqueue(
    session: AsyncSession,
    *,
    tenant: str,
    kind: str,
    event: str,
    payload: dict[str, Any],
    case_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> OutboxMessage:
    """Add one message to the outbox in the caller's transaction (flushed, not committed)."""
    message = OutboxMessage(
        tenant_id=tenant,
        case_id=case_id,
        kind=kind,
        event=event,
        payload=payload,
        idempotency_key=idempotency_key or new_key(),
        status=PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    return message


async def enqueue_email(
    session: AsyncSession,
    *,
    tenant: str,
    event: str,
    to: str,
    subject: str,
    body: str,
    case_id: uuid.UUID | None = None,
    link_path: str | None = None,
) -> OutboxMessage:
    """Queue one e-mail; `link_path` is appended as a link on the public base URL when sent."""
    payload = {"to": to, "subject": subject, "body": body}
    if link_path:
        payload["link_path"] = link_path
    return await enqueue(
        session, tenant=tenant, kind=EMAIL, event=event, case_id=case_id, payload=payload
    )


async def enqueue_webhooks(
    session: AsyncSession,
    *,
    tenant: str,
    event: str,
    data: dict[str, Any],
    case_id: uuid.UUID | None = None,
) -> list[OutboxMessage]:
    """Queue one signed webhook per active endpoint of the tenant."""
    endpoints = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.tenant_id == tenant, WebhookEndpoint.active.is_(True)
        )
    )
    return [
        await enqueue(
            session,
            tenant=tenant,
            kind=WEBHOOK,
            event=event,
            case_id=case_id,
            payload={"endpoint_id": str(e.id), "url": e.url, "data": data},
        )
        for e in endpoints
    ]


@dataclass(frozen=True)
class Claimed:
    """A message claimed by one worker until `claimed_until`."""

    id: uuid.UUID
    tenant: str
    case_id: uuid.UUID | None
    kind: str
    attempt: int
    delivery: Delivery


SecretResolver = Callable[[AsyncSession, str, dict[str, Any]], Awaitable[str | None]]
_secret_resolvers: dict[str, SecretResolver] = {}


def register_secret_resolver(name: str, resolver: SecretResolver) -> None:
    """A domain above the outbox names where its endpoint secrets live (payload `secret_ref`).

    The outbox never imports those domains; the secret is looked up when a message is claimed,
    so it is never stored in a payload (which operators can read).
    """
    _secret_resolvers[name] = resolver


async def _secret(session: AsyncSession, row: OutboxMessage) -> str | None:
    if row.kind == WEBHOOK:
        endpoint = await session.get(WebhookEndpoint, uuid.UUID(row.payload["endpoint_id"]))
        return endpoint.secret if endpoint is not None and endpoint.active else None
    resolver = _secret_resolvers.get(str(row.payload.get("secret_ref", "")))
    return None if resolver is None else await resolver(session, row.tenant_id, row.payload)


def _skip_locked(session: AsyncSession) -> dict[str, bool]:
    return {"skip_locked": True} if session.bind.dialect.name == "postgresql" else {}


async def claim(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Lease due messages to this worker (SKIP LOCKED on PostgreSQL, so workers never collide).

    The lease is the crash guard: a worker killed mid-delivery leaves the row pending with an
    expired lease, and the next worker sends it again with the same idempotency key.
    """
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
                (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            .limit(limit)
            .with_for_update(**_skip_locked(session))
        )
    )
    claimed = []
    for row in rows:
        row.claimed_until = now + lease
        row.attempts += 1
        secret = await _secret(session, row)
        claimed.append(
            Claimed(
                id=row.id,
                tenant=row.tenant_id,
                case_id=row.case_id,
                kind=row.kind,
                attempt=row.attempts,
                delivery=Delivery(row.idempotency_key, row.event, dict(row.payload), secret),
            )
        )
    await session.flush()
    return claimed


def backoff(attempt: int, *, base: float, cap: float) -> timedelta:
    """Exponential backoff: base · 2^(attempt-1), at most `cap` seconds."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


async def settle(
    session: AsyncSession,
    item: Claimed,
    *,
    error: str | None,
    permanent: bool,
    now: datetime,
    max_attempts: int,
    backoff_base: float,
    backoff_cap: float,
) -> str:
    """Record the attempt's outcome (and an audit event); returns the new status."""
    row = await session.get(OutboxMessage, item.id, with_for_update=True)
    if row is None:
        return DEAD
    if error is None:
        row.status, row.delivered_at, row.last_error = DELIVERED, now, None
    else:
        row.failures += 1
        row.last_error = error[:2000]
        if permanent or row.attempts >= max_attempts:
            row.status = DEAD
        else:
            row.next_attempt_at = now + backoff(row.attempts, base=backoff_base, cap=backoff_cap)
    row.claimed_until = None
    await session.flush()
    await audit.record(
        session,
        tenant=row.tenant_id,
        actor=WORKER_ACTOR,
        actor_name="E-Akte (Versand)",
        action="outbox.delivered" if error is None else "outbox.delivery_failed",
        case_id=row.case_id,
        payload={
            "message_id": str(row.id),
            "kind": row.kind,
            "event": row.event,
            "idempotency_key": row.idempotency_key,
            "attempt": item.attempt,
            "status": row.status,
            **({"error": row.last_error} if error is not None else {}),
        },
        at=now,
    )
    return row.status


@dataclass(frozen=True)
class QueueStats:
    """What operators watch: depth, age of the oldest pending message, failures, dead letters."""

    pending: int
    dead: int
    delivered: int
    failures: int
    oldest_pending_seconds: float


async def stats(session: AsyncSession, *, tenant: str | None = None, now: datetime) -> QueueStats:
    """Queue figures, for one tenant or all."""
    where = [] if tenant is None else [OutboxMessage.tenant_id == tenant]
    counts = dict(
        (
            await session.execute(
                select(OutboxMessage.status, func.count())
                .where(*where)
                .group_by(OutboxMessage.status)
            )
        ).all()
    )
    oldest = await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(*where, OutboxMessage.status == PENDING)
    )
    failures = await session.scalar(
        select(func.coalesce(func.sum(OutboxMessage.failures), 0)).where(*where)
    )
    return QueueStats(
        pending=int(counts.get(PENDING, 0)),
        dead=int(counts.get(DEAD, 0)),
        delivered=int(counts.get(DELIVERED, 0)),
        failures=int(failures or 0),
        oldest_pending_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


async def requeue(session: AsyncSession, *, tenant: str, message_id: uuid.UUID, actor: Any) -> bool:
    """Put a dead letter back into the queue (an operator's decision, audited)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.tenant_id == tenant,
            OutboxMessage.status == DEAD,
        )
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await audit.record(
        session,
        tenant=tenant,
        actor=actor,
        action="outbox.requeued",
        payload={"message_id": str(message_id)},
    )
    return True
