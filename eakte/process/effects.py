"""The one place where the effects of a transition are handled.

The engine returns effects as data (`type` + payload: `issue_document`, `notify`,
`serve_neighbours`, `serve_fiktionsbescheinigung`, `request_participations`,
`record_fiction`, `set_flag`, `clear_flag`, `convert_procedure`). `handle` stores every
effect in `process_effects` in the transition's own transaction and then calls the
handlers registered for its type, so issuing and the outbox (issue 13) plug in with
`register("issue_document", handler)` without touching the procedure code.

Flags and procedure conversion change the instance itself and are applied by
`eakte.process.service`; they are stored here too so the record is complete.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.process.models import ProcessEffect


@dataclass(frozen=True)
class EffectEvent:
    """One effect of one transition, as stored."""

    case_id: uuid.UUID
    tenant_id: str
    seq: int
    procedure: str
    action: str
    type: str
    payload: dict[str, Any]
    actor: str
    at: datetime
    effect_id: uuid.UUID


Handler = Callable[[AsyncSession, EffectEvent], Awaitable[None]]
_HANDLERS: dict[str, list[Handler]] = {}


def register(effect_type: str, handler: Handler) -> None:
    """Call `handler` (in the transition's transaction) for every effect of this type."""
    _HANDLERS.setdefault(effect_type, []).append(handler)


def unregister(effect_type: str, handler: Handler) -> None:
    """Remove a handler registered with `register` (tests, shutdown)."""
    handlers = _HANDLERS.get(effect_type, [])
    if handler in handlers:
        handlers.remove(handler)


async def handle(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    tenant_id: str,
    seq: int,
    definition: wf.Definition,
    result: wf.ApplyResult,
    actor: str,
    now: datetime,
) -> list[ProcessEffect]:
    """Store the transition's effects and run the registered handlers, in order."""
    stored: list[ProcessEffect] = []
    for effect in result.effects:
        row = ProcessEffect(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            case_id=case_id,
            seq=seq,
            type=effect.type,
            payload=dict(effect.params),
            created_at=now,
        )
        session.add(row)
        stored.append(row)
    if stored:
        await session.flush()
    for row, effect in zip(stored, result.effects, strict=True):
        event = EffectEvent(
            case_id=case_id,
            tenant_id=tenant_id,
            seq=seq,
            procedure=f"{definition.id}@{definition.version}",
            action=result.transition.action,
            type=effect.type,
            payload=dict(effect.params),
            actor=actor,
            at=now,
            effect_id=row.id,
        )
        for handler in list(_HANDLERS.get(effect.type, [])):
            await handler(session, event)
    return stored
