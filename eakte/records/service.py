"""The rules of records management: file plan, closing, reopening, legal hold, record state."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import get_case
from eakte.db import utcnow
from eakte.process.definitions import get_definition
from eakte.process.service import instance_for, local_today
from eakte.records import errors
from eakte.records.fileplan import DEFAULT_FILE_PLAN
from eakte.records.models import ArchivalValue, CaseRecord, FilePlanEntry
from eakte.records.retention import retention_ends
from eakte.records.schemas import CaseRecordRead, FilePlanEntryWrite, LegalHold


async def file_plan(session: AsyncSession, tenant: str) -> list[FilePlanEntry]:
    """The tenant's file plan; the defaults are written on first use so a city can edit them."""
    rows = list(
        (
            await session.scalars(
                select(FilePlanEntry)
                .where(FilePlanEntry.tenant_id == tenant)
                .order_by(FilePlanEntry.code)
            )
        ).all()
    )
    if rows:
        return rows
    now = utcnow()
    for d in DEFAULT_FILE_PLAN:
        session.add(
            FilePlanEntry(
                tenant_id=tenant,
                code=d.code,
                title=d.title,
                retention_years=d.retention_years,
                archival_value=d.archival_value.value,
                is_default=d.is_default,
                updated_by="eakte-defaults",
                updated_at=now,
            )
        )
    await session.flush()
    return await file_plan(session, tenant)


async def entry(session: AsyncSession, tenant: str, code: str | None) -> FilePlanEntry:
    """The entry `code` of the tenant's plan, or its default entry when `code` is None."""
    plan = await file_plan(session, tenant)
    if code is None:
        default = next((e for e in plan if e.is_default), None) or plan[0]
        return default
    found = next((e for e in plan if e.code == code), None)
    if found is None:
        raise errors.FilePlanCodeUnknown(
            f"Der Aktenplan hat kein Kennzeichen {code!r} / the file plan has no code {code!r}",
            known=[e.code for e in plan],
        )
    return found


async def put_entry(
    session: AsyncSession, principal: Principal, code: str, data: FilePlanEntryWrite
) -> FilePlanEntry:
    """Create or change one code of the principal's file plan (audited)."""
    plan = await file_plan(session, principal.tenant)
    now = utcnow()
    row = next((e for e in plan if e.code == code), None)
    if data.is_default:
        for other in plan:
            other.is_default = False
    if row is None:
        row = FilePlanEntry(tenant_id=principal.tenant, code=code)
        session.add(row)
    row.title = data.title
    row.retention_years = data.retention_years
    row.archival_value = data.archival_value.value
    row.is_default = data.is_default or bool(row.is_default)
    row.updated_by = principal.sub
    row.updated_at = now
    await session.flush()
    await audit.record(
        session,
        tenant=principal.tenant,
        actor=principal,
        action="records.file_plan_changed",
        payload={"code": code, **data.model_dump(mode="json")},
        at=now,
    )
    return row


async def record_of(session: AsyncSession, case: Case, *, lock: bool = False) -> CaseRecord:
    """The case's record row (created on first use)."""
    stmt = select(CaseRecord).where(CaseRecord.case_id == case.id)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt.execution_options(populate_existing=True))
    if row is None:
        row = CaseRecord(case_id=case.id, tenant_id=case.tenant_id, updated_at=utcnow())
        session.add(row)
        await session.flush()
    return row


async def read(session: AsyncSession, case: Case) -> CaseRecordRead:
    """The record state of a case the caller may see."""
    row = await record_of(session, case)
    plan_entry = (
        await entry(session, case.tenant_id, row.file_plan_code) if row.file_plan_code else None
    )
    until = (
        retention_ends(local_today(row.closed_at), plan_entry.retention_years)
        if row.closed_at is not None and plan_entry is not None
        else None
    )
    hold = (
        LegalHold(reason=row.hold_reason, by=row.hold_by or "", since=row.hold_at)
        if row.hold_reason is not None and row.hold_at is not None
        else None
    )
    return CaseRecordRead(
        case_id=case.id,
        file_number=case.file_number,
        closed=row.closed_at is not None,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        file_plan_code=row.file_plan_code,
        retention_years=plan_entry.retention_years if plan_entry else None,
        retention_until=until,
        archival_value=ArchivalValue(plan_entry.archival_value) if plan_entry else None,
        legal_hold=hold,
        disposition=row.disposition,
    )


async def close_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    file_plan_code: str | None,
    now: datetime | None = None,
) -> Case:
    """Close (abschließen) a case whose procedure has reached a final state; it becomes read-only.

    The procedure has ended when its state is final in the BayBO definition (decision final,
    withdrawn, permit lapsed, building completed).
    """
    case = await get_case(session, principal, case_id)
    row = await record_of(session, case, lock=True)
    if row.closed_at is not None:
        raise errors.CaseClosed(f"Die Akte {case.file_number} ist bereits abgeschlossen")
    instance = await instance_for(session, case)
    state = get_definition(instance.definition_id, instance.definition_version).state(
        instance.state
    )
    if state is None or not state.final:
        raise errors.ProcedureNotEnded(
            f"Das Verfahren steht in {instance.state!r}, keinem Endzustand; erst nach Abschluss "
            f"des Verfahrens abschließen. / The procedure is in {instance.state!r}, not final.",
            state=instance.state,
        )
    plan_entry = await entry(session, case.tenant_id, file_plan_code or row.file_plan_code)
    now = now or utcnow()
    row.closed_at, row.closed_by = now, principal.sub
    row.file_plan_code = plan_entry.code
    row.updated_at = now
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="case.closed",
        case_id=case.id,
        payload={
            "file_plan_code": plan_entry.code,
            "retention_years": plan_entry.retention_years,
            "procedure_state": instance.state,
        },
        at=now,
    )
    return case


async def reopen_case(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, reason: str
) -> Case:
    """Reopen a closed case (with a reason, audited); not once it has been offered."""
    case = await get_case(session, principal, case_id)
    row = await record_of(session, case, lock=True)
    if row.closed_at is None:
        raise errors.CaseNotClosed(f"Die Akte {case.file_number} ist nicht abgeschlossen")
    if row.disposition is not None:
        raise errors.CaseClosed(
            f"Die Akte {case.file_number} ist in der Aussonderung ({row.disposition})",
            disposition=row.disposition,
        )
    now = utcnow()
    closed_at = row.closed_at
    row.closed_at, row.closed_by, row.updated_at = None, None, now
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="case.reopened",
        case_id=case.id,
        payload={"reason": reason, "was_closed_at": closed_at.isoformat()},
        at=now,
    )
    return case


async def set_hold(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, reason: str
) -> Case:
    """Put a legal hold on a case: no offer, no destruction until it is lifted."""
    case = await get_case(session, principal, case_id)
    row = await record_of(session, case, lock=True)
    if row.hold_reason is not None:
        raise errors.HoldConflict(f"Die Akte {case.file_number} ist bereits gesperrt")
    now = utcnow()
    row.hold_reason, row.hold_by, row.hold_at, row.updated_at = reason, principal.sub, now, now
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="records.hold_set",
        case_id=case.id,
        payload={"reason": reason},
        at=now,
    )
    return case


async def lift_hold(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, reason: str
) -> Case:
    """Lift a legal hold (with a reason, audited)."""
    case = await get_case(session, principal, case_id)
    row = await record_of(session, case, lock=True)
    if row.hold_reason is None:
        raise errors.HoldConflict(f"Die Akte {case.file_number} ist nicht gesperrt")
    now = utcnow()
    held = row.hold_reason
    row.hold_reason, row.hold_by, row.hold_at, row.updated_at = None, None, None, now
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="records.hold_lifted",
        case_id=case.id,
        payload={"reason": reason, "hold_reason": held},
        at=now,
    )
    return case


async def due_for_offer(
    session: AsyncSession, tenant: str, today: date
) -> list[tuple[Case, CaseRecord, FilePlanEntry]]:
    """Closed cases whose retention has ended, not on hold and not yet in an Aussonderung."""
    plan = {e.code: e for e in await file_plan(session, tenant)}
    rows = await session.execute(
        select(Case, CaseRecord)
        .join(CaseRecord, CaseRecord.case_id == Case.id)
        .where(
            CaseRecord.tenant_id == tenant,
            Case.tenant_id == tenant,
            CaseRecord.closed_at.is_not(None),
            CaseRecord.hold_reason.is_(None),
            CaseRecord.disposition.is_(None),
        )
        .order_by(CaseRecord.closed_at, Case.id)
    )
    due = []
    for case, record in rows.all():
        plan_entry = plan.get(record.file_plan_code or "")
        if plan_entry is None or record.closed_at is None:
            continue
        if today >= retention_ends(local_today(record.closed_at), plan_entry.retention_years):
            due.append((case, record, plan_entry))
    return due
