"""The workflow error family: definition problems and refused actions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """A human-readable reason in German and English with a stable code."""

    code: str
    de: str
    en: str

    def __str__(self) -> str:
        return self.en


class WorkflowError(Exception):
    """Base of every error raised by `workflows`."""

    code = "workflow_error"


@dataclass(frozen=True)
class Problem:
    """One defect in a definition file, naming the file and the element."""

    file: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.element}: {self.message}"


class DefinitionError(WorkflowError):
    """A procedure definition is malformed or inconsistent."""

    code = "invalid_definition"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DefinitionMismatch(WorkflowError):
    """The instance belongs to another definition id or version."""

    code = "definition_mismatch"


class UnknownAction(WorkflowError):
    """The action id does not exist in the definition."""

    code = "unknown_action"


class StaleState(WorkflowError):
    """The instance is not in a state the action starts from (or not the expected one)."""

    code = "stale_state"


class ActionNotAllowed(WorkflowError):
    """None of the principal's roles may take this action."""

    code = "action_not_allowed"


class GuardBlocked(WorkflowError):
    """One or more guards refuse the action; `reasons` says why."""

    code = "guard_blocked"

    def __init__(self, action: str, reasons: Iterable[Reason]) -> None:
        self.action = action
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        text = "; ".join(r.en for r in self.reasons)
        super().__init__(f"action {action!r} blocked: {text}")


class InvalidInput(WorkflowError):
    """The action's input fields are missing, unknown or of the wrong type."""

    code = "invalid_input"

    def __init__(self, action: str, errors: Mapping[str, Reason]) -> None:
        self.action = action
        self.errors: dict[str, Reason] = dict(errors)
        text = "; ".join(f"{name}: {r.en}" for name, r in self.errors.items())
        super().__init__(f"invalid input for {action!r}: {text}")


class InvalidContext(WorkflowError):
    """The guard context handed in by the service has unknown keys or wrong types."""

    code = "invalid_context"


class DeadlineNotDue(WorkflowError):
    """A deadline was fired that is not active or has not yet expired."""

    code = "deadline_not_due"
