"""A decision letter made known through issuing is the procedure's Bekanntgabe too.

Issuing (`POST /cases/{id}/issued/{issued_id}/bekanntgabe`) marks the letter known with the
computed day (`workflows.bekanntgabe`, Art. 41 Abs. 2 BayVwVfG). When that letter is the
decision the procedure awaits in its current state — the kind the signing action issued
(`issue_document`), in a state with a `record_bekanntgabe` action — the same day is recorded
through the procedure in the same transaction: it stops the Fiktion clock (Art. 42a Abs. 1
BayVwVfG) and starts what the definition starts (e.g. the Geltungsdauer, Art. 69 BayBO).
Process sits above issuing (it already calls `eakte.issuing.effects`), so this lives here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.audit import service as audit
from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import get_case
from eakte.db import utcnow
from eakte.errors import DomainError
from eakte.issuing import bekanntgabe as rules
from eakte.issuing import service as issuing
from eakte.issuing.models import BEKANNTGEGEBEN, ELECTRONIC, POSTAL, SIGNED, IssuedDocument
from eakte.outbox.models import OutboxMessage
from eakte.postroom.models import QUEUED_NOT_RETRIEVED
from eakte.postroom.queue import queue_for_print
from eakte.process.definitions import get_definition
from eakte.process.service import (
    SYSTEM_ACTOR,
    Actor,
    instance_for,
    local,
    local_today,
    record_bekanntgabe,
)
from workflows import bekanntgabe as wf_bekanntgabe

RECORD_TAG = "record_bekanntgabe"


def awaited_decisions(definition: wf.Definition, state: str) -> frozenset[str]:
    """Kinds of decision letter whose Bekanntgabe the procedure records in `state`."""
    if not any(RECORD_TAG in a.tags and state in a.from_states for a in definition.actions):
        return frozenset()
    return frozenset(
        str(effect.params.get("kind"))
        for action in definition.actions
        if action.to == state
        for effect in action.effects
        if effect.type == "issue_document"
    )


async def make_letter_known(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    *,
    channel: str | None,
    posted_on: date | None,
    served_on: date | None = None,
    now: datetime | None = None,
) -> IssuedDocument:
    """Make a signed letter known; a decision the procedure awaits is recorded through it.

    Provision for retrieval has no day until the retrieval (Art. 41 Abs. 2a BayVwVfG): the
    procedure's Bekanntgabe is recorded then (`POST …/process/bekanntgabe`, method provision).
    """
    record = await issuing.make_known(
        session,
        principal,
        case_id,
        issued_id,
        channel=channel,
        posted_on=posted_on,
        served_on=served_on,
    )
    if record.posted_on is None or record.bekanntgabe_on is None:
        return record
    case = await get_case(session, principal, case_id)
    row = await instance_for(session, case, lock=True)
    definition = get_definition(row.definition_id, row.definition_version)
    if record.letter_type not in awaited_decisions(definition, row.state):
        return record
    await record_bekanntgabe(
        session,
        case,
        Actor.of(principal),
        expected_state=row.state,
        method=wf_bekanntgabe.Method.POST,
        sent_on=record.posted_on,
        now=now,
    )
    return record


# The retrieval is a fact the system observes, recorded like an official would record it.
RETRIEVAL_ACTOR = Actor(SYSTEM_ACTOR, "E-Akte (Abruf im Antragsportal)", frozenset({"clerk"}))
LAPSED_RULE = (
    "Art. 41 Abs. 2a S. 4 BayVwVfG: nicht innerhalb von zehn Tagen abgerufen, Bereitstellung "
    "beendet, Bekanntgabe nicht bewirkt"
)


def provided_on(record: IssuedDocument) -> date:
    """The local day the document was provided for retrieval."""
    assert record.bekanntgegeben_at is not None
    return local(record.bekanntgegeben_at).date()


async def notice_sent_on(session: AsyncSession, record: IssuedDocument) -> date | None:
    """The day the ten days of Art. 41 Abs. 2a S. 4 BayVwVfG count from: "nach Absendung einer
    Benachrichtigung über die Bereitstellung", i.e. the local day the outbox sent the notice
    e-mail. None while it is not sent (queued, retrying, dead): the period has not begun. A
    provision without a notice (no e-mail address) counts from the provision day."""
    if record.notice_id is None:
        return provided_on(record)
    delivered = await session.scalar(
        select(OutboxMessage.delivered_at).where(OutboxMessage.id == record.notice_id)
    )
    return local(delivered).date() if delivered is not None else None


async def record_retrieval(
    session: AsyncSession,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    actor: str,
    now: datetime | None = None,
) -> IssuedDocument | None:
    """The applicant's first retrieval of a document provided for retrieval makes it known on
    the next day (Art. 41 Abs. 2a S. 3 BayVwVfG), once; later retrievals change nothing.

    A retrieval more than ten days after the provision effects no Bekanntgabe (Art. 41
    Abs. 2a S. 4): the ticker ends the provision (`lapse_provisions`). A decision the procedure
    awaits is recorded through the procedure in the same transaction (method provision)."""
    now = now or utcnow()
    case = await session.get(Case, case_id)
    if case is None:
        return None
    record = await session.scalar(
        select(IssuedDocument)
        .where(
            IssuedDocument.case_id == case.id,
            IssuedDocument.document_id == document_id,
            IssuedDocument.state == BEKANNTGEGEBEN,
            IssuedDocument.channel == ELECTRONIC,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if record is None or record.retrieved_at is not None:
        return None
    record.retrieved_at = now
    retrieved_on = local_today(now)
    notice_on = await notice_sent_on(session, record)
    # a notice not sent yet: the ten days have not begun, the retrieval is in time
    sent_on = min(notice_on or retrieved_on, retrieved_on)
    payload: dict[str, object] = {
        "issued_id": str(record.id),
        "provided_on": provided_on(record).isoformat(),
        "notice_sent_on": notice_on.isoformat() if notice_on else None,
        "retrieved_on": retrieved_on.isoformat(),
    }
    try:
        known = rules.electronic(sent_on, retrieved_on)
    except wf_bekanntgabe.BekanntgabeError as exc:
        payload |= {"bekanntgabe_on": None, "code": exc.code, "rule": exc.de}
    else:
        record.bekanntgabe_on, record.bekanntgabe_rule = known.on, known.rule
        payload |= {"bekanntgabe_on": known.on.isoformat(), "rule": known.rule}
    record.updated_at = now
    await session.flush()
    if record.bekanntgabe_on is not None:
        payload["procedure"] = await _record_for_procedure(
            session, case, record, sent_on=sent_on, retrieved_on=retrieved_on, now=now
        )
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=actor,
        action="issuing.retrieved",
        case_id=case.id,
        payload=payload,
        at=now,
    )
    return record


async def _record_for_procedure(
    session: AsyncSession,
    case: Case,
    record: IssuedDocument,
    *,
    sent_on: date,
    retrieved_on: date,
    now: datetime,
) -> str | None:
    """Record the Bekanntgabe of an awaited decision; never blocks the download (the reason is
    audited and an official records it with `POST …/process/bekanntgabe`)."""
    row = await instance_for(session, case, lock=True)
    definition = get_definition(row.definition_id, row.definition_version)
    if record.letter_type not in awaited_decisions(definition, row.state):
        return None
    try:
        async with session.begin_nested():
            result = await record_bekanntgabe(
                session,
                case,
                RETRIEVAL_ACTOR,
                expected_state=row.state,
                method=wf_bekanntgabe.Method.PROVISION,
                sent_on=sent_on,
                retrieved_on=retrieved_on,
                now=now,
            )
    except DomainError as exc:
        return f"refused: {exc.detail}"
    return result.action


async def lapse_provisions(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[str]:
    """End every provision not retrieved within ten days (Art. 41 Abs. 2a S. 4 BayVwVfG): the
    Bekanntgabe is not effected, the applicant no longer sees the document, and it goes to the
    post room's print batch when the addressee has an address (Bekanntgabe auf andere Weise,
    Art. 41 Abs. 2a S. 5); otherwise an official provides it again or sends it otherwise."""
    today = local_today(now)
    candidates = list(
        await session.scalars(
            select(IssuedDocument)
            .where(
                IssuedDocument.state == BEKANNTGEGEBEN,
                IssuedDocument.channel == ELECTRONIC,
                IssuedDocument.retrieved_at.is_(None),
                IssuedDocument.bekanntgabe_on.is_(None),
            )
            .order_by(IssuedDocument.bekanntgegeben_at)
            .limit(limit)
            .with_for_update()
        )
    )
    lapsed = []
    for record in candidates:
        sent_on = await notice_sent_on(session, record)
        if sent_on is None or (today - sent_on).days <= wf_bekanntgabe.PROVISION_RETRIEVAL_DAYS:
            continue
        record.state = SIGNED  # the provision ends: no longer retrievable, not made known
        record.bekanntgabe_rule = LAPSED_RULE
        record.updated_at = now
        fallback = "none"
        if record.addressee_address.strip():
            record.channel = POSTAL
            await queue_for_print(session, record, reason=QUEUED_NOT_RETRIEVED, now=now)
            fallback = "print_batch"
        await session.flush()
        await audit.record(
            session,
            tenant=record.tenant_id,
            actor=SYSTEM_ACTOR,
            action="issuing.provision_lapsed",
            case_id=record.case_id,
            payload={
                "issued_id": str(record.id),
                "provided_on": provided_on(record).isoformat(),
                "notice_sent_on": sent_on.isoformat(),
                "rule": LAPSED_RULE,
                "fallback": fallback,
            },
            at=now,
        )
        lapsed.append(str(record.id))
    return lapsed
