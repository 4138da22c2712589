"""Request and response models of the case file API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from eakte.textinput import TextInput

Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ProcedureId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
]
Flurstueck = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=60, pattern=r"^(\d{1,6}(/\d{1,4})?)?$"),
]


class Strict(TextInput):
    """Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Site(Strict):
    """Where the project is: address, Gemarkung (cadastral district), Flurstück (parcel)."""

    address: Text300
    gemarkung: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    flurstueck: Flurstueck = ""


class SitePatch(Strict):
    """A partial change of the site."""

    address: Text300 | None = None
    gemarkung: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = (
        None
    )
    flurstueck: Flurstueck | None = None


class Applicant(Strict):
    """The applicant (Bauherr) as recorded on the case."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailStr | None = None


class CaseCreate(Strict):
    """A new case file."""

    title: Text300
    procedure: ProcedureId
    site: Site
    applicant: Applicant
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    housing: bool = Field(
        default=False, description="the building is mainly residential (Art. 68 Abs. 2 BayBO)"
    )
    received_on: date | None = Field(
        default=None, description="date of receipt at the authority (default: today)"
    )
    procedure_input: dict[str, Any] = Field(
        default_factory=dict,
        description="further inputs of the procedure's start action (e.g. `fragen` for baybo-71)",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Neubau Einfamilienhaus mit Garage",
                    "procedure": "baybo-59",
                    "site": {
                        "address": "Maximilianstraße 1, 86150 Augsburg",
                        "gemarkung": "Augsburg",
                        "flurstueck": "1234/5",
                    },
                    "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
                    "description": "Zweigeschossiges Wohnhaus, 140 m² Wohnfläche",
                }
            ]
        },
    )


class CaseUpdate(Strict):
    """A partial change; only the fields given are changed."""

    title: Text300 | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    site: SitePatch | None = None
    applicant: Applicant | None = None


class Official(BaseModel):
    """An official named on a case: token subject and display name."""

    sub: str
    name: str


OfficialSub = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AssignmentUpdate(Strict):
    """Who is responsible (Sachbearbeiter) and who deputises (Vertretung); null clears."""

    assignee: OfficialSub | None = Field(default=None, description="token subject of a clerk")
    deputy: OfficialSub | None = Field(default=None, description="token subject of a clerk")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"assignee": "clara@augsburg", "deputy": "bernd@augsburg"}]
        },
    )


class CaseRead(BaseModel):
    """A case file as returned by the API."""

    id: uuid.UUID
    tenant: str
    file_number: str
    title: str
    procedure: str
    state: str
    site: Site
    applicant: Applicant
    description: str
    housing: bool
    revision: int
    assignee: Official | None = Field(default=None, description="Sachbearbeiter")
    deputy: Official | None = Field(default=None, description="Vertretung")
    assignment_tag: str = Field(
        default="",
        description="send as If-Match to PUT …/assignment: refused (412) if someone else "
        "changed the assignment meanwhile",
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


class CaseList(BaseModel):
    """One page of cases; pass `next_cursor` as `cursor` for the next page."""

    items: list[CaseRead]
    next_cursor: str | None = Field(default=None)


class HistoryEntry(BaseModel):
    """One recorded change of a case."""

    seq: int
    at: datetime
    actor: str
    actor_name: str | None
    action: str
    text: str = Field(description="what happened, in plain German: who did what")
    details: dict[str, Any]


class CaseHistory(BaseModel):
    """Every recorded change of a case, oldest first."""

    items: list[HistoryEntry]
