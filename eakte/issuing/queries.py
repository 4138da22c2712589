"""What the applicant may see: only documents made known (bekanntgegeben) to the applicant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.documents.models import Document, DocumentVersion
from eakte.issuing.models import BEKANNTGEGEBEN, IssuedDocument


def _visible() -> list[Any]:
    return [
        IssuedDocument.state == BEKANNTGEGEBEN,
        IssuedDocument.addressee_kind == "applicant",
        IssuedDocument.signed_version.is_not(None),
    ]


def applicant_stamp(case_id: Any) -> tuple[Select[Any], Select[Any]]:
    """Correlatable (count, newest Bekanntgabe) selects for the status cache key."""
    live = select(Document.id).where(Document.deleted_at.is_(None))
    where = [IssuedDocument.case_id == case_id, IssuedDocument.document_id.in_(live), *_visible()]
    return (
        select(func.count(IssuedDocument.id)).where(*where),
        select(func.max(IssuedDocument.bekanntgegeben_at)).where(*where),
    )


@dataclass(frozen=True)
class ApplicantDocument:
    document_id: uuid.UUID
    title: str
    kind: str
    issued_at: datetime


async def applicant_documents(session: AsyncSession, case_id: uuid.UUID) -> list[ApplicantDocument]:
    """The case's documents made known to the applicant, in order of Bekanntgabe."""
    rows = await session.execute(
        select(IssuedDocument, Document)
        .join(Document, Document.id == IssuedDocument.document_id)
        .where(IssuedDocument.case_id == case_id, Document.deleted_at.is_(None), *_visible())
        .order_by(IssuedDocument.bekanntgegeben_at, IssuedDocument.id)
    )
    return [
        ApplicantDocument(d.id, d.title.removesuffix(" (Entwurf)"), d.kind, i.bekanntgegeben_at)
        for i, d in rows
    ]


async def applicant_version(
    session: AsyncSession, case_id: uuid.UUID, document_id: uuid.UUID
) -> DocumentVersion | None:
    """The sealed version the applicant may download, or None."""
    return await session.scalar(
        select(DocumentVersion)
        .join(IssuedDocument, IssuedDocument.document_id == DocumentVersion.document_id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(
            IssuedDocument.case_id == case_id,
            IssuedDocument.document_id == document_id,
            DocumentVersion.number == IssuedDocument.signed_version,
            Document.deleted_at.is_(None),
            *_visible(),
        )
    )
