"""The rules of procedures: start a case's process, take actions, persist what the engine says."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.audit import service as audit
from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.cases.schemas import CaseCreate
from eakte.cases.service import create_case, get_case
from eakte.db import utcnow
from eakte.issuing import effects as issuing_effects
from eakte.notifications.service import notify_unassigned
from eakte.process import effects, errors
from eakte.process.context import prepare
from eakte.process.definitions import definition_for, get_definition
from eakte.process.models import (
    DEADLINE_CANCELLED,
    DEADLINE_FIRED,
    DEADLINE_RUNNING,
    Bekanntgabe,
    ProcessDeadline,
    ProcessInstance,
    ProcessTransition,
)
from eakte.records.guard import ensure_writable
from eakte.xbau.events import on_transition as xbau_on_transition
from workflows import bekanntgabe as wf_bekanntgabe

log = logging.getLogger("eakte.process")

BERLIN = ZoneInfo("Europe/Berlin")
SYSTEM_ACTOR = "system"


def local(now: datetime) -> datetime:
    """`now` in the authorities' time zone (dates of deadlines are local dates)."""
    return now.astimezone(BERLIN)


def local_today(now: datetime | None = None) -> date:
    """Today's date in Bavaria."""
    return local(now or utcnow()).date()


@dataclass(frozen=True)
class Actor:
    """Who takes a workflow step: a principal or the deadline ticker."""

    sub: str
    name: str | None
    roles: frozenset[str]

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.sub, principal.name, frozenset(r.value for r in principal.roles))


SYSTEM = Actor(SYSTEM_ACTOR, "E-Akte (Fristablauf)", frozenset({"system"}))


def engine_principal(actor: Actor) -> wf.Principal:
    """The engine's principal for an actor (admins act with clerk rights)."""
    roles = set(actor.roles)
    if Role.admin.value in roles:
        roles.add(Role.clerk.value)
    return wf.Principal(actor.sub, roles)


USER_ERRORS = (
    wf.StaleState,
    wf.ActionNotAllowed,
    wf.GuardBlocked,
    wf.InvalidInput,
    wf.UnknownAction,
)
"""Engine errors a user can cause (stale page, wrong role, blocked guard, bad input)."""


def map_workflow_error(exc: wf.WorkflowError) -> Exception:
    """Translate an engine error a user can cause into the API's problem family (409/422).

    Anything else (`InvalidContext`, `DefinitionMismatch`, `DeadlineNotDue`, a definition
    referring to a missing date, ...) is a programming or installation error: it is logged
    and answered as a 500 problem, never dressed up as the user's fault.
    """
    if isinstance(exc, wf.StaleState):
        return errors.ActionConflict(str(exc))
    if isinstance(exc, wf.ActionNotAllowed):
        return errors.ActionForbidden(str(exc))
    if isinstance(exc, wf.GuardBlocked):
        reasons = [{"code": r.code, "de": r.de, "en": r.en} for r in exc.reasons]
        detail = " ".join(r.en for r in exc.reasons) or "blocked"
        return errors.GuardFailed(detail, reasons=reasons)
    if isinstance(exc, wf.InvalidInput):
        problems = [
            {"field": name, "code": r.code, "de": r.de, "en": r.en}
            for name, r in exc.errors.items()
        ]
        detail = " ".join(f"{name}: {r.en}" for name, r in exc.errors.items()) or str(exc)
        return errors.InvalidActionInput(detail, errors=problems)
    if isinstance(exc, wf.UnknownAction):
        return errors.UnknownActionError(str(exc))
    log.error("workflow engine error (not the user's): %r", exc)
    return errors.ProcedureError(f"the procedure engine failed: {type(exc).__name__}")


async def _next_seq(session: AsyncSession, case_id: uuid.UUID) -> int:
    current = await session.scalar(
        select(func.max(ProcessTransition.seq)).where(ProcessTransition.case_id == case_id)
    )
    return (current or 0) + 1


def _flags(row: ProcessInstance | None, result: wf.ApplyResult) -> list[str]:
    flags = set(row.flags if row is not None else [])
    for effect in result.effects:
        if effect.type == "set_flag":
            flags.add(str(effect.params.get("flag")))
        elif effect.type == "clear_flag":
            flags.discard(str(effect.params.get("flag")))
    return sorted(flags)


async def _store_instance(
    session: AsyncSession,
    case: Case,
    row: ProcessInstance | None,
    definition: wf.Definition,
    result: wf.ApplyResult,
    now: datetime,
) -> ProcessInstance:
    """Create the instance row, or update it if its revision is still the one we read."""
    new = result.instance
    flags = _flags(row, result)
    if row is None:
        row = ProcessInstance(
            case_id=case.id,
            tenant_id=case.tenant_id,
            definition_id=definition.id,
            definition_version=definition.version,
            state=new.state,
            variables=dict(new.variables),
            flags=flags,
            revision=1,
            state_since=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row
    values: dict[str, Any] = {
        "definition_id": definition.id,
        "definition_version": definition.version,
        "state": new.state,
        "variables": dict(new.variables),
        "flags": flags,
        "revision": row.revision + 1,
        "updated_at": now,
    }
    if row.state != new.state:
        values["state_since"] = now
    outcome = await session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.case_id == case.id, ProcessInstance.revision == row.revision)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if outcome.rowcount != 1:  # type: ignore[attr-defined]
        raise errors.ActionConflict("another action was taken at the same time; reload")
    await session.refresh(row)
    return row


async def _store_deadlines(
    session: AsyncSession, case: Case, result: wf.ApplyResult, now: datetime
) -> None:
    """Close cancelled and expired deadlines, then add the started ones (in that order)."""
    for kind in set(result.deadlines_cancelled) | set(result.deadlines_expired):
        status = DEADLINE_FIRED if kind in result.deadlines_expired else DEADLINE_CANCELLED
        await session.execute(
            update(ProcessDeadline)
            .where(
                ProcessDeadline.case_id == case.id,
                ProcessDeadline.kind == kind,
                ProcessDeadline.status == DEADLINE_RUNNING,
            )
            .values(status=status, closed_at=now)
            .execution_options(synchronize_session=False)
        )
    for start in result.deadlines_started:
        session.add(
            ProcessDeadline(
                tenant_id=case.tenant_id,
                case_id=case.id,
                kind=start.kind,
                label_de=start.label.de,
                label_en=start.label.en,
                legal_basis=start.legal_basis,
                anchor=start.anchor,
                due=start.due,
                unrolled_due=start.unrolled if start.rolled else None,
                fixed_end=start.fixed_end,
                on_expiry=list(start.on_expiry_actions),
                public=start.public,
                status=DEADLINE_RUNNING,
                started_at=now,
            )
        )


async def _store_transition(
    session: AsyncSession,
    case: Case,
    definition: wf.Definition,
    result: wf.ApplyResult,
    actor: Actor,
    now: datetime,
) -> int:
    """Append the transition to the case's history; returns its sequence number."""
    t = result.transition
    seq = await _next_seq(session, case.id)
    session.add(
        ProcessTransition(
            tenant_id=case.tenant_id,
            case_id=case.id,
            seq=seq,
            definition_id=definition.id,
            action=t.action,
            label_de=t.label.de,
            label_en=t.label.en,
            from_state=t.from_state,
            to_state=t.to_state,
            actor=actor.sub,
            actor_name=actor.name,
            at=now,
            input=dict(t.input),
            public=t.public,
            legal_basis=t.legal_basis,
            xbau=t.xbau,
            deadline=t.deadline,
        )
    )
    return seq


async def _mirror_case(
    session: AsyncSession,
    case: Case,
    definition: wf.Definition,
    result: wf.ApplyResult,
    *,
    created: bool,
    state_changed: bool,
    now: datetime,
) -> None:
    """The case row shows the procedure and state (its revision moves when they change)."""
    moved = state_changed or case.procedure != definition.id
    await session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(
            state=result.instance.state,
            procedure=definition.id,
            updated_at=now,
            revision=Case.revision + (0 if created else int(moved)),
        )
        .execution_options(synchronize_session=False)
    )


async def _audit(
    session: AsyncSession,
    case: Case,
    definition: wf.Definition,
    result: wf.ApplyResult,
    actor: Actor,
    now: datetime,
) -> None:
    t = result.transition
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=actor.sub,
        actor_name=None if actor is SYSTEM else actor.name or actor.sub,
        action="process.deadline_fired" if t.deadline else "process.transition",
        case_id=case.id,
        payload={
            "procedure": f"{definition.id}@{definition.version}",
            "action": t.action,
            "from": t.from_state,
            "to": t.to_state,
            "input": dict(t.input),
            "deadline": t.deadline,
            "deadlines_started": {s.kind: s.due.isoformat() for s in result.deadlines_started},
            "deadlines_cancelled": sorted(result.deadlines_cancelled),
            "effects": [{"type": e.type, **e.params} for e in result.effects],
        },
        at=now,
    )


async def persist(
    session: AsyncSession,
    *,
    case: Case,
    row: ProcessInstance | None,
    definition: wf.Definition,
    result: wf.ApplyResult,
    actor: Actor,
    now: datetime,
) -> ProcessInstance:
    """Store a transition: instance (revision-checked), deadlines, history, case, effects,
    audit event - all in the caller's transaction."""
    created = row is None
    state_changed = row is None or row.state != result.instance.state
    row = await _store_instance(session, case, row, definition, result, now)
    await _store_deadlines(session, case, result, now)
    seq = await _store_transition(session, case, definition, result, actor, now)
    await _mirror_case(
        session, case, definition, result, created=created, state_changed=state_changed, now=now
    )
    await session.flush()
    stored = await effects.handle(
        session,
        case_id=case.id,
        tenant_id=case.tenant_id,
        seq=seq,
        definition=definition,
        result=result,
        actor=actor.sub,
        now=now,
    )
    await _audit(session, case, definition, result, actor, now)
    await xbau_on_transition(session, case=case, result=result, revision=row.revision)
    # issue 13: documents and notifications of the effects, in this transaction (may block)
    await issuing_effects.carry_out(
        session,
        case=case,
        effects=result.effects,
        label_de=result.transition.label.de,
        public=result.transition.public,
        definition=definition,
        actor=actor,
        effect_ids=[row.id for row in stored],
        today=local_today(now),
    )
    return row


def _start_input(definition: wf.Definition, received_on: date, extra: dict[str, Any]) -> dict:
    values: dict[str, Any] = dict(extra)
    for field in definition.start.inputs:
        if field.type == "date" and field.name not in values:
            values[field.name] = received_on
    return values


async def start_process(
    session: AsyncSession,
    *,
    case: Case,
    actor: Actor,
    received_on: date,
    start_input: dict[str, Any] | None = None,
    now: datetime,
    row: ProcessInstance | None = None,
    definition: wf.Definition | None = None,
) -> ProcessInstance:
    """Start the case's procedure at its first state (receipt).

    Without `definition` the case is pinned to the version in force on `received_on`.
    Without `row` this creates the case's process instance; with one (Art. 58 conversion)
    the same instance continues in `definition`.
    """
    definition = definition or definition_for(case.procedure, received_on)
    prepared = await prepare(session, case, row, actor.sub, definition=definition)
    try:
        result = wf.start_instance(
            definition,
            principal=engine_principal(actor),
            input=_start_input(definition, received_on, start_input or {}),
            now=local(now),
            context=prepared.context,
            calendar=prepared.calendar,
        )
    except wf.WorkflowError as exc:
        raise map_workflow_error(exc) from exc
    return await persist(
        session, case=case, row=row, definition=definition, result=result, actor=actor, now=now
    )


async def instance_for(session: AsyncSession, case: Case, *, lock: bool = False) -> ProcessInstance:
    """The case's process instance."""
    stmt = select(ProcessInstance).where(ProcessInstance.case_id == case.id)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt.execution_options(populate_existing=True))
    if row is None:
        raise errors.ProcedureNotFound(f"case {case.id} has no procedure instance")
    return row


async def _convert(
    session: AsyncSession,
    *,
    case: Case,
    row: ProcessInstance,
    result: wf.ApplyResult,
    actor: Actor,
    now: datetime,
) -> None:
    """Carry out `convert_procedure`: the case continues in the target procedure."""
    for effect in result.effects:
        if effect.type != "convert_procedure":
            continue
        target = definition_for(
            str(effect.params.get("target") or effect.params.get("to")), local_today(now)
        )
        await session.refresh(case)
        case.procedure = target.id
        await start_process(
            session,
            case=case,
            actor=actor,
            received_on=local_today(now),
            now=now,
            row=row,
            definition=target,
        )


async def take_action(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    action: str,
    expected_state: str,
    input: dict[str, Any],
    now: datetime | None = None,
) -> ProcessInstance:
    """Apply `action` if the case is still in `expected_state` (else 409)."""
    case = await get_case(session, principal, case_id)
    return await apply_action(
        session,
        case,
        Actor.of(principal),
        action=action,
        expected_state=expected_state,
        input=input,
        now=now,
    )


async def apply_action(
    session: AsyncSession,
    case: Case,
    actor: Actor,
    *,
    action: str,
    expected_state: str,
    input: dict[str, Any],
    now: datetime | None = None,
) -> ProcessInstance:
    """Apply `action` to a case the caller already may act on (access checked by the caller)."""
    now = now or utcnow()
    await ensure_writable(session, case.id)
    row = await instance_for(session, case, lock=True)
    if row.state != expected_state:
        raise errors.ActionConflict(
            f"the case is in state {row.state!r}, not {expected_state!r}; reload",
            current_state=row.state,
        )
    prepared = await prepare(session, case, row, actor.sub)
    definition = prepared.definition
    try:
        result = wf.apply(
            definition,
            prepared.instance,
            action,
            principal=engine_principal(actor),
            input=input,
            now=local(now),
            context=prepared.context,
            calendar=prepared.calendar,
            expected_state=expected_state,
        )
    except wf.WorkflowError as exc:
        raise map_workflow_error(exc) from exc
    row = await persist(
        session, case=case, row=row, definition=definition, result=result, actor=actor, now=now
    )
    await _convert(session, case=case, row=row, result=result, actor=actor, now=now)
    return row


async def open_case(
    session: AsyncSession,
    principal: Principal,
    data: CaseCreate,
    *,
    applicant_sub: str | None = None,
    tenant_slug: str | None = None,
) -> Case:
    """Create a case and start its procedure at receipt (Eingang); one transaction.

    The case is pinned to the procedure version in force on the receipt date."""
    received_on = data.received_on or local_today()
    try:
        definition = definition_for(data.procedure, received_on)
    except errors.ProcedureNotFound as exc:
        raise errors.UnknownProcedure(f"unknown procedure {data.procedure!r}") from exc
    case = await create_case(
        session,
        principal,
        data,
        initial_state=definition.initial_state,
        applicant_sub=applicant_sub,
        tenant_slug=tenant_slug,
    )
    await start_process(
        session,
        case=case,
        actor=Actor.of(principal),
        received_on=received_on,
        start_input=data.procedure_input,
        now=case.created_at,
        definition=definition,
    )
    await notify_unassigned(session, case, now=case.created_at)
    await session.refresh(case)
    return case


@dataclass(frozen=True)
class BekanntgabeResult:
    """The computed Bekanntgabe and, unless previewed, the action that recorded it."""

    computed: wf_bekanntgabe.Bekanntgabe
    action: str | None


async def record_bekanntgabe(
    session: AsyncSession,
    case: Case,
    actor: Actor,
    *,
    expected_state: str,
    method: str,
    sent_on: date,
    retrieved_on: date | None = None,
    proven_receipt_on: date | None = None,
    preview: bool = False,
    now: datetime | None = None,
) -> BekanntgabeResult:
    """Compute when the decision counts as made known (Art. 41 BayVwVfG) and record it with
    the procedure's Bekanntgabe action (tag `record_bekanntgabe`) of the current state.

    Issuing (the letters, issue 13) calls this when a letter is posted or provided; the
    computed day, not the sending day, stops the Fiktion clock (Art. 42a Abs. 1 BayVwVfG).
    """
    now = now or utcnow()
    try:
        computed = wf_bekanntgabe.compute_bekanntgabe(
            method, sent_on, retrieved_on=retrieved_on, proven_receipt_on=proven_receipt_on
        )
    except wf_bekanntgabe.BekanntgabeError as exc:
        raise errors.InvalidActionInput(
            exc.en, errors=[{"field": "bekanntgabe", "code": exc.code, "de": exc.de, "en": exc.en}]
        ) from exc
    if preview:
        return BekanntgabeResult(computed, None)
    row = await instance_for(session, case, lock=True)
    if row.state != expected_state:
        raise errors.ActionConflict(
            f"the case is in state {row.state!r}, not {expected_state!r}; reload",
            current_state=row.state,
        )
    definition = get_definition(row.definition_id, row.definition_version)
    action = next(
        (
            a
            for a in definition.actions
            if "record_bekanntgabe" in a.tags and row.state in a.from_states
        ),
        None,
    )
    if action is None:
        raise errors.ActionConflict(
            f"no decision awaits its Bekanntgabe in state {row.state!r}", current_state=row.state
        )
    await apply_action(
        session,
        case,
        actor,
        action=action.id,
        expected_state=expected_state,
        input={"bekanntgabe_am": computed.on.isoformat()},
        now=now,
    )
    session.add(
        Bekanntgabe(
            tenant_id=case.tenant_id,
            case_id=case.id,
            action=action.id,
            method=str(computed.method),
            sent_on=sent_on,
            retrieved_on=retrieved_on,
            proven_receipt_on=proven_receipt_on,
            bekanntgabe_on=computed.on,
            rule=computed.rule,
            recorded_by=actor.sub,
            recorded_at=now,
        )
    )
    await session.flush()
    return BekanntgabeResult(computed, action.id)
