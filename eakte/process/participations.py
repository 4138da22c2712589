"""Beteiligung: ask the municipality and agencies, record answers, deem consent on silence."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.audit import service as audit
from eakte.auth.principal import Principal, Role
from eakte.cases.service import get_case, grant_access
from eakte.db import utcnow
from eakte.notifications.models import NotificationKind
from eakte.notifications.service import notify
from eakte.process import errors
from eakte.process.definitions import calendar_for, get_definition
from eakte.process.models import (
    PARTICIPATION_ANSWERED,
    PARTICIPATION_DEEMED,
    PARTICIPATION_OPEN,
    Participation,
)
from eakte.process.schemas import (
    Label,
    ParticipationAnswer,
    ParticipationCreate,
    ParticipationKindPreview,
    ParticipationPreview,
)
from eakte.process.service import instance_for, local_today
from eakte.tenants.models import Tenant


async def preview_participations(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    arrived_on: date | None = None,
) -> ParticipationPreview:
    """The kinds a clerk may ask for, each with the deadline the procedure's rule gives it
    (counted from the request's arrival, Art. 65 Abs. 2 S. 2 BayBO); nothing is written."""
    case = await get_case(session, principal, case_id)
    row = await instance_for(session, case)
    definition = get_definition(row.definition_id, row.definition_version)
    tenant = await session.get(Tenant, case.tenant_id)
    assert tenant is not None
    day = arrived_on or local_today()
    calendar = calendar_for(tenant.holiday_calendar)
    kinds = []
    for rule in definition.participations:
        deadline = wf.participation_deadline(
            definition, rule.id, requested_on=day, calendar=calendar
        )
        kinds.append(
            ParticipationKindPreview(
                kind=rule.id,
                label=Label(de=rule.label.de, en=rule.label.en),
                legal_basis=rule.legal_basis,
                due=deadline.due,
                on_silence=str(deadline.on_silence),
            )
        )
    return ParticipationPreview(arrived_on=day, kinds=kinds)


async def request_participation(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    data: ParticipationCreate,
    *,
    now: datetime | None = None,
) -> Participation:
    """Ask a party; its own deadline is computed from the procedure's participation rule."""
    now = now or utcnow()
    case = await get_case(session, principal, case_id)
    row = await instance_for(session, case)
    definition = get_definition(row.definition_id, row.definition_version)
    state = definition.state(row.state)
    if state is None or state.final:
        raise errors.ParticipationClosed("the procedure has ended; no participation possible")
    if definition.participation(data.kind) is None:
        known = ", ".join(p.id for p in definition.participations) or "none"
        raise errors.UnknownParticipationKind(
            f"{definition.id} has no participation kind {data.kind!r} (known: {known})"
        )
    tenant = await session.get(Tenant, case.tenant_id)
    assert tenant is not None
    requested_on = data.requested_on or local_today(now)
    arrived_on = data.arrived_on or requested_on
    if arrived_on < requested_on:
        raise errors.InvalidActionInput("arrived_on lies before the request was sent")
    # the answer period counts from the request's arrival (Art. 65 Abs. 2 S. 2 BayBO)
    deadline = wf.participation_deadline(
        definition,
        data.kind,
        requested_on=arrived_on,
        calendar=calendar_for(tenant.holiday_calendar),
    )
    participation = Participation(
        tenant_id=case.tenant_id,
        case_id=case.id,
        kind=data.kind,
        party=data.party,
        agency_sub=data.agency_sub,
        requested_on=requested_on,
        arrived_on=arrived_on,
        due=deadline.due,
        on_silence=str(deadline.on_silence),
        status=PARTICIPATION_OPEN,
        requested_by=principal.sub,
        created_at=now,
    )
    session.add(participation)
    await session.flush()
    if data.agency_sub:
        # the agency may read this one case while it is asked (a grant owned by cases)
        await grant_access(session, case, data.agency_sub, reason="participation", now=now)
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="participation.requested",
        case_id=case.id,
        payload={
            "participation": str(participation.id),
            "kind": data.kind,
            "party": data.party,
            "requested_on": requested_on.isoformat(),
            "arrived_on": arrived_on.isoformat(),
            "due": deadline.due.isoformat(),
        },
        at=now,
    )
    return participation


async def answer_participation(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    participation_id: uuid.UUID,
    data: ParticipationAnswer,
    *,
    now: datetime | None = None,
) -> Participation:
    """Record the party's answer; a statement after the deadline is kept and flagged late."""
    now = now or utcnow()
    case = await get_case(session, principal, case_id)
    participation = await session.scalar(
        select(Participation)
        .where(Participation.id == participation_id, Participation.case_id == case.id)
        .with_for_update()
    )
    if participation is None:
        raise errors.ParticipationNotFound(f"no participation {participation_id}")
    only_agency = not principal.has_any({Role.clerk, Role.admin})
    if only_agency and participation.agency_sub != principal.sub:
        raise errors.ParticipationNotFound(f"no participation {participation_id}")
    if participation.status == PARTICIPATION_ANSWERED:
        raise errors.ParticipationClosed("this participation has already been answered")
    received_on = data.received_on or local_today(now)
    if received_on < participation.requested_on:
        raise errors.InvalidActionInput("received_on lies before the request")
    late = received_on > participation.due or participation.status == PARTICIPATION_DEEMED
    participation.status = PARTICIPATION_ANSWERED
    participation.answer = data.answer
    participation.statement = data.statement
    participation.received_on = received_on
    participation.answered_on_claimed = data.answered_on
    participation.late = late
    participation.closed_at = participation.closed_at or now
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="participation.answered",
        case_id=case.id,
        payload={
            "participation": str(participation.id),
            "answer": data.answer,
            "received_on": received_on.isoformat(),
            "answered_on_claimed": data.answered_on.isoformat() if data.answered_on else None,
            "late": late,
        },
        at=now,
    )
    answers = {"consent": "Zustimmung", "refusal": "Versagung", "statement": "Stellungnahme"}
    await notify(
        session,
        case,
        NotificationKind.participation_answered,
        de=f"{participation.party} hat geantwortet ({answers[data.answer]})"
        + (" – verspätet" if late else ""),
        en=f"{participation.party} answered ({data.answer})" + (" – late" if late else ""),
        now=now,
        skip=principal.sub,
    )
    return participation
