"""The extraction queue: a pending `document_texts` row per new version, claimed by workers.

Claiming is a short transaction of its own (the extraction itself runs outside any
transaction): on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers take different
rows; SQLite has one writer at a time anyway. A row left `running` by a killed worker is
claimed again once its lease has expired.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.db import Database, utcnow
from eakte.documents.models import Document, DocumentVersion
from eakte.search.models import DONE, FAILED, PENDING, RUNNING, UNSUPPORTED, DocumentText

MAX_ATTEMPTS = 3


async def enqueue_text(session: AsyncSession, document: Document, version: DocumentVersion) -> None:
    """Queue the extraction of a new version's text (same transaction as the version)."""
    session.add(
        DocumentText(
            version_id=version.id,
            document_id=document.id,
            case_id=document.case_id,
            tenant_id=document.tenant_id,
            number=version.number,
            status=PENDING,
            attempts=0,
            content="",
            pages=0,
            updated_at=utcnow(),
        )
    )
    await session.flush()


@dataclass(frozen=True)
class Job:
    """One claimed extraction: which text row, which object, how large, what type."""

    text_id: int
    version_id: uuid.UUID
    object_key: str
    size: int
    media_type: str


async def claim(db: Database, *, limit: int, lease: timedelta) -> list[Job]:
    """Take up to `limit` pending (or lease-expired) rows and mark them running."""
    now = utcnow()
    async with db.session(write=True) as session:
        stmt = (
            select(DocumentText.id)
            .where(
                or_(
                    DocumentText.status == PENDING,
                    and_(DocumentText.status == RUNNING, DocumentText.claimed_at < now - lease),
                )
            )
            .order_by(DocumentText.id)
            .limit(limit)
        )
        if db.backend == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list((await session.scalars(stmt)).all())
        if not ids:
            return []
        await session.execute(
            update(DocumentText)
            .where(DocumentText.id.in_(ids))
            .values(status=RUNNING, claimed_at=now, attempts=DocumentText.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = await session.execute(
            select(DocumentText, DocumentVersion)
            .join(DocumentVersion, DocumentVersion.id == DocumentText.version_id)
            .where(DocumentText.id.in_(ids))
            .order_by(DocumentText.id)
        )
        jobs = []
        for text, version in rows.all():
            if text.attempts > MAX_ATTEMPTS:
                text.status, text.error = FAILED, "gave up after repeated interruptions"
                continue
            jobs.append(
                Job(text.id, version.id, version.object_key, version.size, version.media_type)
            )
        return jobs


async def finish(
    db: Database, job: Job, *, content: str, pages: int, status: str, error: str | None
) -> None:
    """Store the outcome of one extraction."""
    assert status in {DONE, FAILED, UNSUPPORTED}
    async with db.session(write=True) as session:
        await session.execute(
            update(DocumentText)
            .where(DocumentText.id == job.text_id, DocumentText.status == RUNNING)
            .values(
                content=content,
                pages=pages,
                status=status,
                error=error[:300] if error else None,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


async def pending_count(db: Database) -> int:
    """How many texts wait for extraction (for the CLI and tests)."""
    from sqlalchemy import func

    async with db.session(write=False) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(DocumentText)
                .where(DocumentText.status.in_([PENDING, RUNNING]))
            )
            or 0
        )
