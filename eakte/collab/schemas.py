"""API shapes of the workspace view and its named versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

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
