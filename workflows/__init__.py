"""Pure workflow engine for BayBO procedures, defined as YAML data.

No database, no HTTP, no environment, no clock: time, the tenant's holiday calendar and
the guard context are always passed in. The service (`eakte.process`) persists what
the engine returns.

Stable API::

    load_definition(path) -> Definition              # DefinitionError names file + element
    load_all(directory=None) -> dict[str, Definition]  # newest version of each
    load_versions(directory=None) -> dict[str, tuple[Definition, ...]]  # all, oldest first
    version_for(versions, received_on) -> Definition  # the version in force on that day

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
    validate_calendar_name(name) -> name            # UnknownCalendar for a tenant's typo
    get_calendar("bavaria-augsburg"); CALENDARS; BAVARIA
    add_period(start, amount, unit, calendar, *, roll_forward=True) -> date
    is_expired(due, today) -> bool                 # due is the last day of the period

    definition_to_dict(defn) / instance_to_dict(instance) / instance_from_dict(data)
    render_markdown(definitions) -> str
    applicant_view(defn, instance) -> ApplicantView   # what the applicant sees (state tags)

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

from workflows.applicant import (
    ApplicantDeadlineView,
    ApplicantView,
    RequestedItems,
    applicant_view,
    initial_upload_state,
)
from workflows.calendar import (
    BAVARIA,
    CALENDARS,
    FixedHoliday,
    HolidayCalendar,
    UnknownCalendar,
    add_months,
    add_period,
    easter_sunday,
    get_calendar,
    is_expired,
    validate_calendar_name,
)
from workflows.deadlines import (
    ComputedEnd,
    ParticipationDeadline,
    compute_due,
    compute_end,
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
from workflows.loader import (
    DEFINITIONS_DIR,
    load_all,
    load_definition,
    load_versions,
    version_for,
)
from workflows.model import (
    ROLES,
    Action,
    DeadlineRule,
    DeadlineStop,
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
    "ApplicantDeadlineView",
    "ApplicantView",
    "RequestedItems",
    "applicant_view",
    "initial_upload_state",
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
    "ComputedEnd",
    "DeadlineRule",
    "DeadlineStart",
    "DeadlineStop",
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
    "UnknownCalendar",
    "WorkflowError",
    "add_months",
    "add_period",
    "apply",
    "available_actions",
    "compute_due",
    "compute_end",
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
    "load_versions",
    "participation_deadline",
    "register_guard",
    "render_markdown",
    "start_instance",
    "statement_is_late",
    "validate_calendar_name",
    "version_for",
]
