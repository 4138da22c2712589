"""What the applicant sees and may do, read from the definition's tags (pure).

Tags in the YAML, checked by `workflows.validate`:

- states: `applicant_uploads` (the applicant may send documents), `nachforderung`
  (documents were requested; the variable `nachgefordert` lists them and
  `nachforderung_eingaenge` the ones that arrived), `fiction_running`.
- actions: `answer_nachforderung` (the applicant answers a request for documents),
  `record_nachforderung_items` (records which requested items arrived), `waive_fiction`.
- deadlines: `fiction` (its expiry is a legal fiction: shown with the day it takes effect),
  `nachforderung` (the deadline for the requested documents).

Renaming a state or action in the YAML therefore cannot silently break the applicant API:
the applicant side asks `applicant_view` and never names a state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from workflows.instance import Instance
from workflows.model import Action, Definition, Text


@dataclass(frozen=True)
class ApplicantDeadlineView:
    """A public running deadline; `effective_from` is the day a fiction takes effect."""

    kind: str
    label: Text
    due: date
    effective_from: date | None
    unrolled: date | None


@dataclass(frozen=True)
class RequestedItems:
    """An open request for documents: what was asked, what arrived, until when."""

    items: tuple[str, ...]
    received: tuple[str, ...]
    deadline: date | None
    withdrawal_warning: bool

    @property
    def outstanding(self) -> tuple[str, ...]:
        """Items that have not arrived yet."""
        return tuple(i for i in self.items if i not in self.received)


@dataclass(frozen=True)
class ApplicantView:
    """The applicant's side of an instance."""

    state: str
    label: Text
    final: bool
    may_upload: bool
    nachforderung: RequestedItems | None
    deadlines: tuple[ApplicantDeadlineView, ...]
    answer_action: Action | None
    record_items_action: Action | None
    waive_action: Action | None


def _tagged_action(definition: Definition, state: str, tag: str) -> Action | None:
    return next(
        (
            a
            for a in definition.actions
            if tag in a.tags and state in a.from_states and "applicant" in a.roles
        ),
        None,
    )


def initial_upload_state(definition: Definition) -> bool:
    """Whether the applicant may upload in the procedure's first state."""
    state = definition.state(definition.initial_state)
    return state is not None and "applicant_uploads" in state.tags


def applicant_view(definition: Definition, instance: Instance) -> ApplicantView:
    """The public state, what is requested, public deadlines and the applicant's actions."""
    state = definition.state(instance.state)
    if state is None:
        raise KeyError(f"{definition.id} v{definition.version} has no state {instance.state!r}")
    nachforderung = None
    if "nachforderung" in state.tags:
        variables = instance.variables
        due = next(
            (
                instance.deadlines[r.id]
                for r in definition.deadlines
                if "nachforderung" in r.tags and r.id in instance.deadlines
            ),
            None,
        )
        nachforderung = RequestedItems(
            items=tuple(str(i) for i in variables.get("nachgefordert") or []),
            received=tuple(sorted(str(k) for k in variables.get("nachforderung_eingaenge") or {})),
            deadline=due,
            withdrawal_warning=bool(variables.get("hinweis_ruecknahmefiktion")),
        )
    deadlines = []
    for rule in definition.deadlines:
        due = instance.deadlines.get(rule.id)
        if due is None or not rule.public:
            continue
        deadlines.append(
            ApplicantDeadlineView(
                kind=rule.id,
                label=rule.label,
                due=due,
                effective_from=due + timedelta(days=1) if "fiction" in rule.tags else None,
                unrolled=instance.unrolled.get(rule.id),
            )
        )
    deadlines.sort(key=lambda d: d.due)
    return ApplicantView(
        state=state.id,
        label=state.public_label,
        final=state.final,
        may_upload="applicant_uploads" in state.tags,
        nachforderung=nachforderung,
        deadlines=tuple(deadlines),
        answer_action=_tagged_action(definition, state.id, "answer_nachforderung"),
        record_items_action=_tagged_action(definition, state.id, "record_nachforderung_items"),
        waive_action=_tagged_action(definition, state.id, "waive_fiction"),
    )
