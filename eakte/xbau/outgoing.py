"""Outgoing XBau messages: generate, validate, queue (no procedure imports here).

`enqueue_xbau_message` is the one door out. It writes `xbau_outgoing` in the caller's
transaction; when the tenant has a push endpoint it also writes the shared outbox row
(eakte/outbox, kind `xbau`, see `push`) in that transaction, else the message waits for pickup.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.cases.models import Case
from eakte.db import utcnow
from eakte.documents.models import Document, DocumentVersion
from eakte.outbox import service as outbox
from eakte.xbau import mapping, messages, parsing, push
from eakte.xbau.errors import XBauNoAddress
from eakte.xbau.mapping import APPLICATIONS, Authority
from eakte.xbau.models import (
    OUT_PUSHING,
    OUT_QUEUED,
    XBauAuthority,
    XBauInbound,
    XBauOutgoing,
)
from eakte.xbau.push import XBAU

SYSTEM_ACTOR = "xbau"


async def enqueue_xbau_message(
    session: AsyncSession,
    tenant: str,
    message_type: str,
    xml_bytes: bytes,
    idempotency_key: str,
    *,
    case_id: uuid.UUID | None = None,
    message_uuid: str = "",
    reader_kennung: str = "",
    attachments: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
) -> XBauOutgoing:
    """Queue a validated message in the caller's transaction; the same key queues it once.

    With a push endpoint for the tenant the message goes to the shared outbox (status
    `pushing`); without one it waits for pickup (status `queued`).
    """
    existing = await session.scalar(
        select(XBauOutgoing).where(XBauOutgoing.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    # the Autor of the message is one of our addresses: it picks the push endpoint
    root = parsing.parse(xml_bytes, max_bytes=len(xml_bytes) + 1)  # our own, validated
    head = mapping.find(root, "nachrichtenkopf.g2g")
    authority = mapping.authority(mapping.find(head, "autor")).kennung
    endpoint = await push.endpoint_for(session, tenant, authority)
    row = XBauOutgoing(
        id=uuid.uuid4(),
        tenant_id=tenant,
        case_id=case_id,
        message_type=message_type,
        message_uuid=message_uuid,
        reader_kennung=reader_kennung,
        idempotency_key=idempotency_key,
        body=xml_bytes,
        attachments=attachments or [],
        context=context or {},
        status=OUT_PUSHING if endpoint is not None else OUT_QUEUED,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    if endpoint is not None:
        await outbox.enqueue(
            session,
            tenant=tenant,
            kind=XBAU,
            event=message_type,
            case_id=case_id,
            payload={
                "outgoing_id": str(row.id),
                "message_type": message_type,
                "authority": authority,
            },
            idempotency_key=f"xbau-{row.id}",
        )
    await audit.record(
        session,
        tenant=tenant,
        actor=SYSTEM_ACTOR,
        actor_name="XBau",
        action="xbau.message_queued",
        case_id=case_id,
        payload={
            "outgoing": str(row.id),
            "message_type": message_type,
            "message_uuid": message_uuid,
            "reader": reader_kennung,
            "idempotency_key": idempotency_key,
            "delivery": "push" if endpoint is not None else "pickup",
        },
    )
    return row


async def own_authority(session: AsyncSession, tenant: str) -> Authority:
    """The tenant's own XBau address (the first registered one)."""
    row = await session.scalar(
        select(XBauAuthority)
        .where(XBauAuthority.tenant_id == tenant)
        .order_by(XBauAuthority.created_at, XBauAuthority.kennung)
    )
    if row is None:
        raise XBauNoAddress(
            f"Mandant {tenant!r} hat keine XBau-Kennung (eakte xbau authority add) / tenant "
            f"{tenant!r} has no XBau address"
        )
    return Authority(kennung=row.kennung, name=row.name)


async def origin(session: AsyncSession, case_id: uuid.UUID) -> XBauInbound | None:
    """The application message a case was opened from (None if it did not come via XBau)."""
    return await session.scalar(
        select(XBauInbound)
        .where(XBauInbound.case_id == case_id, XBauInbound.message_name.in_(list(APPLICATIONS)))
        .order_by(XBauInbound.received_at)
        .limit(1)
    )


def reference(case: Case, first: XBauInbound) -> messages.Reference:
    return messages.Reference(
        message_uuid=first.message_uuid,
        message_type=first.message_name.rsplit(".", 1)[-1],
        message_created=first.created_at_sender,
        file_number=case.file_number,
        portal_reference=first.portal_reference,
    )


async def envelope(session: AsyncSession, case: Case, first: XBauInbound) -> messages.Envelope:
    return messages.Envelope(
        message_uuid=str(uuid.uuid4()),
        created_at=utcnow(),
        author=await own_authority(session, case.tenant_id),
        reader=Authority(kennung=first.sender_kennung, name=first.sender_name),
    )


async def attachment_of(
    session: AsyncSession, document: Document, xbau_kind: str
) -> tuple[messages.OutAttachment, dict[str, Any]]:
    """The newest version of `document` as an outgoing Anlage and its pickup reference."""
    version = await session.scalar(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )
    assert version is not None
    out = messages.OutAttachment(
        title=document.title,
        filename=version.filename,
        media_type=version.media_type,
        document_id=f"urn:uuid:{version.id}",
        xbau_kind=xbau_kind,
        size=version.size,
        sha256=version.sha256,
    )
    ref = {
        "dateiname": version.filename,
        "document_id": str(document.id),
        "version_id": str(version.id),
        "media_type": version.media_type,
        "size": version.size,
    }
    return out, ref


async def queue_formal_check(
    session: AsyncSession,
    case: Case,
    *,
    key: str,
    complete: bool,
    findings: list[str] | None = None,
    deadline: date | None = None,
    letter: str = "",
) -> XBauOutgoing | None:
    """0201/0211 to the applicant's portal (None if the case did not come via XBau)."""
    first = await origin(session, case.id)
    if first is None or first.family not in messages.FORMAL_CHECK:
        return None
    env = await envelope(session, case, first)
    body = messages.formal_check(
        env,
        reference(case, first),
        family=first.family,
        complete=complete,
        findings=findings,
        deadline=deadline,
        letter=letter,
    )
    return await enqueue_xbau_message(
        session,
        case.tenant_id,
        messages.FORMAL_CHECK[first.family],
        body,
        key,
        case_id=case.id,
        message_uuid=env.message_uuid,
        reader_kennung=env.reader.kennung,
    )


async def newest_bescheid(session: AsyncSession, case_id: uuid.UUID) -> Document | None:
    """The case's newest document of kind `bescheid` (the signed decision, if uploaded)."""
    return await session.scalar(
        select(Document)
        .where(
            Document.case_id == case_id,
            Document.kind == "bescheid",
            Document.deleted_at.is_(None),
        )
        .order_by(Document.created_at.desc())
        .limit(1)
    )


async def queue_decision(
    session: AsyncSession,
    case: Case,
    *,
    key: str,
    granted: bool,
    reasons: str = "",
    sealed_bescheid: Document | None = None,
) -> XBauOutgoing | None:
    """0205/0215 Bescheid; `sealed_bescheid` (e.g. from eakte/issuing) is optional.

    Without one, the case's newest `bescheid` document is attached when it exists.
    """
    first = await origin(session, case.id)
    if first is None or first.family not in messages.DECISION:
        return None
    document = sealed_bescheid or await newest_bescheid(session, case.id)
    attachment, refs = None, []
    if document is not None:
        attachment, ref = await attachment_of(session, document, "bescheid")
        refs = [ref]
    env = await envelope(session, case, first)
    body = messages.decision(
        env,
        reference(case, first),
        family=first.family,
        granted=granted,
        reasons=reasons,
        sealed_bescheid=attachment,
    )
    return await enqueue_xbau_message(
        session,
        case.tenant_id,
        messages.DECISION[first.family],
        body,
        key,
        case_id=case.id,
        message_uuid=env.message_uuid,
        reader_kennung=env.reader.kennung,
        attachments=refs,
    )


def now_utc() -> datetime:
    return utcnow()


# -- pickup by the intermediary --------------------------------------------------------------


async def list_outgoing(
    session: AsyncSession, tenant: str, *, status: str, limit: int
) -> list[XBauOutgoing]:
    """The tenant's outgoing messages in queue order."""
    rows = await session.scalars(
        select(XBauOutgoing)
        .where(XBauOutgoing.tenant_id == tenant, XBauOutgoing.status == status)
        .order_by(XBauOutgoing.created_at, XBauOutgoing.id)
        .limit(limit)
    )
    return list(rows)


async def get_outgoing(
    session: AsyncSession, tenant: str, outgoing_id: uuid.UUID, *, lock: bool = False
) -> XBauOutgoing:
    """One outgoing message of the tenant (another tenant's id: not found)."""
    from eakte.xbau.errors import XBauMessageNotFound

    stmt = select(XBauOutgoing).where(
        XBauOutgoing.id == outgoing_id, XBauOutgoing.tenant_id == tenant
    )
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise XBauMessageNotFound(f"keine Nachricht {outgoing_id} / no message {outgoing_id}")
    return row


async def acknowledge(
    session: AsyncSession, tenant: str, outgoing_id: uuid.UUID, *, by: str
) -> XBauOutgoing:
    """The intermediary took the message over; acknowledging twice changes nothing.

    Only a message waiting for pickup changes; one being pushed or delivered keeps its status.
    """
    from eakte.xbau.models import OUT_ACKNOWLEDGED

    row = await get_outgoing(session, tenant, outgoing_id, lock=True)
    if row.status == OUT_QUEUED:
        row.status = OUT_ACKNOWLEDGED
        row.acknowledged_at = utcnow()
        await session.flush()
        await audit.record(
            session,
            tenant=tenant,
            actor=by,
            actor_name="XBau-Intermediär",
            action="xbau.message_acknowledged",
            case_id=row.case_id,
            payload={"outgoing": str(row.id), "message_uuid": row.message_uuid},
        )
    return row


async def queue_participation_request(
    session: AsyncSession,
    case: Case,
    *,
    participation_id: uuid.UUID,
    agency: Authority,
    reason: str,
) -> XBauOutgoing:
    """0300 Aufforderung zur Stellungnahme for a participation already requested in the case."""
    from eakte.process.models import Participation
    from eakte.xbau.errors import XBauReferenceNotFound

    participation = await session.scalar(
        select(Participation).where(
            Participation.id == participation_id, Participation.case_id == case.id
        )
    )
    if participation is None:
        raise XBauReferenceNotFound(f"keine Beteiligung {participation_id} / no participation")
    own = await own_authority(session, case.tenant_id)
    first = await origin(session, case.id)
    ref = (
        reference(case, first)
        if first is not None
        else messages.Reference(
            message_uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"eakte:case:{case.id}")),
            message_type="0200",
            message_created=case.created_at,
            file_number=case.file_number,
        )
    )
    env = messages.Envelope(str(uuid.uuid4()), utcnow(), own, agency)
    silence = {
        "consent": "Das Einvernehmen bzw. die Zustimmung gilt als erteilt, wenn es nicht "
        "innerhalb der Frist verweigert wird (Art. 65 Abs. 1 BayBO; § 36 Abs. 2 S. 2 BauGB).",
    }.get(
        participation.on_silence,
        "Nach Fristablauf eingehende Stellungnahmen können "
        "unberücksichtigt bleiben (Art. 65 Abs. 1 BayBO).",
    )
    documents = list(
        await session.scalars(
            select(Document)
            .where(
                Document.case_id == case.id,
                Document.deleted_at.is_(None),
                Document.kind != "sonstiges",
            )
            .order_by(Document.created_at)
        )
    )
    outs, refs = [], []
    for document in documents:
        out, ref_row = await attachment_of(session, document, document.kind)
        outs.append(out)
        refs.append(ref_row)
    body = messages.participation_request(
        env,
        ref,
        request_uuid=str(participation.id),
        agency=agency.name,
        reason=reason,
        deadline=participation.due,
        consequence=silence,
        attachments=outs,
    )
    return await enqueue_xbau_message(
        session,
        case.tenant_id,
        "beteiligung.aufforderung.0300",
        body,
        f"participation:{participation.id}:{agency.kennung}",
        case_id=case.id,
        message_uuid=env.message_uuid,
        reader_kennung=agency.kennung,
        attachments=refs,
        context={"participation_id": str(participation.id)},
    )
