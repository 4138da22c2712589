"""API shapes of the post room's print batches."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class BatchCreate(BaseModel):
    """Which day's batch to make (default: today in Bavaria)."""

    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = Field(default=None, description="Tag des Druckstapels (YYYY-MM-DD)")


class BatchLetter(BaseModel):
    """One letter of a batch, as on the cover list."""

    position: int
    issued_id: uuid.UUID
    case_id: uuid.UUID
    file_number: str
    addressee_name: str
    postcode: str
    letter_type: str
    label_de: str
    pages: int
    first_page: int
    posted_on: dt.date | None
    bekanntgabe_on: dt.date | None


class SkippedLetter(BaseModel):
    issued_id: uuid.UUID
    file_number: str
    reason_de: str
    reason_en: str


class BatchRead(BaseModel):
    """A print batch: one PDF (cover list + letters) of one tenant and day."""

    id: uuid.UUID
    date: dt.date
    letters: int
    pages: int
    sha256: str
    created_at: dt.datetime
    posted_on: dt.date | None
    posted_at: dt.datetime | None
    content_url: str
    items: list[BatchLetter] = []
    skipped: list[SkippedLetter] = []


class BatchPosted(BaseModel):
    """The day the batch was handed to the post (Aufgabe zur Post)."""

    model_config = ConfigDict(extra="forbid")
    posted_on: dt.date
