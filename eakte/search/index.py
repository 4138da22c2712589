"""One search interface over two full-text indexes of `document_texts`.

PostgreSQL: the German text search configuration (stemming, stop words) on a stored
`tsvector` with a GIN index (migration 0011); `ts_rank_cd` ranks, `ts_headline` marks the
snippet. SQLite (the embedded default): an FTS5 table kept in step by triggers; every term is
a prefix match (`"bau"*`, FTS5 has no German stemmer), `bm25` ranks, `snippet` marks.

This module sits below `cases` and `documents` (it imports neither's services): the case
list asks it for the cases whose document text matches, `search.service` builds the hits.
"""

from __future__ import annotations

import re
import uuid
from typing import Protocol

from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Subquery

from eakte.documents.models import Document
from eakte.search.models import DONE, DocumentText

MARK_START, MARK_END = "<mark>", "</mark>"
_TERM = re.compile(r"[\w/.\-]+", re.UNICODE)


def terms(query: str) -> list[str]:
    """The words of a query (punctuation other than `/ . -` inside a word is dropped)."""
    return [t for t in _TERM.findall(query.casefold()) if t.strip("/.-")]


class TextIndex(Protocol):
    """A backend: which text rows match a query, how well, and the marked snippet."""

    def scored(self, query: str) -> Subquery:
        """(id, score) of every text row matching `query`; a higher score is a better hit."""

    async def snippets(self, session: AsyncSession, query: str, ids: list[int]) -> dict[int, str]:
        """The marked snippet of each of `ids` (only the rows of one result page)."""


class PostgresIndex:
    """German `tsvector` + GIN."""

    def _query(self, query: str) -> ColumnElement[object]:
        return func.websearch_to_tsquery("german", " ".join(terms(query)))

    def scored(self, query: str) -> Subquery:
        tsq = self._query(query)
        tsv = literal_column("document_texts.tsv")
        return (
            select(DocumentText.id.label("id"), func.ts_rank_cd(tsv, tsq).label("score"))
            .where(tsv.op("@@")(tsq))
            .subquery("scored")
        )

    async def snippets(self, session: AsyncSession, query: str, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, "
            'MaxWords=18, MinWords=6, FragmentDelimiter=" … "'
        )
        rows = await session.execute(
            select(
                DocumentText.id,
                func.ts_headline("german", DocumentText.content, self._query(query), options),
            ).where(DocumentText.id.in_(ids))
        )
        return {int(i): str(s) for i, s in rows.all()}


def fts5_query(query: str) -> str:
    """An FTS5 MATCH expression: every term quoted (no operators) and matched as a prefix."""
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms(query)) or '""'


class SqliteIndex:
    """FTS5 with the unicode61 tokenizer (diacritics folded)."""

    def scored(self, query: str) -> Subquery:
        # bm25() is lower for better matches: negate it so that both backends sort descending
        return (
            text(
                "SELECT rowid AS id, -bm25(document_texts_fts) AS score FROM document_texts_fts "
                "WHERE document_texts_fts MATCH :fts"
            )
            .bindparams(fts=fts5_query(query))
            .columns(column("id"), column("score"))
            .subquery("scored")
        )

    async def snippets(self, session: AsyncSession, query: str, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        marks = ", ".join(str(int(i)) for i in ids)
        rows = await session.execute(
            text(
                "SELECT rowid, snippet(document_texts_fts, 0, :a, :b, ' … ', 18) "
                "FROM document_texts_fts WHERE document_texts_fts MATCH :fts "
                f"AND rowid IN ({marks})"
            ).bindparams(fts=fts5_query(query), a=MARK_START, b=MARK_END)
        )
        return {int(i): str(s) for i, s in rows.all()}


def index_for(session: AsyncSession) -> TextIndex:
    """The index of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return PostgresIndex()
    return SqliteIndex()


def visible_texts(index: TextIndex, query: str, tenant: str) -> Select[tuple[int, uuid.UUID]]:
    """(text id, case id) of the current, not withdrawn documents of `tenant` matching `query`.

    Callers add the case visibility of their principal; the tenant condition here is a
    second fence, not the only one.
    """
    scored = index.scored(query)
    return (
        select(DocumentText.id, DocumentText.case_id)
        .join(scored, scored.c.id == DocumentText.id)
        .join(Document, Document.id == DocumentText.document_id)
        .where(
            DocumentText.tenant_id == tenant,
            Document.tenant_id == tenant,
            DocumentText.status == DONE,
            Document.deleted_at.is_(None),
            Document.version_count == DocumentText.number,
        )
    )


def matching_case_ids(session: AsyncSession, query: str, tenant: str) -> Select[tuple[uuid.UUID]]:
    """The ids of the tenant's cases whose current document text matches `query`."""
    inner = visible_texts(index_for(session), query, tenant).subquery("texts")
    return select(inner.c.case_id)
