"""Pure workflow engine for BayBO procedures, defined as YAML data.

No database, no HTTP, no environment, no clock: time, the tenant's holiday calendar and
the guard context are always passed in. The service (`eakte.process`) persists what
the engine returns.

Stable API::

    load_definition(path) -> Definition              # DefinitionError names file + element
    load_all(directory=None) -> dict[str, Definition]  # default: the shipped definitions

    start_instance(defn, *, principal, input, now, context, calendar) -> ApplyResult
    available_actions(defn, instance, principal_roles, context) -> list[ActionAvailability]
    apply(defn, instance, action_id, *, principal, input, now, context, calendar,
          expected_state=None) -> ApplyResult
    due_deadline_action(defn, instance, deadline_kind, context) -> str | None
    fire_deadline(defn, instance, deadline_kind, *, now, context, calendar)
        -> ApplyResult | None                      # None: just mark the deadline expired
    participation_deadline(defn, kind, *, requested_on, calendar) -> ParticipationDeadline
    statement_is_late(participation_deadline, received_on) -> bool

    HolidayCalendar(name, *, include_assumption, extra_holidays, extra_dates)
    get_calendar("bavaria-augsburg"); CALENDARS; BAVARIA
    add_period(start, amount, unit, calendar, *, roll_forward=True) -> date
    is_expired(due, today) -> bool                 # due is the last day of the period

    definition_to_dict(defn) / instance_to_dict(instance) / instance_from_dict(data)
    render_markdown(definitions) -> str

Errors (all `WorkflowError`): `DefinitionError`, `DefinitionMismatch`, `UnknownAction`,
`StaleState` (action not possible in the current state, or `expected_state` differs),
`ActionNotAllowed` (role), `GuardBlocked` (`.reasons`), `InvalidInput` (`.errors`),
`InvalidContext`, `DeadlineNotDue`. Reasons carry `code`, `de` and `en` texts.

Context keys read by the shipped guards: `principal_id`, `present_document_kinds`,
`required_document_kinds`, `open_participations`, `decision_drafter_id`,
`withdrawal_notice_given`, `municipal_consent`, `flags` (e.g. `housing`), `extra`.

A deadline's `due` is the last day on which it runs; it expires the day after
(`is_expired`). `ApplyResult` lists deadlines to cancel and start (cancel first) and
effects (`notify`, `convert_procedure`, `request_participations`, `serve_neighbours`,
`set_flag`, `clear_flag`, `issue_document`) for the service to carry out.
"""

from workflows.calendar import (
    BAVARIA,
    CALENDARS,
    FixedHoliday,
    HolidayCalendar,
    add_months,
    add_period,
    easter_sunday,
    get_calendar,
    is_expired,
)
from workflows.deadlines import (
    ParticipationDeadline,
    compute_due,
    participation_deadline,
    statement_is_late,
)
from workflows.docs import render_markdown
from workflows.engine import (
    apply,
    available_actions,
    due_deadline_action,
    fire_deadline,
    start_instance,
)
from workflows.errors import (
    ActionNotAllowed,
    DeadlineNotDue,
    DefinitionError,
    DefinitionMismatch,
    GuardBlocked,
    InvalidContext,
    InvalidInput,
    Problem,
    Reason,
    StaleState,
    UnknownAction,
    WorkflowError,
)
from workflows.guards import GUARDS, GuardCall, register_guard
from workflows.instance import SYSTEM, Context, Instance, Principal
from workflows.loader import DEFINITIONS_DIR, load_all, load_definition
from workflows.model import (
    ROLES,
    Action,
    DeadlineRule,
    DeadlineTrigger,
    Definition,
    FieldType,
    InputField,
    ParticipationRule,
    Period,
    SilenceMeans,
    State,
    Text,
    Unit,
)
from workflows.results import (
    ActionAvailability,
    ApplyResult,
    DeadlineStart,
    Effect,
    TransitionRecord,
)
from workflows.serialize import definition_to_dict, instance_from_dict, instance_to_dict

__all__ = [
    "BAVARIA",
    "CALENDARS",
    "DEFINITIONS_DIR",
    "GUARDS",
    "ROLES",
    "SYSTEM",
    "Action",
    "ActionAvailability",
    "ActionNotAllowed",
    "ApplyResult",
    "Context",
    "DeadlineNotDue",
    "DeadlineRule",
    "DeadlineStart",
    "DeadlineTrigger",
    "Definition",
    "DefinitionError",
    "DefinitionMismatch",
    "Effect",
    "FieldType",
    "FixedHoliday",
    "GuardBlocked",
    "GuardCall",
    "HolidayCalendar",
    "InputField",
    "Instance",
    "InvalidContext",
    "InvalidInput",
    "ParticipationDeadline",
    "ParticipationRule",
    "Period",
    "Principal",
    "Problem",
    "Reason",
    "SilenceMeans",
    "StaleState",
    "State",
    "Text",
    "TransitionRecord",
    "Unit",
    "UnknownAction",
    "WorkflowError",
    "add_months",
    "add_period",
    "apply",
    "available_actions",
    "compute_due",
    "definition_to_dict",
    "due_deadline_action",
    "easter_sunday",
    "fire_deadline",
    "get_calendar",
    "instance_from_dict",
    "instance_to_dict",
    "is_expired",
    "load_all",
    "load_definition",
    "participation_deadline",
    "register_guard",
    "render_markdown",
    "start_instance",
    "statement_is_late",
]
