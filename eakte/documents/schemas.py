"""Request fields and response models of the documents API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from eakte.documents.kinds import DocumentKind
from eakte.textinput import TextInput

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class DocumentFields(TextInput):
    """The text fields of a new document's multipart body (besides `file`)."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    kind: DocumentKind
    comment: Comment = ""


class VersionFields(TextInput):
    """The text fields of a new version's multipart body (besides `file`)."""

    model_config = ConfigDict(extra="forbid")

    comment: Comment = ""


class DocumentKindRead(BaseModel):
    """One entry of the document-kind vocabulary."""

    id: DocumentKind
    label: str
    description: str


class VersionRead(BaseModel):
    """One immutable version of a document."""

    number: int
    filename: str
    media_type: str
    size: int
    sha256: str
    comment: str
    created_by: str
    created_by_name: str | None
    created_at: datetime
    status: str
    broken_at: datetime | None = None
    content_url: str


class Withdrawal(BaseModel):
    """Why a document is withdrawn (kept in the record and the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class DocumentUpdate(TextInput):
    """Retitle or reclassify a document; only the fields given change (at least one)."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    kind: DocumentKind | None = None

    @model_validator(mode="after")
    def _something(self) -> DocumentUpdate:
        if self.title is None and self.kind is None:
            raise ValueError("give a new title or kind")
        return self


class DocumentRead(BaseModel):
    """A document with its newest version (and all versions where asked for)."""

    id: uuid.UUID
    case_id: uuid.UUID
    title: str
    kind: DocumentKind
    kind_label: str
    version_count: int
    latest_version: VersionRead
    versions: list[VersionRead] | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    withdrawn_reason: str | None = None
    withdrawn: bool = Field(
        default=False, description="withdrawn (zurückgezogen): kept in the file as a record"
    )


class DocumentList(BaseModel):
    """The documents of a case, oldest first."""

    items: list[DocumentRead]


MULTIPART_DOCUMENT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "title", "kind"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string", "maxLength": 300, "example": "Lageplan M 1:500"},
                    "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
                    "comment": {"type": "string", "maxLength": 2000},
                },
            },
            "encoding": {"file": {"contentType": "application/octet-stream"}},
        }
    },
}

MULTIPART_VERSION_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "comment": {
                        "type": "string",
                        "maxLength": 2000,
                        "example": "nach Nachforderung vom 3. März überarbeitet",
                    },
                },
            }
        }
    },
}


MAX_LINKS_PER_REQUEST = 5000


class DownloadLinksRequest(BaseModel):
    """Which documents of the case to link (their newest versions); omitted: all listed."""

    model_config = ConfigDict(extra="forbid")

    document_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=MAX_LINKS_PER_REQUEST
    )


class DownloadLink(BaseModel):
    """A short-lived link to one version's bytes; anyone holding it may fetch them until
    `expires_at`, so hand it on only as you would hand on the file."""

    document_id: uuid.UUID
    number: int
    filename: str
    media_type: str
    size: int
    sha256: str
    url: str
    expires_at: datetime


class DownloadLinkList(BaseModel):
    """Links for documents of one case, in the order of the case's document list."""

    expires_at: datetime
    items: list[DownloadLink]
