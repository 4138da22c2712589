"""Immutable types describing a procedure definition (what the YAML files hold)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

ROLES: frozenset[str] = frozenset(
    {"applicant", "clerk", "approver", "agency", "auditor", "admin", "system"}
)
"""Roles an action may name; `system` is the deadline ticker acting on expiry."""

SYSTEM_ROLE = "system"

STAY = "."
"""`to: "."`: the action keeps the case in the state it was taken in."""


@dataclass(frozen=True)
class Text:
    """A label in German and English."""

    de: str
    en: str


class FieldType(StrEnum):
    """Types an action input field may have."""

    STRING = "string"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    STRING_LIST = "list[string]"
    BOOL = "bool"
    INT = "int"


class Unit(StrEnum):
    """Units of a period (§§ 187-193 BGB, Art. 31 BayVwVfG)."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class State:
    """A state of a procedure, with internal and public (applicant-facing) labels."""

    id: str
    label: Text
    public_label: Text
    legal_basis: str
    final: bool = False
    tags: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class InputField:
    """One input field an action takes (e.g. a reason, a deadline date)."""

    name: str
    type: FieldType
    label: Text
    required: bool = True
    min: int | None = None
    max: int | None = None
    not_past: bool = False
    """A date field (e.g. a deadline an official sets) that may not lie before today."""
    max_ahead_days: int | None = None
    """A date field that may lie at most this many days after today (plausibility)."""
    applicant_field: str | None = None
    """A start input the applicant's submission fills (e.g. `questions` of a Vorbescheid)."""


@dataclass(frozen=True)
class EffectSpec:
    """A side effect the service carries out after a transition (e.g. notify)."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A transition from one of `from_states` to `to`, taken by one of `roles`."""

    id: str
    label: Text
    from_states: tuple[str, ...]
    to: str
    roles: tuple[str, ...]
    legal_basis: str
    guards: tuple[str, ...] = ()
    inputs: tuple[InputField, ...] = ()
    public: bool = False
    xbau: str | None = None
    effects: tuple[EffectSpec, ...] = ()
    record: dict[str, Any] = field(default_factory=dict)
    cancel_deadlines: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""

    def target(self, current: str) -> str:
        """The state the action leads to from `current` (`to: "."` stays where it is)."""
        return current if self.to == STAY else self.to

    def input_field(self, name: str) -> InputField | None:
        """The input field called `name`, if any."""
        return next((f for f in self.inputs if f.name == name), None)


@dataclass(frozen=True)
class Period:
    """A length of time; `amount` may be `$input.<field>` (an int field of the action)."""

    amount: int | str
    unit: Unit

    def describe(self) -> str:
        """Short text such as `3 months` or `$input.monate months`."""
        return f"{self.amount} {self.unit.value}"


@dataclass(frozen=True)
class DeadlineTrigger:
    """Starts a deadline when `action` is applied and its `guards` pass.

    `anchor` is the event day the period runs from (`$input.<date field>`,
    `$var.<name>`, `$deadline.<kind>` or `$today`); `period` overrides the rule's.
    """

    action: str
    anchor: str
    guards: tuple[str, ...] = ()
    period: Period | None = None
    fixed_end_if: str | None = None
    """`$input.<bool field>`: when true the end day is fixed by the letter and does not
    roll over a weekend or holiday (Art. 31 Abs. 3 S. 2 BayVwVfG)."""


@dataclass(frozen=True)
class DeadlineStop:
    """Stops (cancels) a running deadline when `action` is applied and its `guards` pass."""

    action: str
    guards: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeadlineRule:
    """A deadline kind: how it is computed, while it runs, what fires on expiry."""

    id: str
    label: Text
    legal_basis: str
    start: tuple[DeadlineTrigger, ...]
    active_in: tuple[str, ...]
    period: Period | None = None
    offset: Period | None = None
    on_expiry: tuple[str, ...] = ()
    roll_forward: bool = True
    public: bool = False
    stop: tuple[DeadlineStop, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""


class SilenceMeans(StrEnum):
    """What the law makes of a participation that goes unanswered."""

    CONSENT_DEEMED = "consent_deemed"
    NO_CONCERNS = "no_concerns"


@dataclass(frozen=True)
class ParticipationRule:
    """A kind of participation (municipality, agency) with its own answer period."""

    id: str
    label: Text
    legal_basis: str
    period: Period
    on_silence: SilenceMeans
    late_statements: str = "record_and_flag"
    xbau_request: str | None = None
    xbau_statement: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Definition:
    """A validated procedure definition."""

    id: str
    version: int
    title: Text
    legal_basis: str
    start: Action
    states: tuple[State, ...]
    actions: tuple[Action, ...]
    deadlines: tuple[DeadlineRule, ...] = ()
    participations: tuple[ParticipationRule, ...] = ()
    fassung: str | None = None
    valid_from: date | None = None
    """First receipt date this version applies to (cases are pinned by receipt date)."""
    required_documents: tuple[str, ...] = ()
    """Kinds of Bauvorlagen without which completeness cannot be confirmed."""
    issued_documents: tuple[str, ...] = ()
    """Document kinds the applicant may see and download (decisions, certificates)."""
    source: str = ""

    @property
    def initial_state(self) -> str:
        """The state a new instance starts in."""
        return self.start.to

    def state(self, state_id: str) -> State | None:
        """The state with this id, if any."""
        return next((s for s in self.states if s.id == state_id), None)

    def action(self, action_id: str) -> Action | None:
        """The action with this id (including the start action), if any."""
        if action_id == self.start.id:
            return self.start
        return next((a for a in self.actions if a.id == action_id), None)

    def deadline(self, kind: str) -> DeadlineRule | None:
        """The deadline rule with this id, if any."""
        return next((d for d in self.deadlines if d.id == kind), None)

    def participation(self, kind: str) -> ParticipationRule | None:
        """The participation rule with this id, if any."""
        return next((p for p in self.participations if p.id == kind), None)
