"""Request and response shapes of issuing."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from eakte.issuing.letters import LetterType
from eakte.textinput import TextInput


class TemplateWrite(TextInput):
    """A new version of a letter template (Jinja2; checked when saved)."""

    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=50_000)


class TemplateRead(BaseModel):
    letter_type: LetterType
    label_de: str
    legal_basis: str
    version: int  # 0 = the shipped default
    default_version: int  # the current version of the shipped default
    # the tenant's own template is older than the current shipped default (compare them)
    newer_default: bool = False
    subject: str
    body: str
    placeholders: list[str]


class LetterheadWrite(TextInput):
    """A new version of the tenant's letterhead."""

    authority_name: str = Field(min_length=1, max_length=300)
    department: str = Field(default="", max_length=300)
    address: str = Field(min_length=1, max_length=1000)
    contact: str = Field(default="", max_length=1000)
    signature: str = Field(default="", max_length=1000)
    rechtsbehelfsbelehrung: str = Field(min_length=1, max_length=10_000)


class LetterheadRead(LetterheadWrite):
    version: int


class Addressee(TextInput):
    """Who receives the letter; defaults to the applicant recorded on the case."""

    kind: Literal["applicant", "neighbour", "agency", "gemeinde"] = "applicant"
    name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=1000)
    email: EmailStr | None = None


class DraftCreate(TextInput):
    """Draft a letter: its type, addressee, channel and the clerk's data for the placeholders."""

    letter_type: LetterType
    addressee: Addressee = Field(default_factory=Addressee)
    channel: Literal["electronic", "postal"] = "electronic"
    data: dict[str, Any] = Field(default_factory=dict)
    # a neighbour letter: the sealed decision it serves (default: the case's newest one)
    enclosure_id: uuid.UUID | None = None


class DraftUpdate(TextInput):
    """Complete or correct a draft (e.g. the address of a letter drafted from an effect); the
    fields given replace the draft's, and the draft PDF is rendered again as a new version."""

    model_config = ConfigDict(extra="forbid")
    addressee: Addressee | None = None
    channel: Literal["electronic", "postal"] | None = None
    data: dict[str, Any] | None = None


class Bekanntgabe(TextInput):
    """Make a signed document known: electronic provision or posting (date of posting)."""

    channel: Literal["electronic", "postal"] | None = None
    posted_on: date | None = None
    served_on: date | None = Field(
        default=None,
        description="Tag der Zustellung laut Rückschein oder Zustellungsurkunde: required for "
        "letters that must be served (the neighbour letter with the permit, Art. 66 Abs. 1 S. 4 "
        "BayBO); it is their Bekanntgabe",
    )


class IssuedRead(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    document_id: uuid.UUID
    letter_type: LetterType
    label_de: str
    state: str
    addressee_kind: str
    addressee_name: str
    channel: str
    verification_ref: str
    template_version: int
    default_version: int | None
    letterhead_version: int
    enclosure_id: uuid.UUID | None
    draft_version: int
    signed_version: int | None
    signed_sha256: str | None
    drafted_by_name: str | None
    signed_by_name: str | None
    signed_at: datetime | None
    posted_on: date | None
    bekanntgabe_on: date | None
    bekanntgabe_rule: str | None
    bekanntgegeben_at: datetime | None
    preview_url: str
    content_url: str
