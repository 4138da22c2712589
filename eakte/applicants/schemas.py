"""Request and response models of the applicant API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from eakte.cases.schemas import ProcedureId, Site
from eakte.textinput import TextInput

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()/-]{4,30}$")]


class Strict(TextInput):
    model_config = ConfigDict(extra="forbid")


class ApplicantSite(Site):
    """Where the project is; applicants must name the parcel (Flurstück)."""

    gemarkung: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
    ]
    flurstueck: Annotated[
        str,
        StringConstraints(strip_whitespace=True, pattern=r"^\d{1,6}(/\d{1,4})?$"),
    ] = Field(description="Flurstücksnummer, e.g. 1234 or 1234/5")


class ApplicantContact(Strict):
    """The applicant (Bauherr)."""

    name: Name
    email: EmailStr
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    phone: Phone | None = None


class Designer(Strict):
    """The Entwurfsverfasser (architect or engineer who drew up the plans)."""

    name: Name
    email: EmailStr
    chamber_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9/.-]{1,30}$")]
        | None
    ) = Field(default=None, description="membership number of the chamber (Kammer)")


class ApplicationCreate(Strict):
    """A building application as the applicant submits it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "procedure": "baybo-59",
                    "site": {
                        "address": "Hauptstraße 5, 86150 Augsburg",
                        "gemarkung": "Augsburg",
                        "flurstueck": "1234/5",
                    },
                    "description": "Neubau eines Einfamilienhauses mit Garage",
                    "applicant": {
                        "name": "Maria Muster",
                        "email": "maria@example.org",
                        "phone": "+49 821 123456",
                    },
                    "designer": {
                        "name": "Architekturbüro Beispiel",
                        "email": "buero@example.org",
                        "chamber_number": "ByAK-12345",
                    },
                    "housing": True,
                }
            ]
        },
    )

    procedure: ProcedureId
    site: ApplicantSite
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
    ]
    applicant: ApplicantContact
    designer: Designer
    housing: bool = Field(description="the building is mainly residential")
    questions: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=list,
        max_length=50,
        description="the single questions of a Vorbescheid (baybo-71 only, required there)",
    )


class ApplicationCreated(BaseModel):
    """The receipt: keep the access code, it is shown only once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "1f0c2a4e-6f1e-4a53-9a57-0d5b8f0f3c11",
                    "file_number": "BA-2026-00042",
                    "access_code": "Q3Z7-K9WM-2HXT-P4RA-6VNE",
                    "status_url": "/api/v1/authorities/augsburg/applications/BA-2026-00042",
                }
            ]
        }
    )

    case_id: uuid.UUID
    file_number: str
    access_code: str
    status_url: str


class Labelled(BaseModel):
    """A code with its German and English text."""

    label_de: str
    label_en: str


class StatusState(Labelled):
    """Where the application stands."""

    state: str
    since: datetime
    final: bool


class Missing(BaseModel):
    """What the authority asked for (Nachforderung) and until when."""

    items: list[str]
    received: list[str] = Field(
        default_factory=list, description="requested items that have arrived so far"
    )
    outstanding: list[str] = Field(
        default_factory=list,
        description="requested items still missing (the clock restarts only after the last)",
    )
    deadline: date | None
    withdrawal_warning: bool = Field(
        description="the application counts as withdrawn if the deadline passes"
    )


class ApplicantDeadline(Labelled):
    """A running deadline that concerns the applicant; `due` is its last day."""

    kind: str
    due: date
    effective_from: date | None = Field(
        default=None,
        description="for the Genehmigungsfiktion: the day the permit would count as granted",
    )
    moved_from: date | None = Field(
        default=None,
        description="the computed end, if the last day moved past a weekend or holiday",
    )
    why_moved_de: str | None = None
    why_moved_en: str | None = None


class TimelineEntry(Labelled):
    """A public step of the procedure (no internal notes, no officials' names)."""

    at: datetime
    action: str
    state: str


class IssuedDocument(BaseModel):
    """A document the authority issued to the applicant (e.g. the permit)."""

    id: uuid.UUID
    title: str
    kind: str
    issued_at: datetime
    download_url: str


class ApplicationStatus(BaseModel):
    """The applicant's view of the application."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "file_number": "BA-2026-00042",
                    "authority": "augsburg",
                    "authority_name": "Stadt Augsburg – Bauordnungsamt",
                    "procedure": "baybo-59",
                    "procedure_title": {
                        "label_de": "Vereinfachtes Baugenehmigungsverfahren",
                        "label_en": "Simplified building permit procedure",
                    },
                    "submitted_at": "2026-11-02T09:14:03Z",
                    "status": {
                        "state": "nachforderung",
                        "label_de": "Bitte reichen Sie die angeforderten Unterlagen nach.",
                        "label_en": "Please submit the requested documents.",
                        "since": "2026-11-10T13:02:11Z",
                        "final": False,
                    },
                    "missing": {
                        "items": ["Bauzeichnungen im Maßstab 1:100"],
                        "deadline": "2026-12-15",
                        "withdrawal_warning": True,
                    },
                    "deadlines": [
                        {
                            "kind": "nachforderungsfrist",
                            "label_de": "Frist zur Mängelbehebung",
                            "label_en": "Deadline for remedying defects",
                            "due": "2026-12-15",
                            "effective_from": None,
                        }
                    ],
                    "timeline": [
                        {
                            "at": "2026-11-02T09:14:03Z",
                            "action": "eingang_erfassen",
                            "state": "eingegangen",
                            "label_de": "Eingang des Bauantrags erfassen",
                            "label_en": "Record receipt of the application",
                        }
                    ],
                    "documents": [],
                }
            ]
        }
    )

    file_number: str
    authority: str
    authority_name: str
    procedure: str
    procedure_title: Labelled
    submitted_at: datetime
    status: StatusState
    missing: Missing | None
    deadlines: list[ApplicantDeadline]
    timeline: list[TimelineEntry]
    documents: list[IssuedDocument]


class ApplicationSummary(BaseModel):
    """One of the caller's applications."""

    authority: str
    file_number: str
    procedure: str
    state: str
    label_de: str
    label_en: str
    submitted_at: datetime
    status_url: str


class ApplicationList(BaseModel):
    """The caller's applications across all authorities, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "authority": "muenchen",
                            "file_number": "BA-2026-00007",
                            "procedure": "baybo-59",
                            "state": "eingegangen",
                            "label_de": "Ihr Antrag ist eingegangen.",
                            "label_en": "Your application has been received.",
                            "submitted_at": "2026-11-20T08:00:00Z",
                            "status_url": "/api/v1/authorities/muenchen/applications/BA-2026-00007",
                        }
                    ]
                }
            ]
        }
    )

    items: list[ApplicationSummary]


class Authority(BaseModel):
    """A building authority (tenant) that accepts applications."""

    slug: str
    name: str
    procedures: list[str]


class AuthorityList(BaseModel):
    """Authorities accepting applications."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "slug": "augsburg",
                            "name": "Stadt Augsburg – Bauordnungsamt",
                            "procedures": ["baybo-58", "baybo-59", "baybo-60", "baybo-71"],
                        }
                    ]
                }
            ]
        }
    )

    items: list[Authority]


class NachforderungResponse(Strict):
    """The applicant's answer to a Nachforderung: the documents uploaded for it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "documents": ["5b9d3c1e-2f4a-4c1b-9e7d-0a1b2c3d4e5f"],
                    "message": "Anbei die Bauzeichnungen im Maßstab 1:100.",
                }
            ]
        },
    )

    items: list[Annotated[str, StringConstraints(min_length=1, max_length=1000)]] | None = Field(
        default=None,
        max_length=100,
        description="the requested items these documents answer (default: all outstanding); "
        "the procedure resumes only when every requested item has arrived",
    )
    documents: list[uuid.UUID] = Field(min_length=1, max_length=100)
    message: Annotated[str, StringConstraints(max_length=5000)] = ""


class FictionWaiver(Strict):
    """The applicant's waiver of the Genehmigungsfiktion in Textform (Art. 68 Abs. 2 S. 2 BayBO)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "declaration": "Ich verzichte auf den Eintritt der Genehmigungsfiktion "
                    "nach Art. 68 Abs. 2 BayBO. Maria Beispiel"
                }
            ]
        },
    )

    declaration: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)
    ] = Field(
        description="the declaration's text, naming the person declaring (Textform, § 126b BGB)"
    )
