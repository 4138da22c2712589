"""Due dates of deadline rules and of participations (Beteiligung)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflows.calendar import HolidayCalendar, add_period, is_expired
from workflows.model import DeadlineRule, DeadlineTrigger, Definition, Period, SilenceMeans, Text

INPUT_REF = "$input."


def period_amount(period: Period, values: Mapping[str, Any]) -> int:
    """The period's amount, looking up `$input.<field>` in the action's input."""
    if isinstance(period.amount, int):
        return period.amount
    value = values[period.amount.removeprefix(INPUT_REF)]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"period amount {period.amount} is not an int")
    return value


def compute_due(
    rule: DeadlineRule,
    anchor: date,
    calendar: HolidayCalendar,
    values: Mapping[str, Any] | None = None,
    trigger: DeadlineTrigger | None = None,
) -> date:
    """Last day of `rule` running from `anchor` (the event day, not counted).

    The offset (e.g. "three weeks after receipt") only moves the start and is never
    rolled forward; the end of the period is, unless the rule says otherwise.
    """
    values = values or {}
    base = anchor
    if rule.offset is not None:
        amount = period_amount(rule.offset, values)
        base = add_period(anchor, amount, rule.offset.unit, calendar, roll_forward=False)
    period = trigger.period if trigger is not None and trigger.period else rule.period
    if period is None:
        return calendar.next_working_day(base) if rule.roll_forward else base
    amount = period_amount(period, values)
    return add_period(base, amount, period.unit, calendar, roll_forward=rule.roll_forward)


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
