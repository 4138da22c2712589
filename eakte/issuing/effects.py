"""What a procedure's effects mean for the output side (called from eakte.process.persist).

Effects stay data (type + params). `issue_document` needs the sealed document of that kind
(drafted, previewed and signed in issuing) and blocks the transition without one; `notify`,
`serve_neighbours` and `request_participations` become outbox messages in the same transaction.
`serve_neighbours` (Art. 66 Abs. 1 BayBO) and `request_participations` (Art. 65 Abs. 1 S. 1,
Abs. 2 BayBO; § 36 BauGB) also draft their letters from the tenant's template (one per
neighbour / participation kind), as drafts only: nothing is signed or sent until an official
signs (four eyes) and makes it known.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.audit import service as audit
from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.errors import DomainError
from eakte.issuing import service as issuing
from eakte.issuing.errors import IssuingBlocked
from eakte.issuing.letters import SPECS, LetterType
from eakte.issuing.models import BEKANNTGEGEBEN, POSTAL, SIGNED, IssuedDocument
from eakte.issuing.schemas import Addressee, DraftCreate
from eakte.issuing.service import status_path
from eakte.outbox import service as outbox
from eakte.tenants.models import Tenant

log = logging.getLogger("eakte.issuing.effects")
LETTER_EFFECTS = {"serve_neighbours", "request_participations"}

# the engine's kind for a refusal is "ablehnungsbescheid", like the letter type
ISSUE_KINDS = {t.value: t for t in LetterType}


class EffectLike(Protocol):
    type: str
    params: dict[str, Any]


class ActorLike(Protocol):
    sub: str
    name: str | None


async def carry_out(
    session: AsyncSession,
    *,
    case: Case,
    effects: Iterable[EffectLike],
    label_de: str,
    public: bool,
    definition: wf.Definition | None = None,
    actor: ActorLike | None = None,
    effect_ids: Sequence[uuid.UUID] = (),
    today: date | None = None,
) -> None:
    """Check and carry out the output effects of one transition (raises to block it)."""
    effects = list(effects)
    for n, effect in enumerate(effects):
        if effect.type in LETTER_EFFECTS and actor is not None and definition is not None:
            await _draft_letters(
                session,
                case=case,
                effect=effect,
                effect_id=effect_ids[n] if n < len(effect_ids) else None,
                definition=definition,
                actor=actor,
                today=today,
            )
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


_UNITS = {  # (singular, plural) in the dative: "innerhalb von einem Monat / zwei Monaten"
    wf.Unit.DAYS: ("einem Tag", "Tagen"),
    wf.Unit.WEEKS: ("einer Woche", "Wochen"),
    wf.Unit.MONTHS: ("einem Monat", "Monaten"),
    wf.Unit.YEARS: ("einem Jahr", "Jahren"),
    wf.Unit.WORKING_DAYS: ("einem Werktag", "Werktagen"),
}
_NUMBERS = {2: "zwei", 3: "drei", 4: "vier", 5: "fünf", 6: "sechs"}


def period_text(period: wf.Period) -> str:
    """The participation's own period in words ("zwei Monaten"), never a fixed phrase."""
    one, many = _UNITS[period.unit]
    amount = int(period.amount) if str(period.amount).isdigit() else None
    if amount == 1:
        return one
    return f"{_NUMBERS.get(amount, str(amount)) if amount else period.amount} {many}"


def silence_text(on_silence: wf.SilenceMeans, *, gemeinde: bool) -> str:
    """What the law makes of no answer within the period, for the letter."""
    if on_silence == wf.SilenceMeans.CONSENT_DEEMED:
        what = "Ihr Einvernehmen" if gemeinde else "Ihre Zustimmung oder Ihr Einvernehmen"
        return f"Äußern Sie sich nicht innerhalb dieser Frist, gilt {what} als erteilt."
    return (
        "Äußern Sie sich nicht innerhalb dieser Frist, gehen wir davon aus, dass von Ihnen "
        "wahrzunehmende öffentliche Belange nicht berührt sind; eine spätere Stellungnahme "
        "berücksichtigen wir nur, wenn sie für die Rechtmäßigkeit der Entscheidung von "
        "Bedeutung ist."
    )


def _neighbour(entry: Any) -> tuple[str, str]:
    """(name, address) of a neighbour entry: a dict with name/address, or a parcel label."""
    if isinstance(entry, dict):
        name = str(entry.get("name") or entry.get("flurstueck") or "").strip()
        return name, str(entry.get("address") or "").strip()
    text = str(entry).strip()
    return (f"Eigentümer/in des Grundstücks {text}" if text else ""), ""


def _requests(
    session: AsyncSession,
    case: Case,
    effect: EffectLike,
    definition: wf.Definition,
    calendar: wf.HolidayCalendar | None,
    today: date,
) -> list[DraftCreate]:
    """The drafts one effect asks for."""
    if effect.type == "serve_neighbours":
        out = []
        for entry in effect.params.get("neighbours") or []:
            name, address = _neighbour(entry)
            if not name:
                continue
            out.append(
                DraftCreate(
                    letter_type=LetterType.nachbarbenachrichtigung,
                    channel=POSTAL,
                    addressee=Addressee(kind="neighbour", name=name[:300], address=address),
                    data={"neighbour_name": name[:300]},
                )
            )
        return out
    out = []
    for kind in effect.params.get("kinds") or []:
        rule = definition.participation(str(kind))
        if rule is None or calendar is None:
            continue
        # the answer period counts from the request's arrival (Art. 65 Abs. 2 S. 2 BayBO):
        # drafted with today's date; an official checks it before signing
        due = wf.participation_deadline(definition, rule.id, requested_on=today, calendar=calendar)
        gemeinde = rule.id.startswith("gemeinde")
        name = "Gemeinde (Einvernehmen nach § 36 BauGB)" if gemeinde else rule.label.de
        out.append(
            DraftCreate(
                letter_type=LetterType.beteiligungsersuchen,
                channel=POSTAL,
                addressee=Addressee(kind="gemeinde" if gemeinde else "agency", name=name),
                data={
                    "agency_name": name,
                    "deadline": due.due.strftime("%d.%m.%Y"),
                    "period": period_text(rule.period),
                    "period_basis": rule.legal_basis,
                    "consequence": silence_text(rule.on_silence, gemeinde=gemeinde),
                    "subject_matter": f"{rule.label.de}; {rule.legal_basis}",
                    "participation_kind": rule.id,
                },
            )
        )
    return out


async def _draft_letters(
    session: AsyncSession,
    *,
    case: Case,
    effect: EffectLike,
    effect_id: uuid.UUID | None,
    definition: wf.Definition,
    actor: ActorLike,
    today: date | None,
) -> None:
    """Draft the effect's letters (never signed or sent here). Drafting needs the object store
    of the request (`session.info["store"]`); a template that cannot be filled does not block
    the procedure step: it is audited and the official drafts the letter by hand."""
    from eakte.process.definitions import calendar_for
    from eakte.process.service import local_today

    store = session.info.get("store")
    tenant = await session.get(Tenant, case.tenant_id)
    calendar = calendar_for(tenant.holiday_calendar) if tenant else None
    requests = _requests(session, case, effect, definition, calendar, today or local_today())
    drafter = Principal(
        sub=actor.sub, tenant=case.tenant_id, roles=frozenset(), name=actor.name or actor.sub
    )
    for body in requests:
        outcome: dict[str, Any] = {"letter_type": body.letter_type.value}
        if store is None:
            outcome["error"] = "no object store in this transaction"
        else:
            try:
                async with session.begin_nested():
                    record = await issuing.draft_for_case(
                        session, store, drafter, case, body, source_effect_id=effect_id
                    )
                outcome["issued_id"] = str(record.id)
                continue
            except DomainError as exc:
                outcome["error"] = exc.detail
        log.warning("letter of effect %s not drafted: %s", effect.type, outcome["error"])
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=actor.sub,
            action="issuing.effect_letter_not_drafted",
            case_id=case.id,
            payload={"effect": effect.type, **outcome},
        )
