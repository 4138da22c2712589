"""Document search with tenant isolation and role visibility on every hit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import site_filters, visibility
from eakte.documents.models import Document
from eakte.documents.visibility import agency_view
from eakte.errors import ValidationFailed
from eakte.search.index import index_for, terms
from eakte.search.models import DONE, DocumentText
from eakte.search.schemas import SearchHit

# How many of the newest matching documents are ranked (issue 15, search p95 < 50 ms).
RANK_CANDIDATES = 500


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
    tenant = principal.tenant
    candidates = (
        # columns, not rows: a document's text can be megabytes and is not needed here
        select(
            DocumentText.id.label("id"),
            DocumentText.number.label("number"),
            Document.id.label("document_id"),
            Document.title.label("document_title"),
            Document.kind.label("kind"),
            Case.id.label("case_id"),
            Case.file_number.label("file_number"),
            Case.title.label("case_title"),
            Case.site_gemarkung.label("gemarkung"),
            Case.site_flurstueck.label("flurstueck"),
        )
        .join(Document, Document.id == DocumentText.document_id)
        .join(Case, Case.id == DocumentText.case_id)
        .where(
            index.matches(q),
            DocumentText.tenant_id == tenant,
            Document.tenant_id == tenant,
            DocumentText.status == DONE,
            Document.deleted_at.is_(None),  # withdrawn documents are not listed, nor found
            Document.version_count == DocumentText.number,  # only the current version
            visibility(principal),
            *([] if (restricted := agency_view(principal)) is None else [restricted]),
            *site_filters(gemarkung=gemarkung, flurstueck=flurstueck),
        )
        # Every fence above applies before the cap, so the cap never trades a visible hit
        # for an invisible one. Ranking reads each hit's whole text vector: for a word in
        # every second document that is tens of thousands of reads, so only the newest
        # RANK_CANDIDATES visible hits are ranked (all of them when there are fewer).
        .order_by(DocumentText.id.desc())
        .limit(RANK_CANDIDATES)
        .cte("candidates")
    )
    scored = index.rank(q, select(candidates.c.id).subquery("candidate_ids"))
    stmt = (
        select(
            candidates.c.id,
            candidates.c.number,
            candidates.c.document_id,
            candidates.c.document_title,
            candidates.c.kind,
            candidates.c.case_id,
            candidates.c.file_number,
            candidates.c.case_title,
            candidates.c.gemarkung,
            candidates.c.flurstueck,
            scored.c.score,
        )
        .join(scored, scored.c.id == candidates.c.id)
        .order_by(scored.c.score.desc(), candidates.c.id)
        .limit(limit)
    )
    await index.prepare(session)
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
