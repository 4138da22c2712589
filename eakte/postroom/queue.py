"""Put a signed letter into the post room's print queue (in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.issuing.models import IssuedDocument
from eakte.postroom.models import PrintItem


async def queue_for_print(
    session: AsyncSession, record: IssuedDocument, *, reason: str, now: datetime
) -> PrintItem:
    """Queue `record` once; a letter already queued keeps its one entry (and its batch)."""
    existing = await session.scalar(select(PrintItem).where(PrintItem.issued_id == record.id))
    if existing is not None:
        return existing
    item = PrintItem(
        tenant_id=record.tenant_id,
        case_id=record.case_id,
        issued_id=record.id,
        reason=reason,
        queued_at=now,
    )
    session.add(item)
    await session.flush()
    return item
