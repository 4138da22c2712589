"""Due dates of deadline rules and of participations (Beteiligung)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflows.calendar import HolidayCalendar, add_period, is_expired
from workflows.model import DeadlineRule, DeadlineTrigger, Definition, Period, SilenceMeans, Text

INPUT_REF = "$input."
VAR_REF = "$var."


def period_amount(
    period: Period, values: Mapping[str, Any], variables: Mapping[str, Any] | None = None
) -> int:
    """The period's amount: `$input.<field>` from the action's input, `$var.<name>` from
    the instance variables (after the action's `record`)."""
    if isinstance(period.amount, int):
        return period.amount
    if period.amount.startswith(VAR_REF):
        value = (variables or {}).get(period.amount.removeprefix(VAR_REF))
    else:
        value = values[period.amount.removeprefix(INPUT_REF)]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"period amount {period.amount} is not an int")
    return value


@dataclass(frozen=True)
class ComputedEnd:
    """A deadline's start (after the offset), its end before rolling and its last day."""

    begins: date
    unrolled: date
    due: date
    fixed_end: bool = False


def compute_end(
    rule: DeadlineRule,
    anchor: date,
    calendar: HolidayCalendar,
    values: Mapping[str, Any] | None = None,
    trigger: DeadlineTrigger | None = None,
    *,
    variables: Mapping[str, Any] | None = None,
) -> ComputedEnd:
    """Start, unrolled end and last day of `rule` running from `anchor` (not counted).

    The offset (e.g. "three weeks after receipt") only moves the start and is never
    rolled forward; the end of the period is, unless the rule says otherwise or the
    trigger's `fixed_end_if` input is true (Art. 31 Abs. 3 S. 2 BayVwVfG).
    """
    values = values or {}
    base = anchor
    if rule.offset is not None:
        amount = period_amount(rule.offset, values, variables)
        base = add_period(anchor, amount, rule.offset.unit, calendar, roll_forward=False)
    fixed = False
    if trigger is not None and trigger.fixed_end_if:
        fixed = values.get(trigger.fixed_end_if.removeprefix(INPUT_REF)) is True
    roll = rule.roll_forward and not fixed
    period = trigger.period if trigger is not None and trigger.period else rule.period
    if period is None:
        end = base
    else:
        amount = period_amount(period, values, variables)
        end = add_period(base, amount, period.unit, calendar, roll_forward=False)
    due = calendar.next_working_day(end) if roll else end
    return ComputedEnd(begins=base, unrolled=end, due=due, fixed_end=fixed)


def compute_due(
    rule: DeadlineRule,
    anchor: date,
    calendar: HolidayCalendar,
    values: Mapping[str, Any] | None = None,
    trigger: DeadlineTrigger | None = None,
) -> date:
    """Last day of `rule` running from `anchor` (the event day, not counted)."""
    return compute_end(rule, anchor, calendar, values, trigger).due


@dataclass(frozen=True)
class ParticipationDeadline:
    """The answer period of one participation; after `due`, `on_silence` applies."""

    kind: str
    requested_on: date
    due: date
    on_silence: SilenceMeans
    late_statements: str
    label: Text
    legal_basis: str


def participation_deadline(
    definition: Definition, kind: str, *, requested_on: date, calendar: HolidayCalendar
) -> ParticipationDeadline:
    """Deadline of a participation of `kind` whose request arrived on `requested_on`."""
    rule = definition.participation(kind)
    if rule is None:
        raise KeyError(f"{definition.id}: no participation kind {kind!r}")
    amount = period_amount(rule.period, {})
    due = add_period(requested_on, amount, rule.period.unit, calendar)
    return ParticipationDeadline(
        kind=rule.id,
        requested_on=requested_on,
        due=due,
        on_silence=rule.on_silence,
        late_statements=rule.late_statements,
        label=rule.label,
        legal_basis=rule.legal_basis,
    )


def statement_is_late(deadline: ParticipationDeadline, received_on: date) -> bool:
    """Whether a statement received on `received_on` missed the participation deadline."""
    return is_expired(deadline.due, received_on)
