"""API shapes of records management."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from eakte.records.models import ArchivalValue

Reason = Field(min_length=3, max_length=2000, description="Begründung (kept in the audit trail)")


class FilePlanEntryRead(BaseModel):
    code: str
    title: str
    retention_years: int
    archival_value: ArchivalValue
    is_default: bool


class FilePlanEntryWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    retention_years: int = Field(ge=1, le=200)
    archival_value: ArchivalValue
    is_default: bool = False


class FilePlan(BaseModel):
    items: list[FilePlanEntryRead]


class CaseClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_plan_code: str | None = Field(
        default=None, max_length=40, description="default: the tenant's default code"
    )


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Reason


class LegalHold(BaseModel):
    reason: str
    by: str
    since: datetime


class CaseRecordRead(BaseModel):
    """A case's record state: closed, its code and retention, hold, disposition."""

    case_id: uuid.UUID
    file_number: str
    closed: bool
    closed_at: datetime | None
    closed_by: str | None
    file_plan_code: str | None
    retention_years: int | None
    retention_until: date | None = Field(description="first day the case may be disposed of")
    archival_value: ArchivalValue | None
    legal_hold: LegalHold | None
    disposition: str | None


class OfferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: date | None = Field(
        default=None, description="count retention up to this date (default: today)"
    )


class MessageNote(BaseModel):
    code: str
    at: str
    sha256: str | None = None


class OfferRead(BaseModel):
    """One Aussonderung (xdomea ProzessID): state and the messages exchanged so far."""

    process_id: uuid.UUID
    state: str
    created_by: str
    created_at: datetime
    cases: int
    messages: list[MessageNote]
    package_sha256: str | None
    xml: str | None = Field(default=None, description="the newest outgoing message (0501/0505)")


class ArchiveEndpointWrite(BaseModel):
    """The archive's intake for Aussonderung messages; without `secret` one is generated."""

    url: AnyHttpUrl = Field(examples=["https://archiv.example/xdomea"])
    secret: str | None = Field(default=None, min_length=32, max_length=200)


class ArchiveEndpointRead(BaseModel):
    url: str
    created_by: str
    created_at: datetime
    secret: str | None = Field(default=None, description="only in the answer that set it")
