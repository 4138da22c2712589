"""Request and response models of the procedure API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from eakte.textinput import TextInput


class Label(BaseModel):
    """A text in German and English."""

    de: str
    en: str


class InputFieldRead(BaseModel):
    """An input an action needs."""

    name: str
    type: str
    required: bool
    label: Label


class BlockedReason(BaseModel):
    """Why a guard blocks an action."""

    code: str
    de: str
    en: str


class AvailableAction(BaseModel):
    """An action the caller's roles allow in the current state."""

    id: str
    label: Label
    allowed: bool
    blocked_reasons: list[BlockedReason]
    input_fields: list[InputFieldRead]
    public: bool
    xbau: str | None


class DeadlineRead(BaseModel):
    """A period with legal effect; `due` is its last day."""

    id: uuid.UUID
    kind: str
    label: Label
    legal_basis: str
    anchor: date
    due: date
    status: str
    public: bool
    on_expiry: list[str]


class ParticipationRead(BaseModel):
    """An authority, agency or the municipality asked to take part."""

    id: uuid.UUID
    kind: str
    party: str
    agency_sub: str | None
    requested_on: date
    due: date
    on_silence: str
    status: str
    answer: str | None
    statement: str
    received_on: date | None
    late: bool


class TransitionRead(BaseModel):
    """One recorded step of the procedure."""

    seq: int
    procedure: str
    action: str
    label: Label
    from_state: str | None
    to_state: str
    actor: str
    actor_name: str | None
    at: datetime
    input: dict[str, Any]
    public: bool
    legal_basis: str
    xbau: str | None
    deadline: str | None


class ProcessRead(BaseModel):
    """Where the case stands in its procedure and what the caller may do next."""

    case_id: uuid.UUID
    procedure: str
    procedure_version: int
    state: str
    state_label: Label
    state_since: datetime
    final: bool
    revision: int
    flags: list[str]
    variables: dict[str, Any]
    available_actions: list[AvailableAction]
    deadlines: list[DeadlineRead]
    participations: list[ParticipationRead]
    transitions: list[TransitionRead]


class ActionRequest(TextInput):
    """Take `action` if the case is still in `expected_state`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "nachfordern",
                    "expected_state": "eingegangen",
                    "input": {
                        "maengel": ["Lageplan im Maßstab 1:1000 fehlt"],
                        "frist_bis": "2026-12-15",
                        "hinweis_ruecknahmefiktion": True,
                    },
                }
            ]
        },
    )

    action: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,80}$")]
    expected_state: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,60}$")]
    input: dict[str, Any] = Field(default_factory=dict)


class ParticipationCreate(TextInput):
    """Ask an authority, agency or the municipality (Beteiligung)."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,80}$")]
    party: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    agency_sub: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="the agency user (token sub) who may answer and read the case"
    )
    requested_on: date | None = Field(
        default=None, description="date the request reached the party (default: today)"
    )


class ParticipationAnswer(TextInput):
    """The party's answer."""

    model_config = ConfigDict(extra="forbid")

    answer: Literal["consent", "refusal", "statement"]
    statement: Annotated[str, StringConstraints(max_length=20_000)] = ""
    received_on: date | None = None


class ProcedureSummary(BaseModel):
    """A procedure offered by this installation."""

    id: str
    version: int
    title: Label
    legal_basis: str


class ProcedureList(BaseModel):
    """All procedures."""

    items: list[ProcedureSummary]
