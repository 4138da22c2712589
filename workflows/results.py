"""What the engine hands back: availability of actions and the result of applying one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflows.errors import Reason
from workflows.instance import Instance
from workflows.model import Action, Text


@dataclass(frozen=True)
class ActionAvailability:
    """An action the principal's roles allow from the current state, and whether guards pass."""

    action: Action
    enabled: bool
    reasons: tuple[Reason, ...] = ()

    @property
    def id(self) -> str:
        """The action id."""
        return self.action.id


@dataclass(frozen=True)
class DeadlineStart:
    """A deadline to start: runs from `anchor` (not counted) and ends with `due`."""

    kind: str
    anchor: date
    due: date
    label: Text
    legal_basis: str
    on_expiry_actions: tuple[str, ...] = ()
    public: bool = False
    unrolled: date | None = None
    """The end before rolling over a weekend/holiday; None if it did not roll."""
    fixed_end: bool = False
    """The letter named a fixed end day (Art. 31 Abs. 3 S. 2 BayVwVfG): never rolled."""

    @property
    def rolled(self) -> bool:
        """Whether the end moved to the next working day (§ 193 BGB, Art. 31 Abs. 3 S. 1)."""
        return self.unrolled is not None and self.unrolled != self.due

    @property
    def on_expiry_action(self) -> str | None:
        """The first action tried on expiry (the ticker uses `due_deadline_action`)."""
        return self.on_expiry_actions[0] if self.on_expiry_actions else None


@dataclass(frozen=True)
class Effect:
    """Something the service must do after committing the transition."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransitionRecord:
    """Who moved the case from where to where, when, why (JSON-ready input)."""

    action: str
    label: Text
    from_state: str | None
    to_state: str
    actor_id: str
    actor_roles: tuple[str, ...]
    at: datetime
    input: dict[str, Any]
    public: bool
    legal_basis: str
    xbau: str | None = None
    deadline: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    """The new instance plus everything the service must persist or do.

    Apply `deadlines_cancelled` (and `deadlines_expired`) before `deadlines_started`:
    a kind can appear in both when a running deadline is replaced.
    """

    instance: Instance
    transition: TransitionRecord
    deadlines_started: tuple[DeadlineStart, ...] = ()
    deadlines_cancelled: tuple[str, ...] = ()
    deadlines_expired: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()

    @property
    def state(self) -> str:
        """The new state."""
        return self.instance.state
