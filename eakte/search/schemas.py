"""API shapes of document search."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    """A document whose current version's text matches, with its case and a marked snippet."""

    case_id: uuid.UUID
    file_number: str
    case_title: str
    gemarkung: str
    flurstueck: str
    document_id: uuid.UUID
    document_title: str
    kind: str
    version: int
    score: float
    snippet: str = Field(description="text around the match, terms inside <mark>…</mark>")


class SearchResult(BaseModel):
    items: list[SearchHit]
