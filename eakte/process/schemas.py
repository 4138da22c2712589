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
    legal_basis: str = ""
    # the kind of decision this step issues (its `issue_document` effect), e.g. baugenehmigung
    issues_document: str | None = None


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
    unrolled_due: date | None = Field(
        default=None,
        description="The end before it rolled over a weekend or holiday (null: it did not roll)",
    )
    fixed_end: bool = Field(
        default=False, description="A fixed end day named in the letter (Art. 31 Abs. 3 S. 2)"
    )
    why_moved: Label | None = Field(
        default=None, description="Why the last day differs from the computed end, if it does"
    )


class FictionRead(BaseModel):
    """A legal fiction the ticker detected, awaiting an official's confirmation or correction."""

    rule: str
    period_ended_on: date
    legal_basis: str
    label: Label


class ParticipationRead(BaseModel):
    """An authority, agency or the municipality asked to take part."""

    id: uuid.UUID
    kind: str
    party: str
    agency_sub: str | None
    requested_on: date
    arrived_on: date | None = None
    due: date
    on_silence: str
    status: str
    answer: str | None
    statement: str
    received_on: date | None
    answered_on_claimed: date | None = None
    late: bool
    claim_contradicts_arrival: bool = Field(
        default=False,
        description="the party says it answered in time, but the answer arrived late",
    )


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
    fictions: list[FictionRead] = Field(
        default_factory=list,
        description="Fictions the ticker detected that an official must confirm or correct",
    )
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
        default=None, description="date the request was sent (default: today)"
    )
    arrived_on: date | None = Field(
        default=None,
        description="date the request reached the party; the answer period counts from here "
        "(Art. 65 Abs. 2 S. 2 BayBO, § 36 Abs. 2 S. 2 BauGB; default: the sending date)",
    )


class ParticipationAnswer(TextInput):
    """The party's answer."""

    model_config = ConfigDict(extra="forbid")

    answer: Literal["consent", "refusal", "statement"]
    statement: Annotated[str, StringConstraints(max_length=20_000)] = ""
    received_on: date | None = Field(
        default=None, description="date the answer reached the authority (this counts)"
    )
    answered_on: date | None = Field(
        default=None, description="the date the party gives for its answer (checked, not used)"
    )


class ProcedureSummary(BaseModel):
    """A procedure offered by this installation."""

    id: str
    version: int
    title: Label
    legal_basis: str


class ProcedureList(BaseModel):
    """All procedures."""

    items: list[ProcedureSummary]


class BekanntgabeRequest(BaseModel):
    """How a decision was sent; the service computes when it counts as made known."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "expected_state": "ablehnung_gezeichnet",
                    "method": "post",
                    "sent_on": "2026-05-04",
                }
            ]
        },
    )

    expected_state: str = Field(max_length=60)
    method: Literal["post", "electronic", "provision", "handed_over"]
    sent_on: date = Field(description="posted, sent, provided for retrieval or handed over")
    retrieved_on: date | None = Field(default=None, description="retrieval (method provision)")
    proven_receipt_on: date | None = Field(
        default=None, description="a proven later receipt (Art. 41 Abs. 2 S. 3 BayVwVfG)"
    )
    preview: bool = Field(default=False, description="only compute the date, record nothing")


class BekanntgabeRead(BaseModel):
    """The computed Bekanntgabe (Art. 41 BayVwVfG) and the process afterwards."""

    bekanntgabe_on: date
    rule: str
    method: str
    sent_on: date
    recorded_by_action: str | None
    process: ProcessRead | None


class ParticipationKindPreview(BaseModel):
    """A kind of Beteiligung the case's procedure offers, with the deadline it would get."""

    kind: str
    label: Label
    legal_basis: str
    due: date = Field(description="last day to answer if the request arrives on `arrived_on`")
    on_silence: str = Field(description="what silence means: consent_deemed or no_concerns")


class ParticipationPreview(BaseModel):
    """The participation kinds of the case's procedure and their computed deadlines."""

    arrived_on: date
    kinds: list[ParticipationKindPreview]
