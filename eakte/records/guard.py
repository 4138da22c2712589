"""The one check every write to a case, its documents or its procedure calls.

A closed case (abgeschlossen) is read-only until an official reopens it with a reason
(ordnungsgemäße Aktenführung, Art. 33 BayDiG: the closed file is the record). This module
imports nothing of the domains that call it, so `cases`, `documents` and `process` can.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.records.errors import CaseClosed, DeletionRefused
from eakte.records.models import CaseRecord


async def ensure_writable(session: AsyncSession, case_id: uuid.UUID) -> None:
    """Raise CaseClosed if the case is closed."""
    closed = await session.scalar(select(CaseRecord.closed_at).where(CaseRecord.case_id == case_id))
    if closed is not None:
        raise CaseClosed(
            f"Die Akte {case_id} ist seit {closed:%d.%m.%Y} abgeschlossen; zum Ändern erst mit "
            "Begründung wieder öffnen. / The case file is closed; reopen it with a reason first.",
            closed_at=closed.isoformat(),
        )


def refuse_delete(what: str) -> DeletionRefused:
    """The error for any attempt to delete a case or a document version."""
    return DeletionRefused(
        f"{what} wird nicht gelöscht: Schriftgut wird nach Ablauf der Aufbewahrungsfrist über die "
        "Aussonderung angeboten oder vernichtet; ein Dokument kann mit Begründung zurückgezogen "
        f"werden. / {what} cannot be deleted: records are disposed of only through Aussonderung; "
        "a document can be withdrawn with a reason."
    )
