"""Errors of records management (problem types `urn:eakte:problem:case-closed`, …)."""

from __future__ import annotations

from eakte.errors import Conflict, NotFound, ValidationFailed


class CaseClosed(Conflict):
    slug = "case-closed"
    title = "Die Akte ist abgeschlossen und schreibgeschützt / The case file is closed (read-only)"


class DeletionRefused(Conflict):
    slug = "deletion-refused"
    title = (
        "Schriftgut wird nicht gelöscht, nur ausgesondert / "
        "Records are never deleted, only disposed of through Aussonderung"
    )


class ProcedureNotEnded(Conflict):
    slug = "procedure-not-ended"
    title = "Das Verfahren ist nicht beendet / The procedure has not ended"


class CaseNotClosed(Conflict):
    slug = "case-not-closed"
    title = "Die Akte ist nicht abgeschlossen / The case file is not closed"


class HoldConflict(Conflict):
    slug = "legal-hold-conflict"
    title = "Sperre besteht bereits oder nicht / Legal hold already set or not set"


class FilePlanCodeUnknown(ValidationFailed):
    slug = "file-plan-code-unknown"
    title = "Unbekanntes Aktenzeichen des Aktenplans / Unknown file plan code"


class FilePlanEntryNotFound(NotFound):
    slug = "file-plan-entry-not-found"
    title = "Aktenplaneintrag nicht gefunden / File plan entry not found"


class InvalidMessage(ValidationFailed):
    slug = "xdomea-invalid"
    title = "Die xdomea-Nachricht ist ungültig / The xdomea message is invalid"


class AussonderungConflict(Conflict):
    slug = "aussonderung-conflict"
    title = "Schritt der Aussonderung nicht möglich / Aussonderung step not possible now"


class OfferNotFound(NotFound):
    slug = "offer-not-found"
    title = "Aussonderung nicht gefunden / Aussonderung not found"


class InvalidEndpoint(ValidationFailed):
    slug = "archive-endpoint-invalid"
    title = "Ungültige Adresse des Archivs / Invalid archive endpoint"


class ArchiveEndpointNotFound(NotFound):
    slug = "archive-endpoint-not-found"
    title = "Kein Archiv-Endpunkt eingerichtet / No archive endpoint configured"
