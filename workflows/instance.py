"""Runtime inputs of the engine: the instance, the acting principal and the guard context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from workflows.errors import InvalidContext
from workflows.model import SYSTEM_ROLE


@dataclass(frozen=True)
class Instance:
    """Where one case stands in its procedure.

    `deadlines` maps each running deadline kind to its last day (due date); `variables`
    holds JSON-ready facts the workflow recorded itself (e.g. `entwurf_von`, the
    drafter of the decision). The service persists both and hands them back.
    """

    definition_id: str
    version: int
    state: str
    deadlines: Mapping[str, date] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    unrolled: Mapping[str, date] = field(default_factory=dict)
    """Each running deadline's end before it was rolled past a weekend or holiday
    (§ 190 BGB: an extension counts from this day); missing kinds did not roll."""

    def unrolled_end(self, kind: str) -> date | None:
        """The deadline's end before rolling (its due date if it did not roll)."""
        return self.unrolled.get(kind, self.deadlines.get(kind))

    def without_deadline(self, kind: str) -> Instance:
        """A copy with the deadline `kind` removed (e.g. after it expired)."""
        return replace(
            self,
            deadlines={k: v for k, v in self.deadlines.items() if k != kind},
            unrolled={k: v for k, v in self.unrolled.items() if k != kind},
        )


@dataclass(frozen=True)
class Principal:
    """Who acts: an id (JWT `sub`) and roles."""

    id: str
    roles: frozenset[str]

    def __init__(self, id: str, roles: Iterable[str]) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", frozenset(roles))


SYSTEM = Principal("system", [SYSTEM_ROLE])
"""The deadline ticker: fires the actions a deadline names on expiry."""


@dataclass(frozen=True)
class Context:
    """Facts the service knows about the case, read by guards.

    - `principal_id`: who asks (for `available_actions`; `apply` uses the principal).
    - `present_document_kinds` / `required_document_kinds`: Bauvorlagen on file and
      those the procedure requires (guard `required_documents_present`).
    - `open_participations`: participations neither answered nor deemed answered.
    - `decision_drafter_id`: who drafted the decision (four-eyes); falls back to the
      instance variable `entwurf_von`.
    - `withdrawal_notice_given`: whether the Nachforderung warned that the application
      counts as withdrawn; falls back to the variable `hinweis_ruecknahmefiktion`.
    - `municipal_consent`: `given`, `deemed`, `refused`, `replaced` or None.
    - `flags`: case flags such as `housing` (Wohnnutzung, Art. 68 Abs. 2 BayBO).
    - `extra`: anything custom guards need.
    """

    principal_id: str | None = None
    present_document_kinds: frozenset[str] = frozenset()
    required_document_kinds: frozenset[str] = frozenset()
    open_participations: int = 0
    decision_drafter_id: str | None = None
    withdrawal_notice_given: bool | None = None
    municipal_consent: str | None = None
    flags: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Context:
        """Build a context from a plain dict; unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidContext(f"unknown context keys: {', '.join(unknown)}")
        values = dict(data)
        for key in ("present_document_kinds", "required_document_kinds", "flags"):
            if key in values:
                raw = values[key]
                if isinstance(raw, str) or not isinstance(raw, Iterable):
                    raise InvalidContext(f"context key {key!r} must be a collection of strings")
                values[key] = frozenset(raw)
        count = values.get("open_participations", 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidContext("context key 'open_participations' must be an int >= 0")
        return cls(**values)


def as_context(value: Context | Mapping[str, Any] | None) -> Context:
    """Accept a Context, a plain mapping or None (empty context)."""
    if value is None:
        return Context()
    if isinstance(value, Context):
        return value
    return Context.from_mapping(value)
