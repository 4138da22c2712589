"""Post room errors (German and English reasons, like the issuing errors)."""

from __future__ import annotations

from eakte.errors import DomainError, NotFound


class PrintBatchNotFound(NotFound):
    slug, title = "print-batch-not-found", "Print batch not found"


class PostroomBlocked(DomainError):
    """A batch cannot be made or confirmed now; `reasons` say why in de/en."""

    slug, title, status = "postroom-blocked", "The print batch step is not possible", 409

    def __init__(self, de: str, en: str) -> None:
        super().__init__(en, reasons=[{"de": de, "en": en}])
