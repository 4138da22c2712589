"""Build the facts the workflow guards read (documents, participations, flags)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.cases.models import Case
from eakte.documents.models import Document
from eakte.process.definitions import calendar_for, get_definition, required_document_kinds
from eakte.process.models import (
    DEADLINE_RUNNING,
    PARTICIPATION_ANSWERED,
    PARTICIPATION_DEEMED,
    PARTICIPATION_OPEN,
    Participation,
    ProcessDeadline,
    ProcessInstance,
)
from eakte.tenants.models import Tenant

MUNICIPAL_CONSENT = "gemeinde_einvernehmen"


async def running_deadlines(session: AsyncSession, case_id: uuid.UUID) -> list[ProcessDeadline]:
    """The case's deadlines that still run."""
    rows = await session.scalars(
        select(ProcessDeadline)
        .where(ProcessDeadline.case_id == case_id, ProcessDeadline.status == DEADLINE_RUNNING)
        .order_by(ProcessDeadline.due)
    )
    return list(rows)


def to_instance(row: ProcessInstance, deadlines: list[ProcessDeadline]) -> wf.Instance:
    """The engine's view of a stored instance."""
    return wf.Instance(
        definition_id=row.definition_id,
        version=row.definition_version,
        state=row.state,
        deadlines={d.kind: d.due for d in deadlines},
        variables=dict(row.variables or {}),
        unrolled={d.kind: d.unrolled_due for d in deadlines if d.unrolled_due is not None},
    )


async def present_document_kinds(session: AsyncSession, case_id: uuid.UUID) -> frozenset[str]:
    """Kinds of the case's documents that have at least one version and are not deleted."""
    kinds = await session.scalars(
        select(Document.kind)
        .where(
            Document.case_id == case_id,
            Document.deleted_at.is_(None),
            Document.version_count > 0,
        )
        .distinct()
    )
    return frozenset(kinds)


def _municipal_consent(participations: list[Participation]) -> str | None:
    for p in participations:
        if p.kind != MUNICIPAL_CONSENT:
            continue
        if p.status == PARTICIPATION_ANSWERED and p.answer == "refusal":
            return "refused"
        if p.status == PARTICIPATION_ANSWERED:
            return "given"
        if p.status == PARTICIPATION_DEEMED:
            return "deemed"
    return None


async def build_context(
    session: AsyncSession,
    case: Case,
    row: ProcessInstance | None,
    principal_id: str | None,
    definition: wf.Definition,
    tenant: Tenant | None = None,
) -> wf.Context:
    """Everything the guards may read about this case right now."""
    tenant = tenant or await session.get(Tenant, case.tenant_id)
    participations = list(
        await session.scalars(select(Participation).where(Participation.case_id == case.id))
    )
    flags = set(row.flags if row is not None else [])
    if (case.attributes or {}).get("housing"):
        flags.add("housing")
    return wf.Context(
        principal_id=principal_id,
        present_document_kinds=await present_document_kinds(session, case.id),
        required_document_kinds=required_document_kinds(
            definition, tenant.settings if tenant else {}
        ),
        open_participations=sum(1 for p in participations if p.status == PARTICIPATION_OPEN),
        municipal_consent=_municipal_consent(participations),
        flags=frozenset(flags),
    )


@dataclass(frozen=True)
class Prepared:
    """What the engine needs for one case: definition, instance, guard context, calendar."""

    definition: wf.Definition
    instance: wf.Instance
    context: wf.Context
    calendar: wf.HolidayCalendar
    tenant: Tenant


async def prepare(
    session: AsyncSession,
    case: Case,
    row: ProcessInstance | None,
    principal_id: str | None,
    *,
    definition: wf.Definition | None = None,
) -> Prepared:
    """The one way to get definition + instance + context + calendar for a case.

    With `definition` (a start or an Art. 58 conversion) the instance is blank in it;
    otherwise the row's pinned definition version and its running deadlines are used.
    """
    tenant = await session.get(Tenant, case.tenant_id)
    assert tenant is not None
    if definition is None:
        assert row is not None
        definition = get_definition(row.definition_id, row.definition_version)
        instance = to_instance(row, await running_deadlines(session, case.id))
    else:
        instance = wf.Instance(definition.id, definition.version, state="")
    context = await build_context(session, case, row, principal_id, definition, tenant)
    return Prepared(definition, instance, context, calendar_for(tenant.holiday_calendar), tenant)
