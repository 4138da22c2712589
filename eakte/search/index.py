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

    async def prepare(self, session: AsyncSession) -> None:
        """Session settings for one search (in the current transaction only)."""

    def matches(self, query: str) -> ColumnElement[bool]:
        """A condition on `document_texts`: the row's text matches `query` (uses the index)."""

    def rank(self, query: str, candidates: Subquery) -> Subquery:
        """(id, score) of the `candidates` (a subquery with an `id` column); higher is better.

        Only the candidates are scored: ranking reads each row's whole text vector, so it is
        done for a bounded set, never for every match of a common word.
        """

    async def snippets(self, session: AsyncSession, query: str, ids: list[int]) -> dict[int, str]:
        """The marked snippet of each of `ids` (only the rows of one result page)."""


class PostgresIndex:
    """German `tsvector` + GIN."""

    def _query(self, query: str) -> ColumnElement[object]:
        return func.websearch_to_tsquery("german", " ".join(terms(query)))

    async def prepare(self, session: AsyncSession) -> None:
        # The best plan depends on how common the words are (walk the newest texts for a
        # common word, the GIN index for a rare one): psycopg prepares a statement after a
        # few runs and PostgreSQL would then switch to one generic plan for every word
        # (300 ms for a common word instead of 30 ms), so plan each search for its words.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # The candidate scan stops after a bounded number of rows: starting parallel workers
        # for it costs more than it saves (EXPLAIN ANALYZE: 20 ms of worker start-up alone)
        await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))

    def matches(self, query: str) -> ColumnElement[bool]:
        return literal_column("document_texts.tsv").op("@@")(self._query(query))

    def rank(self, query: str, candidates: Subquery) -> Subquery:
        tsv = literal_column("document_texts.tsv")
        return (
            select(
                DocumentText.id.label("id"),
                func.ts_rank_cd(tsv, self._query(query)).label("score"),
            )
            .join(candidates, candidates.c.id == DocumentText.id)
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

    async def prepare(self, session: AsyncSession) -> None:
        return None

    def matches(self, query: str) -> ColumnElement[bool]:
        return DocumentText.id.in_(
            text("SELECT rowid FROM document_texts_fts WHERE document_texts_fts MATCH :fts")
            .bindparams(fts=fts5_query(query))
            .columns(column("rowid"))
        )

    def rank(self, query: str, candidates: Subquery) -> Subquery:
        # bm25() is lower for better matches: negate it so that both backends sort descending;
        # bm25 exists only inside an FTS5 MATCH query, hence the join with the matching rows
        fts = (
            text(
                "SELECT rowid AS id, -bm25(document_texts_fts) AS score FROM document_texts_fts "
                "WHERE document_texts_fts MATCH :fts"
            )
            .bindparams(fts=fts5_query(query))
            .columns(column("id"), column("score"))
            .subquery("fts")
        )
        return (
            select(fts.c.id, fts.c.score)
            .join(candidates, candidates.c.id == fts.c.id)
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
    return (
        select(DocumentText.id, DocumentText.case_id)
        .join(Document, Document.id == DocumentText.document_id)
        .where(
            index.matches(query),
            DocumentText.tenant_id == tenant,
            Document.tenant_id == tenant,
            DocumentText.status == DONE,
            Document.deleted_at.is_(None),
            Document.version_count == DocumentText.number,
        )
    )


def matching_case_ids(
    session: AsyncSession,
    query: str,
    tenant: str,
    only: ColumnElement[bool] | None = None,
) -> Select[tuple[uuid.UUID]]:
    """The ids of the tenant's cases whose current document text matches `query` (`only`:
    a further condition on the documents, e.g. what an agency may see)."""
    texts = visible_texts(index_for(session), query, tenant)
    if only is not None:
        texts = texts.where(only)
    inner = texts.subquery("texts")
    return select(inner.c.case_id)
