"""Problems of the applicant API."""

from __future__ import annotations

from eakte.errors import Conflict, DomainError, NotFound


class ApplicationNotFound(NotFound):
    slug, title = "application-not-found", "Application not found"


class TooManyAttempts(DomainError):
    slug, title, status = "too-many-attempts", "Too many failed attempts", 429


class UploadsClosed(Conflict):
    slug, title = "uploads-closed", "Documents cannot be submitted now"


class NoOpenNachforderung(Conflict):
    slug, title = "no-open-nachforderung", "No open request for documents"


class UnknownDocuments(DomainError):
    slug, title, status = "unknown-documents", "Unknown documents", 422


class IssuedDocumentNotFound(NotFound):
    slug, title = "document-not-found", "Document not found"


class FictionWaiverNotPossible(Conflict):
    slug, title = "fiction-waiver-not-possible", "No approval by silence can be waived now"
