"""Semantic checks of a parsed definition: references, roles, guards, graph shape."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from workflows.errors import Problem
from workflows.guards import GUARDS
from workflows.model import (
    ROLES,
    STAY,
    SYSTEM_ROLE,
    Action,
    DeadlineRule,
    DeadlineTrigger,
    Definition,
    FieldType,
)

EFFECT_PARAMS: dict[str, tuple[set[str], set[str]]] = {
    "notify": ({"to", "template"}, {"xbau"}),
    "convert_procedure": ({"target"}, set()),
    "request_participations": ({"kinds"}, set()),
    "serve_neighbours": ({"neighbours"}, set()),
    "set_flag": ({"flag"}, set()),
    "clear_flag": ({"flag"}, set()),
    "issue_document": ({"kind"}, set()),
    "serve_fiktionsbescheinigung": ({"neighbours"}, set()),
    "record_fiction": ({"rule", "date"}, {"legal_basis"}),
}
"""Effect types with their (required, optional) parameters."""

STATE_TAGS = frozenset({"applicant_uploads", "nachforderung", "fiction_running"})
"""Tags on states the applicant view reads: `applicant_uploads` (the applicant may add
documents), `nachforderung` (documents were requested), `fiction_running` (the
Genehmigungsfiktion clock may run here)."""

DEADLINE_TAGS = frozenset({"fiction", "nachforderung"})
"""Tags on deadline rules: `fiction` (its expiry is a legal fiction; the applicant sees the
day it takes effect), `nachforderung` (the deadline for requested documents)."""

APPLICANT_FIELDS = frozenset({"questions"})
"""Fields of the applicant's submission a start input may take (`applicant_field`)."""

ACTION_TAGS = frozenset(
    {"answer_nachforderung", "record_nachforderung_items", "waive_fiction", "record_bekanntgabe"}
)
"""Tags on actions the applicant API takes on the applicant's behalf."""

NOTIFY_TARGETS = frozenset({"applicant", "clerk", "approver", "agency", "municipality"})
PLAIN_REFS = frozenset({"$principal.id", "$today", "$now"})
_DATE_TYPES = (FieldType.DATE, FieldType.DATETIME)


class _Checker:
    def __init__(self, definition: Definition) -> None:
        self.d = definition
        self.problems: list[Problem] = []
        self.states = {s.id: s for s in definition.states}
        self.deadline_ids = {r.id for r in definition.deadlines}
        self.variables = {
            name.split("[", 1)[0] for a in self._all_actions() for name in a.record
        } | {"fristbeginn"}

    def _all_actions(self) -> tuple[Action, ...]:
        return (self.d.start, *self.d.actions)

    def add(self, file: str, element: str, message: str) -> None:
        self.problems.append(Problem(file or self.d.source, element, message))

    def duplicates(self, kind: str, items: Iterable[Any]) -> None:
        items = list(items)
        counts = Counter(item.id for item in items)
        seen: set[str] = set()
        for item in items:
            if item.id and counts[item.id] > 1 and item.id not in seen:
                seen.add(item.id)
                self.add(item.source, f"{kind} {item.id!r}", f"duplicate {kind} id")

    def ref(self, value: Any, action: Action, element: str, *, date_only: bool = False) -> None:
        if isinstance(value, dict) and not date_only:
            for key, item in value.items():
                self.ref(item, action, f"{element}.{key}")
            return
        if isinstance(value, list) and not date_only:
            for i, item in enumerate(value):
                self.ref(item, action, f"{element}[{i}]")
            return
        if not isinstance(value, str) or not value.startswith("$"):
            if date_only:
                self.add(action.source, element, f"expected a date reference, got {value!r}")
            return
        if value in PLAIN_REFS:
            if date_only and value == "$principal.id":
                self.add(action.source, element, "$principal.id is not a date")
            return
        scope, _, name = value[1:].partition(".")
        if scope == "input":
            spec = action.input_field(name)
            if spec is None:
                self.add(action.source, element, f"{value}: action {action.id!r} has no such input")
            elif date_only and (spec.type not in _DATE_TYPES or not spec.required):
                self.add(action.source, element, f"{value}: needs a required date input")
        elif scope == "var":
            if name not in self.variables:
                self.add(action.source, element, f"{value}: no action records this variable")
        elif scope in ("deadline", "unrolled"):
            if name not in self.deadline_ids:
                self.add(action.source, element, f"{value}: unknown deadline rule {name!r}")
        else:
            self.add(action.source, element, f"unknown reference {value!r}")

    def action(self, action: Action) -> None:
        where = "start" if action is self.d.start else f"action {action.id!r}"
        if action is not self.d.start and not action.from_states:
            self.add(action.source, f"{where}.from", "names no state to start from")
        for state_id in action.from_states:
            state = self.states.get(state_id)
            if state is None:
                self.add(action.source, f"{where}.from", f"unknown state {state_id!r}")
            elif state.final:
                self.add(action.source, f"{where}.from", f"final state {state_id!r} has no exits")
        if action.to == STAY and action is self.d.start:
            self.add(action.source, f"{where}.to", "the start action cannot stay")
        elif action.to and action.to != STAY and action.to not in self.states:
            self.add(action.source, f"{where}.to", f"unknown state {action.to!r}")
        if not action.roles:
            self.add(action.source, f"{where}.roles", "at least one role is required")
        for role in action.roles:
            if role not in ROLES:
                known = ", ".join(sorted(ROLES))
                self.add(action.source, f"{where}.roles", f"unknown role {role!r} ({known})")
        if action is self.d.start and SYSTEM_ROLE in action.roles:
            self.add(action.source, f"{where}.roles", "the start action cannot be automatic")
        for guard in action.guards:
            if guard not in GUARDS:
                self.add(action.source, f"{where}.guards", f"unknown guard {guard!r}")
        for spec in action.inputs:
            if spec.applicant_field is not None and (
                action is not self.d.start or spec.applicant_field not in APPLICANT_FIELDS
            ):
                self.add(
                    action.source,
                    f"{where}.input {spec.name!r}",
                    f"applicant_field {spec.applicant_field!r}: only start inputs, one of "
                    + ", ".join(sorted(APPLICANT_FIELDS)),
                )
        for name, count in Counter(f.name for f in action.inputs).items():
            if count > 1:
                self.add(action.source, f"{where}.input {name!r}", "duplicate input field")
        for name, value in action.record.items():
            self.ref(value, action, f"{where}.record.{name}")
            if "[" in name:
                key = name.split("[", 1)[1].rstrip("?").rstrip("]")
                self.ref(key, action, f"{where}.record.{name}")
        for tag in action.tags:
            if tag not in ACTION_TAGS:
                known = ", ".join(sorted(ACTION_TAGS))
                self.add(action.source, f"{where}.tags", f"unknown tag {tag!r} ({known})")
        for kind in action.cancel_deadlines:
            if kind not in self.deadline_ids:
                self.add(action.source, f"{where}.cancel_deadlines", f"unknown deadline {kind!r}")
        for i, effect in enumerate(action.effects):
            self.effect(action, effect.type, effect.params, f"{where}.effects[{i}]")

    def effect(self, action: Action, kind: str, params: dict[str, Any], element: str) -> None:
        if kind not in EFFECT_PARAMS:
            known = ", ".join(sorted(EFFECT_PARAMS))
            self.add(action.source, element, f"unknown effect type {kind!r} ({known})")
            return
        required, optional = EFFECT_PARAMS[kind]
        for key in sorted(required - set(params)):
            self.add(action.source, element, f"effect {kind!r} needs {key!r}")
        for key in sorted(set(params) - required - optional):
            self.add(action.source, element, f"effect {kind!r} has unknown parameter {key!r}")
        for key, value in params.items():
            self.ref(value, action, f"{element}.{key}")
        if kind == "notify" and params.get("to") not in NOTIFY_TARGETS:
            self.add(action.source, element, f"cannot notify {params.get('to')!r}")
        if kind == "notify" and not isinstance(params.get("template", ""), str):
            self.add(action.source, element, "template must be a string")
        if kind == "issue_document" and params.get("kind") not in self.d.issued_documents:
            self.add(
                action.source,
                element,
                f"issued kind {params.get('kind')!r} is not listed in issued_documents",
            )
        if kind == "request_participations":
            kinds = params.get("kinds")
            if not isinstance(kinds, list):
                self.add(action.source, element, "kinds must be a list of participation ids")
                return
            for k in kinds:
                if self.d.participation(k) is None:
                    self.add(action.source, element, f"unknown participation kind {k!r}")

    def deadlines(self) -> None:
        for rule in self.d.deadlines:
            where = f"deadline {rule.id!r}"
            if not rule.active_in:
                self.add(rule.source, f"{where}.active_in", "must name at least one state")
            for state_id in rule.active_in:
                state = self.states.get(state_id)
                if state is None:
                    self.add(rule.source, f"{where}.active_in", f"unknown state {state_id!r}")
                elif state.final:
                    self.add(rule.source, f"{where}.active_in", f"{state_id!r} is final")
            if not rule.start:
                self.add(rule.source, f"{where}.start", "no action starts this deadline")
            for i, trig in enumerate(rule.start):
                self.trigger(rule, i, trig)
            for action_id in rule.on_expiry:
                self.expiry(rule.id, rule.source, action_id, rule.active_in)
            for tag in rule.tags:
                if tag not in DEADLINE_TAGS:
                    known = ", ".join(sorted(DEADLINE_TAGS))
                    self.add(rule.source, f"{where}.tags", f"unknown tag {tag!r} ({known})")
            for i, stop in enumerate(rule.stop):
                element = f"deadline {rule.id!r}.stop[{i}]"
                if self.d.action(stop.action) is None:
                    self.add(rule.source, element, f"unknown action {stop.action!r}")
                for guard in stop.guards:
                    if guard not in GUARDS:
                        self.add(rule.source, f"{element}.guards", f"unknown guard {guard!r}")

    def trigger(self, rule: DeadlineRule, i: int, trig: DeadlineTrigger) -> None:
        where = f"deadline {rule.id!r}.start[{i}]"
        source = rule.source
        action = self.d.action(trig.action)
        if action is None:
            self.add(source, where, f"unknown action {trig.action!r}")
            return
        targets = action.from_states if action.to == STAY else (action.to,)
        outside = [t for t in targets if t and t not in rule.active_in]
        if outside and not (action.to == STAY and set(targets) & set(rule.active_in)):
            self.add(source, where, f"action {action.id!r} leads to {outside[0]!r}, not active_in")
        self.ref(trig.anchor, action, f"{where}.anchor", date_only=True)
        for guard in trig.guards:
            if guard not in GUARDS:
                self.add(source, f"{where}.guards", f"unknown guard {guard!r}")
        if trig.fixed_end_if is not None:
            spec = action.input_field(trig.fixed_end_if.removeprefix("$input."))
            if spec is None or spec.type is not FieldType.BOOL:
                self.add(source, where, f"{trig.fixed_end_if}: needs a bool input")
        for period in (rule.offset, trig.period or rule.period):
            if period is not None and isinstance(period.amount, str):
                if period.amount.startswith("$var."):
                    if period.amount.removeprefix("$var.") not in action.record:
                        self.add(source, where, f"{period.amount}: the action must record it")
                    continue
                spec = action.input_field(period.amount.removeprefix("$input."))
                if spec is None or spec.type is not FieldType.INT or not spec.required:
                    self.add(source, where, f"{period.amount}: needs a required int input")

    def expiry(self, rule_id: str, source: str, action_id: str, active_in: tuple[str, ...]) -> None:
        where = f"deadline {rule_id!r}.on_expiry"
        action = self.d.action(action_id)
        if action is None:
            self.add(source, where, f"unknown action {action_id!r}")
        elif SYSTEM_ROLE not in action.roles:
            self.add(source, where, f"action {action_id!r} does not allow role 'system'")
        elif not set(action.from_states) & set(active_in):
            self.add(source, where, f"action {action_id!r} never starts where the deadline runs")
        elif action.inputs and any(f.required for f in action.inputs):
            self.add(source, where, f"action {action_id!r} needs input; cannot fire on expiry")

    def graph(self) -> None:
        edges: dict[str, set[str]] = {s: set() for s in self.states}
        for action in self.d.actions:
            for src in action.from_states:
                dst = action.target(src)
                if src in edges and dst in self.states:
                    edges[src].add(dst)
        reached: set[str] = set()
        todo = [self.d.start.to] if self.d.start.to in self.states else []
        while todo:
            state_id = todo.pop()
            if state_id not in reached:
                reached.add(state_id)
                todo.extend(edges[state_id])
        finals = {s.id for s in self.d.states if s.final}
        if not finals:
            self.add(self.d.source, "states", "no final state")
        for state in self.d.states:
            if state.id not in reached:
                self.add(state.source, f"state {state.id!r}", "unreachable from the start state")
            elif not state.final and not self._reaches(state.id, edges, finals):
                self.add(
                    state.source, f"state {state.id!r}", "not final and no way to a final state"
                )

    @staticmethod
    def _reaches(origin: str, edges: dict[str, set[str]], targets: set[str]) -> bool:
        seen: set[str] = set()
        todo = [origin]
        while todo:
            state_id = todo.pop()
            if state_id in targets:
                return True
            if state_id not in seen:
                seen.add(state_id)
                todo.extend(edges[state_id])
        return False

    def states_tags(self) -> None:
        for state in self.d.states:
            for tag in state.tags:
                if tag not in STATE_TAGS:
                    known = ", ".join(sorted(STATE_TAGS))
                    self.add(
                        state.source, f"state {state.id!r}.tags", f"unknown tag {tag!r} ({known})"
                    )

    def run(self) -> list[Problem]:
        self.states_tags()
        self.duplicates("state", self.d.states)
        self.duplicates("action", self._all_actions())
        self.duplicates("deadline", self.d.deadlines)
        self.duplicates("participation", self.d.participations)
        for action in self._all_actions():
            self.action(action)
        self.deadlines()
        for rule in self.d.participations:
            if isinstance(rule.period.amount, str):
                self.add(rule.source, f"participation {rule.id!r}.period", "must be a number")
        self.graph()
        return self.problems


def check_definition(definition: Definition) -> list[Problem]:
    """All semantic problems of a parsed definition (empty if it is sound)."""
    return _Checker(definition).run()
