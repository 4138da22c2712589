"""Fire due deadlines exactly once: Genehmigungsfiktion, Rücknahmefiktion, deemed consent."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.audit import service as audit
from eakte.cases.models import Case
from eakte.db import Database, utcnow
from eakte.notifications.models import NotificationKind
from eakte.notifications.service import notify
from eakte.process import errors
from eakte.process.bekanntgabe import lapse_provisions
from eakte.process.context import prepare
from eakte.process.models import (
    DEADLINE_EXPIRED,
    DEADLINE_RUNNING,
    PARTICIPATION_DEEMED,
    PARTICIPATION_OPEN,
    Participation,
    ProcessDeadline,
    ProcessInstance,
)
from eakte.process.service import SYSTEM, local, local_today, persist
from eakte.process.view import FICTION_LABELS
from storage import ObjectStore

log = logging.getLogger("eakte.process.ticker")


@dataclass
class TickReport:
    """What one tick did."""

    fired: list[str] = field(default_factory=list)  # "<case>:<kind>-><action>"
    expired: list[str] = field(default_factory=list)  # expired without an action
    deemed: list[str] = field(default_factory=list)  # participations deemed answered
    failed: list[str] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)  # provisions not retrieved (Art. 41 Abs. 2a)

    @property
    def total(self) -> int:
        """Number of deadlines, participations and provisions handled."""
        return len(self.fired) + len(self.expired) + len(self.deemed) + len(self.lapsed)


def _skip_locked(session: AsyncSession) -> dict[str, bool]:
    dialect = session.bind.dialect.name
    return {"skip_locked": True} if dialect == "postgresql" else {}


async def _fire_one(session: AsyncSession, deadline_id: uuid.UUID, now: datetime) -> str | None:
    """Fire one deadline if it still runs; returns the action taken, '' if none, None if gone.

    Locks in the same order as an official's action (the instance row first, then its
    deadlines), so a tick and an action on the same case never deadlock; a case whose
    instance is locked right now is skipped and picked up by the next tick.
    """
    case_id = await session.scalar(
        select(ProcessDeadline.case_id).where(
            ProcessDeadline.id == deadline_id, ProcessDeadline.status == DEADLINE_RUNNING
        )
    )
    if case_id is None:
        return None
    row = await session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.case_id == case_id)
        .with_for_update(**_skip_locked(session))
        .execution_options(populate_existing=True)
    )
    if row is None:
        return None
    deadline = await session.scalar(
        select(ProcessDeadline)
        .where(ProcessDeadline.id == deadline_id, ProcessDeadline.status == DEADLINE_RUNNING)
        .execution_options(populate_existing=True)
    )
    if deadline is None:
        return None
    case = await session.get(Case, deadline.case_id)
    assert row is not None and case is not None
    prepared = await prepare(session, case, row, SYSTEM.sub)
    definition = prepared.definition
    try:
        result = wf.fire_deadline(
            definition,
            prepared.instance,
            deadline.kind,
            now=local(now),
            context=prepared.context,
            calendar=prepared.calendar,
        )
    except wf.DeadlineNotDue:
        return None
    if result is None:
        deadline.status = DEADLINE_EXPIRED
        deadline.closed_at = now
        row.revision += 1
        row.updated_at = now
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=SYSTEM.sub,
            action="process.deadline_expired",
            case_id=case.id,
            payload={"deadline": deadline.kind, "due": deadline.due.isoformat()},
            at=now,
        )
        await notify(
            session,
            case,
            NotificationKind.deadline_overdue,
            de=f"Frist abgelaufen: {deadline.label_de} (Fristende {deadline.due:%d.%m.%Y})",
            en=f"Deadline expired: {deadline.label_en} (last day {deadline.due.isoformat()})",
            now=now,
        )
        log.info(
            "deadline expired without effect: %s %s",
            case.file_number,
            deadline.kind,
            extra={
                "file_number": case.file_number,
                "rule": deadline.kind,
                "tenant": case.tenant_id,
            },
        )
        return ""
    await persist(
        session, case=case, row=row, definition=definition, result=result, actor=SYSTEM, now=now
    )
    found = (row.variables or {}).get("fiktion_festgestellt")
    if isinstance(found, dict):  # Genehmigungs- or Rücknahmefiktion: an official must decide
        label = FICTION_LABELS.get(str(found.get("regel", "")))
        await notify(
            session,
            case,
            NotificationKind.fiction_detected,
            de=(label.de if label else "Fiktion festgestellt")
            + f" ({deadline.label_de}, Fristende {deadline.due:%d.%m.%Y}; "
            + f"{found.get('rechtsgrundlage') or deadline.legal_basis})",
            en=(label.en if label else "Fiction detected")
            + f" ({deadline.label_en}, last day {deadline.due.isoformat()})",
            now=now,
        )
    else:
        await notify(
            session,
            case,
            NotificationKind.deadline_overdue,
            de=f"Frist abgelaufen: {deadline.label_de} (Fristende {deadline.due:%d.%m.%Y}) – "
            f"{result.transition.label.de}",
            en=f"Deadline expired: {deadline.label_en} (last day {deadline.due.isoformat()}) – "
            f"{result.transition.label.en}",
            now=now,
        )
    rule = definition.deadline(deadline.kind)
    log.info(
        "deadline fired: %s %s -> %s (%s)",
        case.file_number,
        deadline.kind,
        result.transition.action,
        rule.legal_basis if rule else "",
        extra={
            "file_number": case.file_number,
            "rule": deadline.kind,
            "legal_basis": rule.legal_basis if rule else "",
            "action": result.transition.action,
            "tenant": case.tenant_id,
        },
    )
    return result.transition.action


async def _deem_one(session: AsyncSession, participation_id: uuid.UUID, now: datetime) -> bool:
    participation = await session.scalar(
        select(Participation)
        .where(Participation.id == participation_id, Participation.status == PARTICIPATION_OPEN)
        .with_for_update(**_skip_locked(session))
    )
    if participation is None:
        return False
    participation.status = PARTICIPATION_DEEMED
    participation.closed_at = now
    await audit.record(
        session,
        tenant=participation.tenant_id,
        actor=SYSTEM.sub,
        action="participation.deemed",
        case_id=participation.case_id,
        payload={
            "participation": str(participation.id),
            "kind": participation.kind,
            "due": participation.due.isoformat(),
            "means": participation.on_silence,
        },
        at=now,
    )
    case = await session.get(Case, participation.case_id)
    assert case is not None
    file_number = case.file_number
    means = (
        "Zustimmung gilt als erteilt"
        if participation.on_silence == "consent_deemed"
        else ("keine Bedenken angenommen")
    )
    await notify(
        session,
        case,
        NotificationKind.participation_deemed,
        de=f"Keine Antwort von {participation.party} bis {participation.due:%d.%m.%Y}: {means}",
        en=f"No answer from {participation.party} by {participation.due.isoformat()}: "
        f"{participation.on_silence}",
        now=now,
    )
    log.info(
        "participation deemed: %s %s (%s)",
        file_number,
        participation.kind,
        participation.on_silence,
        extra={
            "file_number": file_number,
            "rule": participation.kind,
            "means": participation.on_silence,
            "tenant": participation.tenant_id,
        },
    )
    return True


async def tick(
    db: Database,
    *,
    now: datetime | None = None,
    limit: int = 1000,
    store: ObjectStore | None = None,
) -> TickReport:
    """Handle every deadline and participation whose last day lies before today (local).

    With `store`, the letters of a fired transition's effects are drafted like after an
    official's action (eakte.issuing.effects); without it they are audited as not drafted."""
    now = now or utcnow()
    today = local_today(now)
    report = TickReport()
    async with db.session(write=False) as session:
        deadline_ids = list(
            await session.scalars(
                select(ProcessDeadline.id)
                .where(ProcessDeadline.status == DEADLINE_RUNNING, ProcessDeadline.due < today)
                .order_by(ProcessDeadline.due)
                .limit(limit)
            )
        )
        participation_ids = list(
            await session.scalars(
                select(Participation.id)
                .where(Participation.status == PARTICIPATION_OPEN, Participation.due < today)
                .limit(limit)
            )
        )
    for pid in participation_ids:
        async with db.session() as session:
            if await _deem_one(session, pid, now):
                report.deemed.append(str(pid))
    for did in deadline_ids:
        try:
            async with db.session() as session:
                session.info["store"] = store  # letters of the transition's effects
                taken = await _fire_one(session, did, now)
        except (errors.ActionConflict, wf.WorkflowError, DBAPIError) as exc:
            log.warning("deadline %s not fired: %s", did, exc)
            report.failed.append(str(did))
            continue
        if taken is None:
            continue
        (report.fired if taken else report.expired).append(f"{did}:{taken}")
    # issue 13: provisions for retrieval not retrieved within ten days end (Art. 41 Abs. 2a S. 4)
    async with db.session() as session:
        report.lapsed = await lapse_provisions(session, now=now, limit=limit)
    return report


async def run_periodically(
    db: Database,
    interval_seconds: float,
    on_report: Callable[[TickReport | None], None] | None = None,
    *,
    store: ObjectStore | None = None,
) -> None:
    """The service's background ticker (cancelled on shutdown); `on_report` sees every run's
    report (None when the run was skipped because the database was unavailable)."""
    while True:
        report: TickReport | None = None
        try:
            report = await tick(db, store=store)
            if report.total or report.failed:
                log.info(
                    "tick: %d fired, %d expired, %d deemed, %d failed",
                    len(report.fired),
                    len(report.expired),
                    len(report.deemed),
                    len(report.failed),
                )
        except asyncio.CancelledError:
            raise
        except (OSError, DBAPIError, PoolTimeoutError) as exc:  # one line, not a traceback
            log.warning("deadline tick skipped: database unavailable (%s)", exc.__class__.__name__)
        except Exception:  # keep ticking; the next run retries
            log.exception("deadline tick failed")
            report = TickReport(failed=["tick"])
        if on_report is not None:
            on_report(report)
        await asyncio.sleep(interval_seconds)
