"""Write notifications where events happen (in their transaction); list and mark read."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.db import utcnow
from eakte.errors import NotFound
from eakte.notifications.models import Notification, NotificationKind
from eakte.tenants import members as directory


class NotificationNotFound(NotFound):
    slug, title = "notification-not-found", "Notification not found"


def recipients(case: Case) -> list[str]:
    """Who hears about a case: its Sachbearbeiter and its Vertretung (none if unassigned)."""
    found: list[str] = []
    for sub in (case.assignee_sub, case.deputy_sub):
        if sub and sub not in found:
            found.append(sub)
    return found


async def notify(
    session: AsyncSession,
    case: Case,
    kind: NotificationKind,
    *,
    de: str,
    en: str,
    now: datetime | None = None,
    skip: str | None = None,
    to: list[str] | None = None,
) -> list[Notification]:
    """One notification per recipient of `case` (or of `to`), except `skip`, who caused it."""
    at = now or utcnow()
    written = [
        Notification(
            tenant_id=case.tenant_id,
            recipient=sub,
            case_id=case.id,
            kind=kind.value,
            text_de=de[:500],
            text_en=en[:500],
            created_at=at,
        )
        for sub in (recipients(case) if to is None else to)
        if sub != skip
    ]
    session.add_all(written)
    await session.flush()
    return written


async def notify_unassigned(
    session: AsyncSession, case: Case, *, now: datetime | None = None
) -> list[Notification]:
    """A new case nobody is assigned to (online submission, XBau inbox) is announced to every
    Sachbearbeiter of the authority's directory, so that someone takes it (issue 16)."""
    if recipients(case):
        return []
    clerks = [m.sub for m in await directory.members(session, case.tenant_id, role=Role.clerk)]
    if not clerks:
        return []
    return await notify(
        session,
        case,
        NotificationKind.new_unassigned,
        de=f"Neuer Vorgang ohne Zuständigkeit: {case.title}",
        en=f"New case without an assigned official: {case.title}",
        now=now,
        to=clerks,
    )


async def list_for(
    session: AsyncSession, principal: Principal, *, unread_only: bool, limit: int
) -> tuple[list[tuple[Notification, str]], int]:
    """The principal's newest notifications with each case's file number, and the unread count."""
    mine = (Notification.tenant_id == principal.tenant, Notification.recipient == principal.sub)
    stmt = (
        select(Notification, Case.file_number)
        .join(Case, Case.id == Notification.case_id)
        .where(*mine)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = [(n, str(number)) for n, number in (await session.execute(stmt)).all()]
    unread = await session.scalar(
        select(func.count()).select_from(Notification).where(*mine, Notification.read_at.is_(None))
    )
    return rows, int(unread or 0)


async def mark_read(
    session: AsyncSession, principal: Principal, notification_id: uuid.UUID | None
) -> int:
    """Mark one (or, with None, every) notification of the principal read; returns how many."""
    stmt = update(Notification).where(
        Notification.tenant_id == principal.tenant,
        Notification.recipient == principal.sub,
        Notification.read_at.is_(None),
    )
    if notification_id is not None:
        exists = await session.scalar(
            select(Notification.id).where(
                Notification.id == notification_id,
                Notification.tenant_id == principal.tenant,
                Notification.recipient == principal.sub,
            )
        )
        if exists is None:
            raise NotificationNotFound(f"no notification {notification_id}")
        stmt = stmt.where(Notification.id == notification_id)
    result = await session.execute(
        stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
