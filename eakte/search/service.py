"""Document search with tenant isolation and role visibility on every hit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import site_filters, visibility
from eakte.documents.models import Document
from eakte.errors import ValidationFailed
from eakte.search.index import index_for, terms
from eakte.search.models import DONE, DocumentText
from eakte.search.schemas import SearchHit


async def search_documents(
    session: AsyncSession,
    principal: Principal,
    *,
    q: str,
    gemarkung: str | None = None,
    flurstueck: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """The best `limit` documents matching `q` among the cases the principal may see."""
    if not terms(q):
        raise ValidationFailed("q: give at least one word / mindestens ein Suchwort angeben")
    index = index_for(session)
    scored = index.scored(q)
    tenant = principal.tenant
    stmt = (
        # columns, not rows: a document's text can be megabytes and is not needed here
        select(
            DocumentText.id,
            DocumentText.number,
            Document.id,
            Document.title,
            Document.kind,
            Case.id,
            Case.file_number,
            Case.title,
            Case.site_gemarkung,
            Case.site_flurstueck,
            scored.c.score,
        )
        .join(scored, scored.c.id == DocumentText.id)
        .join(Document, Document.id == DocumentText.document_id)
        .join(Case, Case.id == DocumentText.case_id)
        .where(
            DocumentText.tenant_id == tenant,
            Document.tenant_id == tenant,
            DocumentText.status == DONE,
            Document.deleted_at.is_(None),  # withdrawn documents are not listed, nor found
            Document.version_count == DocumentText.number,  # only the current version
            visibility(principal),
            *site_filters(gemarkung=gemarkung, flurstueck=flurstueck),
        )
        .order_by(scored.c.score.desc(), DocumentText.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    snippets = await index.snippets(session, q, [row[0] for row in rows])
    return [
        SearchHit(
            case_id=case_id,
            file_number=file_number,
            case_title=case_title,
            gemarkung=gemarkung_,
            flurstueck=flurstueck_,
            document_id=document_id,
            document_title=document_title,
            kind=kind,
            version=number,
            score=float(score or 0),
            snippet=snippets.get(text_id, ""),
        )
        for (
            text_id,
            number,
            document_id,
            document_title,
            kind,
            case_id,
            file_number,
            case_title,
            gemarkung_,
            flurstueck_,
            score,
        ) in rows
    ]


async def indexed_count(session: AsyncSession, tenant: str) -> int:
    """How many texts of `tenant` are indexed (for operations)."""
    return int(
        await session.scalar(
            select(func.count()).select_from(DocumentText).where(DocumentText.tenant_id == tenant)
        )
        or 0
    )
