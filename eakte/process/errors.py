"""Problems of the procedure API."""

from __future__ import annotations

from eakte.errors import Conflict, DomainError, Forbidden, InternalError, NotFound


class ProcedureNotFound(NotFound):
    slug, title = "procedure-not-found", "Procedure not found"


class UnknownProcedure(DomainError):
    slug, title, status = "unknown-procedure", "Unknown procedure", 422


class ProcedureVersionMissing(InternalError):
    slug, title = "procedure-version-missing", "The case's procedure version is not installed"


class ProcedureError(InternalError):
    slug, title = "procedure-error", "The procedure engine failed"


class ActionConflict(Conflict):
    slug, title = "state-conflict", "The case is no longer in the expected state"


class ActionForbidden(Forbidden):
    slug, title = "action-forbidden", "Your role may not take this action"


class GuardFailed(DomainError):
    slug, title, status = "action-blocked", "The action's conditions are not met", 422


class InvalidActionInput(DomainError):
    slug, title, status = "invalid-action-input", "The action's input is not valid", 422


class UnknownActionError(DomainError):
    slug, title, status = "unknown-action", "The procedure has no such action", 422


class ParticipationNotFound(NotFound):
    slug, title = "participation-not-found", "Participation not found"


class ParticipationClosed(Conflict):
    slug, title = "participation-closed", "The participation is already closed"


class UnknownParticipationKind(DomainError):
    slug, title, status = "unknown-participation-kind", "Unknown participation kind", 422
