"""The rules of procedures: start a case's process, take actions, persist what the engine says."""

from __future__ import annotations

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
from eakte.process import errors
from eakte.process.context import build_context, running_deadlines, to_instance
from eakte.process.definitions import calendar_for, get_definition
from eakte.process.models import (
    DEADLINE_CANCELLED,
    DEADLINE_FIRED,
    DEADLINE_RUNNING,
    ProcessDeadline,
    ProcessInstance,
    ProcessTransition,
)
from eakte.tenants.models import Tenant

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


def map_workflow_error(exc: wf.WorkflowError) -> Exception:
    """Translate an engine error into the API's problem family."""
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
        return errors.InvalidActionInput(str(exc), errors=problems)
    if isinstance(exc, wf.UnknownAction):
        return errors.UnknownActionError(str(exc))
    return errors.ActionConflict(str(exc))


async def _tenant(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.get(Tenant, slug)
    assert tenant is not None
    return tenant


async def _next_seq(session: AsyncSession, case_id: uuid.UUID) -> int:
    current = await session.scalar(
        select(func.max(ProcessTransition.seq)).where(ProcessTransition.case_id == case_id)
    )
    return (current or 0) + 1


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
    """Store a transition: instance (revision-checked), deadlines, case state, audit event."""
    new = result.instance
    flags = set(row.flags if row is not None else [])
    for effect in result.effects:
        if effect.type == "set_flag":
            flags.add(str(effect.params.get("flag")))
        elif effect.type == "clear_flag":
            flags.discard(str(effect.params.get("flag")))
    created = row is None
    state_changed = row is None or row.state != new.state
    if row is None:
        row = ProcessInstance(
            case_id=case.id,
            tenant_id=case.tenant_id,
            definition_id=definition.id,
            definition_version=definition.version,
            state=new.state,
            variables=dict(new.variables),
            flags=sorted(flags),
            revision=1,
            state_since=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
    else:
        values: dict[str, Any] = {
            "definition_id": definition.id,
            "definition_version": definition.version,
            "state": new.state,
            "variables": dict(new.variables),
            "flags": sorted(flags),
            "revision": row.revision + 1,
            "updated_at": now,
        }
        if state_changed:
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

    closing = set(result.deadlines_cancelled) | set(result.deadlines_expired)
    if closing:
        for kind in closing:
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
                on_expiry=list(start.on_expiry_actions),
                public=start.public,
                status=DEADLINE_RUNNING,
                started_at=now,
            )
        )

    t = result.transition
    session.add(
        ProcessTransition(
            tenant_id=case.tenant_id,
            case_id=case.id,
            seq=await _next_seq(session, case.id),
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
    await session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(
            state=new.state,
            procedure=definition.id,
            updated_at=now,
            revision=Case.revision
            + (0 if created else int(state_changed or case.procedure != definition.id)),
        )
        .execution_options(synchronize_session=False)
    )
    await session.flush()
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
    # issue 13: documents and notifications of the effects, in this transaction (may block)
    await issuing_effects.carry_out(
        session, case=case, effects=result.effects, label_de=t.label.de, public=t.public
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

    Without `row` this creates the case's process instance; with one (Art. 58 conversion) the
    same instance continues in `definition`.
    """
    definition = definition or get_definition(case.procedure)
    tenant = await _tenant(session, case.tenant_id)
    context = await build_context(session, case, row, actor.sub)
    try:
        result = wf.start_instance(
            definition,
            principal=engine_principal(actor),
            input=_start_input(definition, received_on, start_input or {}),
            now=local(now),
            context=context,
            calendar=calendar_for(tenant.holiday_calendar),
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
        target = get_definition(str(effect.params.get("target") or effect.params.get("to")))
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
    row = await instance_for(session, case, lock=True)
    if row.state != expected_state:
        raise errors.ActionConflict(
            f"the case is in state {row.state!r}, not {expected_state!r}; reload",
            current_state=row.state,
        )
    definition = get_definition(row.definition_id, row.definition_version)
    tenant = await _tenant(session, case.tenant_id)
    instance = to_instance(row, await running_deadlines(session, case.id))
    context = await build_context(session, case, row, actor.sub)
    try:
        result = wf.apply(
            definition,
            instance,
            action,
            principal=engine_principal(actor),
            input=input,
            now=local(now),
            context=context,
            calendar=calendar_for(tenant.holiday_calendar),
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
    """Create a case and start its procedure at receipt (Eingang); one transaction."""
    case = await create_case(
        session, principal, data, applicant_sub=applicant_sub, tenant_slug=tenant_slug
    )
    await start_process(
        session,
        case=case,
        actor=Actor.of(principal),
        received_on=data.received_on or local_today(case.created_at),
        start_input=data.procedure_input,
        now=case.created_at,
    )
    await session.refresh(case)
    return case
