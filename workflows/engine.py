"""The engine: which actions are possible now, and what applying one does.

Everything here is a pure function of its arguments: the time (`now`), the tenant's
holiday calendar and the guard context are passed in; nothing is read or stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from workflows.calendar import HolidayCalendar, is_expired
from workflows.deadlines import compute_end
from workflows.errors import (
    ActionNotAllowed,
    DeadlineNotDue,
    DefinitionMismatch,
    GuardBlocked,
    StaleState,
    UnknownAction,
    WorkflowError,
)
from workflows.guards import GuardCall, evaluate_guards
from workflows.inputs import jsonable, validate_input
from workflows.instance import SYSTEM, Context, Instance, Principal, as_context
from workflows.model import Action, Definition
from workflows.results import (
    ActionAvailability,
    ApplyResult,
    DeadlineStart,
    Effect,
    TransitionRecord,
)

ContextLike = Context | Mapping[str, Any] | None


RECORD_INTO = re.compile(r"^([a-z][a-z0-9_]*)\[(\$[a-z_]+\.[a-z0-9_]+)\](\?)?$")
"""`name[$input.key]`: record into entry `key` (or each key of a list) of the mapping
variable `name`; `name[$input.key]?` only fills entries that are still missing."""
MAX = "$max"
"""`{$max: [expr, ...]}`: the latest of the dates the expressions resolve to."""
DAYS_INCLUSIVE = "$days_inclusive"
"""`{$days_inclusive: [from, to]}`: calendar days from `from` to `to`, both days counted
(the time a period is suspended, § 209 BGB: the day the suspension begins and the day it
ends are not counted towards the period); 0 if a date is missing or `to` lies before."""


def _as_day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


class _Env:
    """Resolves `$input.x`, `$var.x`, `$deadline.x`, `$unrolled.x`, `$principal.id`,
    `$today`, `$now`; mappings and lists recursively; `{$max: [...]}` to the latest date,
    `{$days_inclusive: [from, to]}` to a number of days."""

    def __init__(
        self,
        values: Mapping[str, Any],
        variables: Mapping[str, Any],
        deadlines: Mapping[str, date],
        principal: Principal,
        now: datetime,
        unrolled: Mapping[str, date] | None = None,
    ) -> None:
        self.values = values
        self.variables = variables
        self.deadlines = deadlines
        self.unrolled = {**deadlines, **(unrolled or {})}
        self.principal = principal
        self.now = now

    def resolve(self, expr: Any) -> Any:
        if isinstance(expr, Mapping):
            if set(expr) == {MAX}:
                days = [_as_day(self.resolve(e)) for e in expr[MAX]]
                known = [d for d in days if d is not None]
                return max(known) if known else None
            if set(expr) == {DAYS_INCLUSIVE}:
                first, last = (_as_day(self.resolve(e)) for e in expr[DAYS_INCLUSIVE])
                if first is None or last is None or last < first:
                    return 0
                return (last - first).days + 1
            return {k: self.resolve(v) for k, v in expr.items()}
        if isinstance(expr, list):
            return [self.resolve(v) for v in expr]
        if not isinstance(expr, str) or not expr.startswith("$"):
            return expr
        if expr == "$principal.id":
            return self.principal.id
        if expr == "$today":
            return self.now.date()
        if expr == "$now":
            return self.now
        scope, _, name = expr[1:].partition(".")
        source: Mapping[str, Any] = {
            "input": self.values,
            "var": self.variables,
            "deadline": self.deadlines,
            "unrolled": self.unrolled,
        }.get(scope, {})
        return source.get(name)

    def resolve_date(self, expr: str) -> date:
        value = self.resolve(expr)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
        raise WorkflowError(f"{expr} does not resolve to a date (got {value!r})")


BEGINS_VAR = "fristbeginn"
"""Variable the engine keeps: the day each deadline started to run (anchor + offset),
e.g. whether a Nachforderung was sent before the Fiktion clock began (Art. 68 Abs. 2)."""


def _record(action: Action, env: _Env, current: Mapping[str, Any]) -> dict[str, Any]:
    """The instance variables after the action's `record` entries."""
    variables = dict(current)
    for name, expr in action.record.items():
        into = RECORD_INTO.match(name)
        if into is None:
            variables[name] = jsonable(env.resolve(expr))
            continue
        target, key_expr, only_missing = into.groups()
        keys = env.resolve(key_expr)
        table = dict(variables.get(target) or {})
        for key in keys if isinstance(keys, list) else [keys]:
            if key is None or (only_missing and str(key) in table):
                continue
            table[str(key)] = jsonable(env.resolve(expr))
        variables[target] = table
        env.variables = variables
    return variables


def _check_instance(definition: Definition, instance: Instance) -> None:
    if (instance.definition_id, instance.version) != (definition.id, definition.version):
        raise DefinitionMismatch(
            f"instance of {instance.definition_id} v{instance.version} "
            f"given with definition {definition.id} v{definition.version}"
        )


def available_actions(
    definition: Definition,
    instance: Instance,
    principal_roles: Iterable[str],
    context: ContextLike = None,
    today: date | None = None,
) -> list[ActionAvailability]:
    """Actions the roles allow from the current state, each with guard results."""
    _check_instance(definition, instance)
    ctx = as_context(context)
    roles = set(principal_roles)
    found: list[ActionAvailability] = []
    for action in definition.actions:
        if instance.state not in action.from_states or not roles & set(action.roles):
            continue
        call = GuardCall(action.id, instance, ctx, ctx.principal_id, None, today)
        reasons = evaluate_guards(action.guards, call)
        found.append(ActionAvailability(action, not reasons, tuple(reasons)))
    return found


def _transition(
    definition: Definition,
    instance: Instance,
    action: Action,
    principal: Principal,
    raw_input: Mapping[str, Any] | None,
    now: datetime,
    ctx: Context,
    calendar: HolidayCalendar,
    expired: Mapping[str, date],
) -> ApplyResult:
    if not principal.roles & set(action.roles):
        allowed = ", ".join(action.roles)
        raise ActionNotAllowed(f"action {action.id!r} needs one of the roles: {allowed}")
    today = now.date()
    values = validate_input(action, raw_input, today=today)
    reasons = evaluate_guards(
        action.guards, GuardCall(action.id, instance, ctx, principal.id, values, today)
    )
    if reasons:
        raise GuardBlocked(action.id, reasons)

    before = {**instance.deadlines, **expired}
    env = _Env(values, instance.variables, before, principal, now, instance.unrolled)
    variables = _record(action, env, instance.variables)
    env.variables = variables

    target = action.target(instance.state)
    running = dict(instance.deadlines)
    unrolled = {k: v for k, v in instance.unrolled.items() if k in running}
    cancelled: list[str] = []
    for kind in list(running):
        rule = definition.deadline(kind)
        if rule is None or kind in action.cancel_deadlines or target not in rule.active_in:
            cancelled.append(kind)
        elif any(
            stop.action == action.id
            and not evaluate_guards(
                stop.guards, GuardCall(action.id, instance, ctx, principal.id, values, today)
            )
            for stop in rule.stop
        ):
            cancelled.append(kind)
    for kind in cancelled:
        running.pop(kind, None)
        unrolled.pop(kind, None)

    after = replace(
        instance, state=target, variables=variables, deadlines=dict(running), unrolled=unrolled
    )
    started: list[DeadlineStart] = []
    begins: dict[str, Any] = dict(variables.get(BEGINS_VAR) or {})
    for rule in definition.deadlines:
        for trigger in rule.start:
            if trigger.action != action.id:
                continue
            call = GuardCall(action.id, after, ctx, principal.id, values, today)
            if evaluate_guards(trigger.guards, call):
                continue
            anchor = env.resolve_date(trigger.anchor)
            end = compute_end(rule, anchor, calendar, values, trigger, variables=variables)
            if rule.id in running and rule.id not in cancelled:
                cancelled.append(rule.id)
            running[rule.id] = end.due
            if end.unrolled != end.due:
                unrolled[rule.id] = end.unrolled
            else:
                unrolled.pop(rule.id, None)
            begins[rule.id] = end.begins.isoformat()
            started.append(
                DeadlineStart(
                    kind=rule.id,
                    anchor=anchor,
                    due=end.due,
                    label=rule.label,
                    legal_basis=rule.legal_basis,
                    on_expiry_actions=rule.on_expiry,
                    public=rule.public,
                    unrolled=end.unrolled,
                    fixed_end=end.fixed_end,
                )
            )
            break
    if started:
        variables = {**variables, BEGINS_VAR: begins}
        env.variables = variables

    effects = tuple(
        Effect(spec.type, {k: jsonable(env.resolve(v)) for k, v in spec.params.items()})
        for spec in action.effects
    )
    transition = TransitionRecord(
        action=action.id,
        label=action.label,
        from_state=instance.state or None,
        to_state=target,
        actor_id=principal.id,
        actor_roles=tuple(sorted(principal.roles)),
        at=now,
        input=jsonable(values),
        public=action.public,
        legal_basis=action.legal_basis,
        xbau=action.xbau,
    )
    return ApplyResult(
        instance=replace(after, variables=variables, deadlines=running, unrolled=unrolled),
        transition=transition,
        deadlines_started=tuple(started),
        deadlines_cancelled=tuple(cancelled),
        effects=effects,
    )


def start_instance(
    definition: Definition,
    *,
    principal: Principal,
    input: Mapping[str, Any] | None = None,
    now: datetime,
    context: ContextLike = None,
    calendar: HolidayCalendar,
) -> ApplyResult:
    """Create an instance by applying the definition's start action (e.g. Eingang)."""
    blank = Instance(definition.id, definition.version, state="")
    return _transition(
        definition,
        blank,
        definition.start,
        principal,
        input,
        now,
        as_context(context),
        calendar,
        {},
    )


def apply(
    definition: Definition,
    instance: Instance,
    action: str,
    *,
    principal: Principal,
    input: Mapping[str, Any] | None = None,
    now: datetime,
    context: ContextLike = None,
    calendar: HolidayCalendar,
    expected_state: str | None = None,
) -> ApplyResult:
    """Apply `action` to `instance`; raises a WorkflowError if it is not possible."""
    _check_instance(definition, instance)
    if expected_state is not None and expected_state != instance.state:
        raise StaleState(f"instance is in {instance.state!r}, expected {expected_state!r}")
    found = definition.action(action)
    if found is None:
        raise UnknownAction(f"{definition.id} has no action {action!r}")
    if instance.state not in found.from_states:
        raise StaleState(f"action {action!r} is not possible in state {instance.state!r}")
    return _transition(
        definition, instance, found, principal, input, now, as_context(context), calendar, {}
    )


def due_deadline_action(
    definition: Definition, instance: Instance, kind: str, context: ContextLike = None
) -> str | None:
    """The action the `system` actor takes when deadline `kind` expires now, if any."""
    rule = definition.deadline(kind)
    if rule is None:
        raise UnknownAction(f"{definition.id} has no deadline rule {kind!r}")
    ctx = as_context(context)
    for action_id in rule.on_expiry:
        action = definition.action(action_id)
        if action is None or instance.state not in action.from_states:
            continue
        call = GuardCall(action_id, instance, ctx, SYSTEM.id, {}, None)
        if not evaluate_guards(action.guards, call):
            return action_id
    return None


def fire_deadline(
    definition: Definition,
    instance: Instance,
    kind: str,
    *,
    now: datetime,
    context: ContextLike = None,
    calendar: HolidayCalendar,
) -> ApplyResult | None:
    """Expire deadline `kind`; the transition it triggers, or None (just mark it expired)."""
    _check_instance(definition, instance)
    due = instance.deadlines.get(kind)
    if due is None:
        raise DeadlineNotDue(f"deadline {kind!r} is not running")
    if not is_expired(due, now.date()):
        raise DeadlineNotDue(f"deadline {kind!r} runs until {due.isoformat()}")
    action_id = due_deadline_action(definition, instance, kind, context)
    if action_id is None:
        return None
    action = definition.action(action_id)
    assert action is not None
    base = replace(instance.without_deadline(kind), unrolled=instance.unrolled)
    ctx = as_context(context)
    result = _transition(definition, base, action, SYSTEM, {}, now, ctx, calendar, {kind: due})
    return replace(
        result,
        transition=replace(result.transition, deadline=kind),
        deadlines_expired=(kind,),
    )
