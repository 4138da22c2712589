"""Issuing errors: each blocks the action before anything is signed (German and English)."""

from __future__ import annotations

from typing import Any

from eakte.errors import Conflict, DomainError, Forbidden, NotFound


class IssuedDocumentNotFound(NotFound):
    slug, title = "issued-document-not-found", "Issued document not found"


class UnknownLetterType(NotFound):
    slug, title = "unknown-letter-type", "Unknown letter type"


class TemplateInvalid(DomainError):
    slug, title, status = "template-invalid", "The template is not valid", 422


class IssuingBlocked(DomainError):
    """A letter cannot be drafted, signed or made known now; `reasons` say why in de/en."""

    slug, title, status = "issuing-blocked", "The document cannot be issued", 409

    def __init__(self, de: str, en: str, **extra: Any) -> None:
        super().__init__(en, reasons=[{"de": de, "en": en}], **extra)


class WrongIssueState(Conflict):
    slug, title = "issued-document-state", "The document is not in the state this step needs"


class FourEyes(Forbidden):
    slug, title = "four-eyes", "The drafter may not sign (four-eyes rule)"


class SealUnavailable(DomainError):
    slug, title, status = "seal-unavailable", "No usable seal certificate", 409

    def __init__(self, de: str, en: str) -> None:
        super().__init__(en, reasons=[{"de": de, "en": en}])


class TextNotPrintable(DomainError):
    """The clerk's text holds characters the letter font cannot show (PDF/A needs every glyph
    embedded): 422 instead of a half-rendered letter."""

    slug, status = "text-not-printable", 422
    title = "The text contains characters the letter cannot show"
