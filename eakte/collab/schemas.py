"""API shapes of the workspace view and its named versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from eakte.textinput import TextInput


class WorkspaceRead(BaseModel):
    """The workspace as JSON (see docs/collab.md for the shape)."""

    case_id: uuid.UUID
    seq: int
    version: int
    fields: dict[str, Any]
    notes: str
    checklist: list[Any]
    conditions: list[Any]
    decision: str


class VersionCreate(TextInput):
    """Freeze the current workspace under a name."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class VersionRead(BaseModel):
    """A named version: where its rendering lives as a document."""

    id: uuid.UUID
    case_id: uuid.UUID
    name: str
    seq: int
    document_id: uuid.UUID
    content_url: str
    state_size: int
    created_by: str
    created_by_name: str | None
    created_at: datetime


class VersionList(BaseModel):
    items: list[VersionRead]


class HistoryEntry(BaseModel):
    """One user's edits of the workspace in one time window."""

    id: uuid.UUID
    actor: str
    window_start: datetime
    window_end: datetime
    first_seq: int
    last_seq: int
    updates: int
    sha256: str


class HistoryList(BaseModel):
    """The attributed history, oldest first."""

    items: list[HistoryEntry]


class WorkspaceText(BaseModel):
    """The parts of the workspace the history view shows."""

    fields: dict[str, Any]
    notes: str
    decision: str
    checklist: list[Any]
    conditions: list[Any]


class HistoryView(BaseModel):
    """What one entry changed: the workspace before and after it, and at the end of its window."""

    entry: HistoryEntry
    before: WorkspaceText
    after: WorkspaceText
    at_window_end: WorkspaceText


class RestoreResult(BaseModel):
    """Whether the restore changed anything, and the sha256 of the restored state."""

    changed: bool
    seq: int
    restored_sha256: str


FieldValue = Annotated[str, StringConstraints(max_length=20_000)]


class FieldsCheck(TextInput):
    """Co-edited field values to check as the case record would (`title`, `applicant_email`…)."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[
        Literal[
            "title",
            "description",
            "site_address",
            "site_gemarkung",
            "site_flurstueck",
            "applicant_name",
            "applicant_email",
        ],
        FieldValue,
    ]


class FieldReason(BaseModel):
    """Why a field is not taken into the case record, in German and English."""

    de: str
    en: str


class FieldsChecked(BaseModel):
    """The fields that would not be projected, with the reason; valid fields are absent."""

    errors: dict[str, FieldReason]
