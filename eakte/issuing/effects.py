"""What a procedure's effects mean for the output side (called from eakte.process.persist).

Effects stay data (type + params). `issue_document` needs the sealed document of that kind
(drafted, previewed and signed in issuing) and blocks the transition without one; `notify`,
`serve_neighbours` and `request_participations` become outbox messages in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.cases.models import Case
from eakte.issuing.errors import IssuingBlocked
from eakte.issuing.letters import SPECS, LetterType
from eakte.issuing.models import BEKANNTGEGEBEN, SIGNED, IssuedDocument
from eakte.issuing.service import status_path
from eakte.outbox import service as outbox

# the engine's kind for a refusal is "ablehnungsbescheid", like the letter type
ISSUE_KINDS = {t.value: t for t in LetterType}


class EffectLike(Protocol):
    type: str
    params: dict[str, Any]


async def carry_out(
    session: AsyncSession,
    *,
    case: Case,
    effects: Iterable[EffectLike],
    label_de: str,
    public: bool,
) -> None:
    """Check and carry out the output effects of one transition (raises to block it)."""
    for effect in effects:
        if effect.type == "issue_document":
            await _require_sealed(session, case, str(effect.params.get("kind")))
        elif effect.type == "notify" and effect.params.get("to") == "applicant":
            label = label_de if public else "Neuer Stand Ihres Verfahrens"
            await _notify_applicant(session, case, str(effect.params.get("template", "")), label)
        elif effect.type in {"serve_neighbours", "request_participations"}:
            await outbox.enqueue_webhooks(
                session,
                tenant=case.tenant_id,
                event=f"case.{effect.type}",
                case_id=case.id,
                data={"file_number": case.file_number, "params": _plain(effect.params)},
            )


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | list | None) else str(v)
        for k, v in params.items()
    }


async def _require_sealed(session: AsyncSession, case: Case, kind: str) -> None:
    letter_type = ISSUE_KINDS.get(kind)
    if letter_type is None:
        raise IssuingBlocked(f"Unbekannte Bescheidart „{kind}“.", f"unknown document kind {kind!r}")
    found = await session.scalar(
        select(IssuedDocument.id).where(
            IssuedDocument.case_id == case.id,
            IssuedDocument.letter_type == letter_type.value,
            IssuedDocument.state.in_([SIGNED, BEKANNTGEGEBEN]),
        )
    )
    if found is None:
        label = SPECS[letter_type].label_de
        raise IssuingBlocked(
            f"Es gibt noch keinen gesiegelten Bescheid „{label}“: Entwurf erstellen, Vorschau "
            "prüfen und zeichnen (Vier-Augen-Prinzip), dann diesen Schritt ausführen.",
            f"there is no sealed {letter_type.value} yet: draft it, check the preview and sign "
            "it (four eyes) before this step",
            letter_type=letter_type.value,
        )


async def _notify_applicant(session: AsyncSession, case: Case, template: str, label: str) -> None:
    data = {"file_number": case.file_number, "notification": template}
    await outbox.enqueue_webhooks(
        session, tenant=case.tenant_id, event="case.notification", case_id=case.id, data=data
    )
    if not case.applicant_email:
        return
    # what happened and a link; never notes, inputs or officials' names
    await outbox.enqueue_email(
        session,
        tenant=case.tenant_id,
        event=f"notify.{template}",
        case_id=case.id,
        to=case.applicant_email,
        subject=f"Ihr Vorgang {case.file_number}: {label}",
        body=(
            f"Guten Tag {case.applicant_name},\n\n"
            f"zu Ihrem Vorgang {case.file_number} („{case.title}“) gibt es Neues: {label}.\n\n"
            "Einzelheiten sehen Sie mit Ihrem Aktenzeichen und Zugangscode im Antragsportal.\n"
        ),
        link_path=status_path(case.tenant_id, case.file_number),
    )
