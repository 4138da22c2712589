"""HTTP endpoints of the per-user notification list."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from eakte.auth.principal import CASE_READ_ROLES, Principal
from eakte.deps import ReadSessionDep, SessionDep, require_roles
from eakte.notifications import service
from eakte.notifications.schemas import MarkedRead, NotificationList, NotificationRead
from eakte.openapi import problems

router = APIRouter(prefix="/api/v1/notifications", tags=["work"])

Official = Annotated[Principal, Depends(require_roles(*CASE_READ_ROLES))]


@router.get("", response_model=NotificationList, responses=problems(401, 403, 422))
async def list_notifications(
    session: ReadSessionDep,
    principal: Official,
    unread: Annotated[bool, Query(description="only unread ones")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationList:
    """Your newest notifications (deadline overdue, fiction detected, agency answered, …)."""
    rows, count = await service.list_for(session, principal, unread_only=unread, limit=limit)
    return NotificationList(
        items=[
            NotificationRead(
                id=n.id,
                kind=n.kind,
                case_id=n.case_id,
                file_number=number,
                text_de=n.text_de,
                text_en=n.text_en,
                created_at=n.created_at,
                read=n.read_at is not None,
            )
            for n, number in rows
        ],
        unread=count,
    )


async def _marked(session: SessionDep, principal: Principal, marked: int) -> MarkedRead:
    _, unread = await service.list_for(session, principal, unread_only=True, limit=1)
    return MarkedRead(marked=marked, unread=unread)


@router.post(
    "/{notification_id}/read", response_model=MarkedRead, responses=problems(401, 403, 404, 422)
)
async def mark_read(
    notification_id: uuid.UUID, session: SessionDep, principal: Official
) -> MarkedRead:
    """Mark one of your notifications read (another user's id answers 404)."""
    marked = await service.mark_read(session, principal, notification_id)
    return await _marked(session, principal, marked)


@router.post("/read", response_model=MarkedRead, responses=problems(401, 403))
async def mark_all_read(session: SessionDep, principal: Official) -> MarkedRead:
    """Mark all your notifications read."""
    marked = await service.mark_read(session, principal, None)
    return await _marked(session, principal, marked)
