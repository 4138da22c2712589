"""Append to and verify the per-tenant hash chain of audit events."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit.checkpoints import Checkpoint, Signer, check_against
from eakte.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from eakte.auth.principal import Principal
from eakte.db import utcnow


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(event: AuditEvent) -> dict[str, Any]:
    """The fields of an event that its hash covers."""
    return {
        "tenant": event.tenant_id,
        "seq": event.seq,
        "at": _timestamp(event.occurred_at),
        "actor": event.actor,
        "actor_name": event.actor_name,
        "action": event.action,
        "case": str(event.case_id) if event.case_id else None,
        "payload_digest": event.payload_digest,
    }


def compute_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """sha256(prev_hash || canonical_json(event))."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


async def _lock_head(session: AsyncSession, tenant: str) -> AuditChainHead:
    """Take the row lock on the tenant's chain head (created with the tenant)."""
    head = await session.scalar(
        select(AuditChainHead)
        .where(AuditChainHead.tenant_id == tenant)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if head is None:
        head = AuditChainHead(tenant_id=tenant, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        await session.flush()
    return head


@dataclass(frozen=True)
class Entry:
    """One event to append (see `record`)."""

    actor: Principal | str
    action: str
    case_id: uuid.UUID | None = None
    payload: dict[str, Any] | None = None
    at: datetime | None = None
    actor_name: str | None = None


def _append(head: AuditChainHead, tenant: str, entry: Entry) -> AuditEvent:
    payload = entry.payload or {}
    actor = entry.actor
    event = AuditEvent(
        tenant_id=tenant,
        seq=head.last_seq + 1,
        occurred_at=(entry.at or utcnow()).astimezone(UTC),
        actor=actor.sub if isinstance(actor, Principal) else actor,
        actor_name=actor.name if isinstance(actor, Principal) else entry.actor_name,
        action=entry.action,
        case_id=entry.case_id,
        payload=json.loads(canonical_json(payload)),
        payload_digest=hashlib.sha256(canonical_json(payload)).hexdigest(),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = compute_hash(event.prev_hash, event_body(event))
    head.last_seq = event.seq
    head.last_hash = event.hash
    return event


async def record(
    session: AsyncSession,
    *,
    tenant: str,
    actor: Principal | str,
    action: str,
    case_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Append one event to the tenant's chain in the caller's transaction.

    `actor` is a principal, or a subject string (e.g. `system`) with an optional `actor_name`.
    """
    entry = Entry(actor, action, case_id, payload, at, actor_name)
    return (await record_many(session, tenant=tenant, entries=[entry]))[0]


async def record_many(
    session: AsyncSession, *, tenant: str, entries: list[Entry]
) -> list[AuditEvent]:
    """Append several events to the tenant's chain in the caller's transaction, in order,
    with one lock of the chain head and one flush (e.g. a compaction's workspace edits)."""
    head = await _lock_head(session, tenant)
    events = [_append(head, tenant, entry) for entry in entries]
    session.add_all(events)
    await session.flush()
    return events


@dataclass
class VerifyResult:
    """Outcome of walking one or more chains."""

    valid: bool
    events: int
    first_broken: dict[str, Any] | None


async def iter_events(session: AsyncSession, tenant: str) -> AsyncIterator[AuditEvent]:
    """Stream a tenant's events in chain order."""
    stream = await session.stream_scalars(
        select(AuditEvent)
        .where(AuditEvent.tenant_id == tenant)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=500)
    )
    async for event in stream:
        yield event


async def verify_tenant(
    session: AsyncSession,
    tenant: str,
    *,
    checkpoints: list[Checkpoint] | None = None,
    signer: Signer | None = None,
) -> VerifyResult:
    """Recompute every digest and hash of a tenant's chain; report the first break.

    With the witness's `checkpoints` (and the `signer` that checks them) the chain must also
    reach every checkpoint and agree with its hash: that detects truncation, rewriting with
    recomputed hashes and a wiped trail, which the chain alone cannot.
    """
    wanted = {cp.seq for cp in checkpoints or []}
    hashes: dict[int, str] = {}
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    async for event in iter_events(session, tenant):
        count += 1
        reason = None
        if event.seq != expected_seq:
            reason = f"sequence gap: expected {expected_seq}, found {event.seq}"
        elif event.prev_hash != prev_hash:
            reason = "prev_hash does not match the previous event's hash"
        elif hashlib.sha256(canonical_json(event.payload)).hexdigest() != event.payload_digest:
            reason = "payload does not match its digest"
        elif compute_hash(event.prev_hash, event_body(event)) != event.hash:
            reason = "hash does not match the event's content"
        if reason:
            return VerifyResult(
                valid=False,
                events=count,
                first_broken={
                    "tenant": tenant,
                    "seq": event.seq,
                    "action": event.action,
                    "reason": reason,
                },
            )
        prev_hash = event.hash
        if event.seq in wanted:
            hashes[event.seq] = event.hash
        expected_seq += 1
    head = await session.get(AuditChainHead, tenant)
    if head is not None and (head.last_seq != expected_seq - 1 or head.last_hash != prev_hash):
        return VerifyResult(
            valid=False,
            events=count,
            first_broken={
                "tenant": tenant,
                "seq": expected_seq,
                "action": None,
                "reason": "chain ends before its recorded head (events were removed)",
            },
        )
    if checkpoints and signer is not None:
        reason = check_against(checkpoints, signer, expected_seq - 1, hashes)
        if reason is not None:
            return VerifyResult(
                valid=False,
                events=count,
                first_broken={"tenant": tenant, "seq": None, "action": None, "reason": reason},
            )
    return VerifyResult(valid=True, events=count, first_broken=None)
