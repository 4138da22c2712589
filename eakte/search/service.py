"""Document search with tenant isolation and role visibility on every hit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import site_filters, visibility
from eakte.documents.models import Document
from eakte.errors import ValidationFailed
from eakte.search.index import index_for, terms, visible_texts
from eakte.search.models import DocumentText
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
    texts = visible_texts(index, q, principal.tenant).subquery("texts")
    stmt = (
        select(DocumentText, Document, Case, scored.c.score)
        .join(texts, texts.c.id == DocumentText.id)
        .join(scored, scored.c.id == DocumentText.id)
        .join(Document, Document.id == DocumentText.document_id)
        .join(Case, Case.id == DocumentText.case_id)
        .where(visibility(principal), *site_filters(gemarkung=gemarkung, flurstueck=flurstueck))
        .order_by(scored.c.score.desc(), DocumentText.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    snippets = await index.snippets(session, q, [t.id for t, *_ in rows])
    return [
        SearchHit(
            case_id=case.id,
            file_number=case.file_number,
            case_title=case.title,
            gemarkung=case.site_gemarkung,
            flurstueck=case.site_flurstueck,
            document_id=document.id,
            document_title=document.title,
            kind=document.kind,
            version=text_row.number,
            score=float(score or 0),
            snippet=snippets.get(text_row.id, ""),
        )
        for text_row, document, case, score in rows
    ]


async def indexed_count(session: AsyncSession, tenant: str) -> int:
    """How many texts of `tenant` are indexed (for operations)."""
    return int(
        await session.scalar(
            select(func.count()).select_from(DocumentText).where(DocumentText.tenant_id == tenant)
        )
        or 0
    )
