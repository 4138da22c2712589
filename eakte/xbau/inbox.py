"""Receiving XBau messages: authority -> tenant, idempotency, case, documents, answers.

Order of a write (the documents rule, DESIGN "Storage"): every attachment is checked first
(libmagic, allow-list, extension, content, declared type and size) without writing anything;
then, in one transaction, the case is opened, each object is stored and its row added, and
the message is recorded. Any failure rolls the transaction back and removes every object
stored for the message, so nothing is half-stored.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

import anyio
from lxml import etree
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.audit import service as audit
from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.cases.schemas import CaseCreate, CaseUpdate
from eakte.cases.service import update_case
from eakte.db import Database, utcnow
from eakte.documents import service as documents
from eakte.documents.content import TAIL_BYTES, check_content
from eakte.documents.kinds import DocumentKind
from eakte.documents.media import SNIFF_BYTES, check_type, detect
from eakte.documents.schemas import DocumentFields
from eakte.documents.streaming import StoredFile, UploadPolicy, remove_object
from eakte.errors import DomainError
from eakte.process.context import running_deadlines, to_instance
from eakte.process.definitions import get_definition
from eakte.process.participations import answer_participation
from eakte.process.schemas import ParticipationAnswer
from eakte.process.service import Actor, apply_action, local_today, open_case
from eakte.xbau import mapping, messages, parsing
from eakte.xbau.errors import (
    XBauAttachmentRejected,
    XBauCaseClosed,
    XBauIncomplete,
    XBauReferenceNotFound,
    XBauStateConflict,
    XBauTooLarge,
    XBauUnknownAuthority,
    XBauUnsupportedMessage,
)
from eakte.xbau.models import XBauAuthority, XBauInbound, XBauOutgoing
from eakte.xbau.outgoing import enqueue_xbau_message, reference
from storage import ObjectStore

log = logging.getLogger("eakte.xbau")

XML_MEDIA_TYPE = "application/xml"
DOCUMENTS_RECEIVED = "1150"  # XBau code on the action "nachgeforderte Unterlagen eingereicht"
SHA256_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class DeliveredFile:
    """An attachment's bytes as delivered next to the message (a seekable binary file)."""

    name: str
    size: int
    open: Callable[[], IO[bytes]]


@dataclass(frozen=True)
class Receipt:
    """The answer to a delivery: 201 the first time, 200 with the same body after that."""

    created: bool
    body: dict[str, Any]


@dataclass(frozen=True)
class _Checked:
    attachment: mapping.Attachment
    file: DeliveredFile
    media_type: str


# -- authority and tenant ------------------------------------------------------------------


async def tenant_for(session: AsyncSession, kennung: str, via_tenant: str | None) -> str:
    """The tenant whose authority has this XBau address; the inbox principal's tenant must match."""
    row = await session.get(XBauAuthority, kennung)
    if row is None or (via_tenant is not None and row.tenant_id != via_tenant):
        raise XBauUnknownAuthority(
            f"Keine Behörde mit der XBau-Kennung {kennung!r} / no authority with XBau address "
            f"{kennung!r}"
        )
    return row.tenant_id


async def register_authority(
    session: AsyncSession, *, kennung: str, tenant: str, name: str
) -> None:
    """Map an XBau (DVDV) address to a tenant (idempotent; `eakte xbau authority`)."""
    row = await session.get(XBauAuthority, kennung)
    if row is None:
        session.add(
            XBauAuthority(kennung=kennung, tenant_id=tenant, name=name, created_at=utcnow())
        )
    else:
        row.tenant_id, row.name = tenant, name
    await session.flush()


# -- attachments -----------------------------------------------------------------------------


def _read_ends(file: DeliveredFile) -> tuple[bytes, bytes]:
    with file.open() as stream:
        head = stream.read(SNIFF_BYTES)
        if file.size > TAIL_BYTES:
            stream.seek(file.size - TAIL_BYTES)
            tail = stream.read(TAIL_BYTES)
        else:
            stream.seek(0)
            tail = stream.read()
    return head, tail


def _check_one(a: mapping.Attachment, file: DeliveredFile, policy: UploadPolicy) -> str:
    """The detected media type, or raise: the upload checks plus the declared type and size."""
    if file.size == 0:
        raise XBauAttachmentRejected(f"Anlage {a.filename!r} ist leer / attachment is empty")
    if file.size > policy.max_bytes:
        raise XBauTooLarge(
            f"Anlage {a.filename!r} ist größer als {policy.max_bytes} Bytes / attachment exceeds "
            f"{policy.max_bytes} bytes"
        )
    if a.size is not None and a.size != file.size:
        raise XBauAttachmentRejected(
            f"Anlage {a.filename!r}: angegeben {a.size} Bytes, geliefert {file.size} / declared "
            f"{a.size} bytes, delivered {file.size}"
        )
    head, tail = _read_ends(file)
    media_type = detect(head)
    if a.declared_media_type and a.declared_media_type != media_type:
        raise XBauAttachmentRejected(
            f"Anlage {a.filename!r}: angegeben {a.declared_media_type}, Inhalt ist {media_type} / "
            f"declared {a.declared_media_type}, content is {media_type}",
            filename=a.filename,
            declared_media_type=a.declared_media_type,
            detected_media_type=media_type,
        )
    try:
        check_type(media_type, a.filename, policy.allowed_media_types)
        check_content(media_type, head, tail, file.size)
    except DomainError as exc:
        raise XBauAttachmentRejected(
            f"Anlage {a.filename!r}: {exc.detail}", filename=a.filename, reason=exc.slug
        ) from exc
    return media_type


async def check_attachments(
    items: list[mapping.Attachment], files: dict[str, DeliveredFile], policy: UploadPolicy
) -> list[_Checked]:
    """Check every delivered Anlage before anything is written; every file must be named."""
    wanted = [a for a in items if not a.to_follow]
    names = [a.filename for a in wanted]
    missing = [n for n in names if n not in files]
    if missing:
        raise XBauIncomplete(
            f"Anlagen fehlen: {', '.join(missing)} / attachments missing: {', '.join(missing)}",
            missing=missing,
        )
    extra = sorted(set(files) - set(names))
    if extra:
        raise XBauIncomplete(
            f"Dateien ohne Anlage in der Nachricht: {', '.join(extra)} / files not listed as "
            f"Anlage: {', '.join(extra)}",
            unexpected=extra,
        )
    checked = []
    for a in wanted:
        media_type = await anyio.to_thread.run_sync(_check_one, a, files[a.filename], policy)
        checked.append(_Checked(a, files[a.filename], media_type))
    return checked


class _Stored:
    """Keys written for one message, removed again if the message does not commit."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.keys: list[str] = []

    async def put(self, key: str, file: DeliveredFile, media_type: str, limit: int) -> StoredFile:
        def _put() -> Any:
            with file.open() as stream:
                return self.store.put(key, stream, file.size, media_type, max_size=limit)

        self.keys.append(key)
        info = await anyio.to_thread.run_sync(_put)
        return StoredFile(key=key, info=info, filename=file.name, media_type=media_type)

    async def remove_all(self) -> None:
        for key in self.keys:
            await remove_object(self.store, key)


def _bytes_file(name: str, raw: bytes) -> DeliveredFile:
    import io

    return DeliveredFile(name=name, size=len(raw), open=lambda: io.BytesIO(raw))


async def _add_documents(
    session: AsyncSession,
    stored: _Stored,
    principal: Principal,
    case: Case,
    checked: list[_Checked],
    policy: UploadPolicy,
) -> list[str]:
    ids = []
    for item in checked:
        document_id, version_id = uuid.uuid4(), uuid.uuid4()
        key = documents.object_key(case.tenant_id, case.id, document_id, version_id)
        file = await stored.put(key, item.file, item.media_type, policy.max_bytes)
        declared = (item.attachment.hash_value or "").lower()
        if len(declared) == 64 and set(declared) <= SHA256_HEX and declared != file.info.sha256:
            raise XBauAttachmentRejected(
                f"Anlage {item.file.name!r}: Hashwert stimmt nicht / hash value does not match"
            )
        await documents.create_document(
            session,
            principal,
            case,
            document_id=document_id,
            version_id=version_id,
            data=DocumentFields(
                title=item.attachment.title,
                kind=item.attachment.kind,
                comment=f"XBau-Anlage ({item.attachment.xbau_kind or 'ohne Anlageart'})"[:2000],
            ),
            file=file,
        )
        ids.append(str(document_id))
    return ids


async def _keep_original(
    session: AsyncSession,
    stored: _Stored,
    principal: Principal,
    case: Case,
    message: parsing.Message,
) -> uuid.UUID:
    """The message itself, as received, becomes a document of the case (versions are immutable)."""
    document_id, version_id = uuid.uuid4(), uuid.uuid4()
    key = documents.object_key(case.tenant_id, case.id, document_id, version_id)
    file = await stored.put(
        key, _bytes_file(f"{message.name}.xml", message.raw), XML_MEDIA_TYPE, len(message.raw)
    )
    await documents.create_document(
        session,
        principal,
        case,
        document_id=document_id,
        version_id=version_id,
        data=DocumentFields(
            title=f"XBau-Nachricht {message.code} (Original)",
            kind=DocumentKind.sonstiges,
            comment="Eingegangene XBau-Nachricht, unverändert gespeichert",
        ),
        file=file,
    )
    return document_id


# -- the process calls (one place each) ---------------------------------------------------


def _sender(tenant: str, head: mapping.Header) -> Principal:
    """The applicant acting through the portal: starts the procedure like an online applicant."""
    return Principal(
        sub=f"xbau:{head.author.kennung or 'portal'}"[:200],
        tenant=tenant,
        roles=frozenset({Role.applicant}),
        name=f"{head.author.name or 'XBau-Portal'} (XBau)"[:200],
    )


def _importer(tenant: str, head: mapping.Header) -> Principal:
    """The system importing an agency's answer on the official's side."""
    return Principal(
        sub=f"xbau:{head.author.kennung or 'stelle'}"[:200],
        tenant=tenant,
        roles=frozenset({Role.clerk}),
        name=f"{head.author.name or 'XBau'} (XBau)"[:200],
    )


def _reasons(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


async def _open(session: AsyncSession, principal: Principal, app: mapping.Application) -> Case:
    """Create the case and start its procedure at the message's receipt date."""
    procedure_input: dict[str, Any] = {}
    if app.questions:
        procedure_input["fragen"] = app.questions
    try:
        site = {"address": app.site_address, "gemarkung": app.gemarkung}
        if _valid_parcel(app.flurstueck):
            site["flurstueck"] = app.flurstueck
        data = CaseCreate.model_validate(
            {
                "title": app.title,
                "procedure": app.procedure,
                "site": site,
                "applicant": {"name": app.applicant.name, "email": app.applicant.email},
                "description": app.description,
                "housing": app.housing,
                "received_on": app.received_on,
                "procedure_input": procedure_input,
            }
        )
    except ValidationError as exc:
        raise XBauIncomplete(f"Angaben unzulässig / data not acceptable: {_reasons(exc)}") from exc
    case = await open_case(
        session,
        principal,
        data,
        applicant_sub=None,
        tenant_slug=principal.tenant,
    )
    return case


def _valid_parcel(flurstueck: str) -> bool:
    import re

    return bool(re.fullmatch(r"\d{1,6}(/\d{1,4})?", flurstueck))


async def _resume(session: AsyncSession, case: Case, head: mapping.Header, day: date) -> str | None:
    """Documents arrived during a Nachforderung: take the action tagged XBau 1150, if open."""
    from eakte.process.service import instance_for

    row = await instance_for(session, case, lock=True)
    definition = get_definition(row.definition_id, row.definition_version)
    principal = _sender(case.tenant_id, head)
    # Art. 65 Abs. 1 BayBO / issue 12 rule 2: the requested items are recorded one by one with
    # their arrival day; a 0202 answering a Nachforderung brings all that are still outstanding
    view = wf.applicant_view(
        definition, to_instance(row, await running_deadlines(session, case.id))
    )
    if (
        view.nachforderung is not None
        and view.record_items_action is not None
        and view.nachforderung.outstanding
    ):
        await apply_action(
            session,
            case,
            Actor.of(principal),
            action=view.record_items_action.id,
            expected_state=row.state,
            input={
                "unterlagen": list(view.nachforderung.outstanding),
                "eingegangen_am": day.isoformat(),
            },
        )
        row = await instance_for(session, case, lock=True)
    action = next(
        (
            a
            for a in definition.actions
            if a.xbau == DOCUMENTS_RECEIVED
            and row.state in a.from_states
            and "applicant" in a.roles
            and (view.record_items_action is None or a.id != view.record_items_action.id)
        ),
        None,
    )
    if action is None:
        return None
    # the items' arrival days are recorded above; a date input of the answer is the same day
    inputs = {f.name: day.isoformat() for f in action.inputs if f.type == "date" and f.required}
    await apply_action(
        session, case, Actor.of(principal), action=action.id, expected_state=row.state, input=inputs
    )
    return action.id


async def refuse_if_decided(session: AsyncSession, case: Case) -> None:
    """A change message is for an application without a Bescheid (XBau 2.6, 0202: "zu dem noch
    kein Bescheid erteilt wurde"); a case whose procedure ended, whose Bescheid went out
    (0205/0215 queued) or whose record is closed takes none (answered with a 1100)."""
    from eakte.process.service import instance_for
    from eakte.records.guard import ensure_writable

    row = await instance_for(session, case)
    state = get_definition(row.definition_id, row.definition_version).state(row.state)
    decided = await session.scalar(
        select(XBauOutgoing.id)
        .where(
            XBauOutgoing.case_id == case.id,
            XBauOutgoing.message_type.in_(list(messages.DECISION.values())),
        )
        .limit(1)
    )
    if state is None or state.final or decided is not None:
        raise XBauCaseClosed(
            f"Der Vorgang {case.file_number} ist entschieden oder abgeschlossen (Stand "
            f"{row.state}); Änderungen und Nachreichungen werden nicht mehr angenommen / case "
            f"{case.file_number} is decided or closed (state {row.state}); no changes accepted",
            state=row.state,
        )
    await ensure_writable(session, case.id)


CHANGED_FIELDS = (
    "title",
    "applicant_name",
    "applicant_email",
    "site_address",
    "site_gemarkung",
    "site_flurstueck",
)


async def apply_changes(
    session: AsyncSession, principal: Principal, case: Case, change: mapping.Change
) -> dict[str, dict[str, Any]]:
    """Write the changed data of a 0202/0212/0601 into the case; returns {field: {old, new}}.

    Title, applicant and site go through `cases.service.update_case`, the path of REST edits
    (revision, audit `case.updated_from_xbau`, search text); the applicant's address, the
    Entwurfsverfasser and the Flur are case attributes, as on receipt of the 0200. The
    weitereAngaben (supplementary explanations of the project, XBau 2.6 `Bauvorhaben`) never
    replace the case description: each is appended, with day and message id, to the case's
    "Angaben aus XBau" (attribute `weitere_angaben`) and shown in the history.
    """
    fields: dict[str, Any] = {}
    if change.title is not None:
        fields["title"] = change.title
    if change.applicant is not None:
        fields["applicant"] = {"name": change.applicant.name, "email": change.applicant.email}
    if change.site is not None:
        fields["site"] = {
            "address": change.site.address,
            "gemarkung": change.site.gemarkung,
            "flurstueck": change.site.flurstueck if _valid_parcel(change.site.flurstueck) else "",
        }
    try:
        data = CaseUpdate.model_validate(fields)
    except ValidationError as exc:
        raise XBauIncomplete(
            f"Geänderte Angaben unzulässig / changed data not acceptable: {_reasons(exc)}"
        ) from exc
    before = {k: getattr(case, k) for k in CHANGED_FIELDS}
    attributes_before = dict(case.attributes or {})
    case = await update_case(
        session,
        principal,
        case.id,
        data,
        expected_revision=case.revision,
        action="case.updated_from_xbau",
    )
    changes = {
        k: {"old": before[k], "new": getattr(case, k)}
        for k in CHANGED_FIELDS
        if getattr(case, k) != before[k]
    }
    attributes = dict(attributes_before)
    if change.applicant is not None:
        attributes["applicant_contact"] = {
            "name": change.applicant.name,
            "address": change.applicant.address,
            "email": change.applicant.email,
        }
    if change.designer is not None:
        attributes["designer"] = change.designer.__dict__
    if change.site is not None:
        attributes["xbau"] = {**attributes.get("xbau", {}), "flur": change.site.flur}
    if change.weitere_angaben is not None:
        attributes["weitere_angaben"] = [
            *attributes.get("weitere_angaben", []),
            {
                "received_on": change.received_on.isoformat(),
                "message_uuid": change.header.message_uuid,
                "text": change.weitere_angaben,
            },
        ]
    for key in ("applicant_contact", "designer", "xbau", "weitere_angaben"):
        if attributes.get(key) != attributes_before.get(key):
            changes[f"attributes.{key}"] = {
                "old": attributes_before.get(key),
                "new": attributes.get(key),
            }
    if attributes != attributes_before:
        case.attributes = attributes
        await session.flush()
    return changes


# -- receiving ----------------------------------------------------------------------------


async def _existing(session: AsyncSession, message_uuid: str) -> XBauInbound | None:
    return await session.scalar(select(XBauInbound).where(XBauInbound.message_uuid == message_uuid))


def _answer_for(inbound: XBauInbound, tenant: str) -> Receipt:
    if inbound.tenant_id != tenant:
        raise XBauStateConflict("Nachrichten-UUID bereits vergeben / message UUID already used")
    return Receipt(created=False, body=dict(inbound.result))


async def _receipt_1120(
    session: AsyncSession, tenant: str, case: Case, inbound: XBauInbound, own: mapping.Authority
) -> XBauOutgoing:
    env = messages.Envelope(
        message_uuid=str(uuid.uuid4()),
        created_at=utcnow(),
        author=own,
        reader=mapping.Authority(inbound.sender_kennung, inbound.sender_name),
    )
    body = messages.receipt(
        env,
        reference(case, inbound),
        info=f"Eingang am {local_today(inbound.received_at).strftime('%d.%m.%Y')}; "
        f"Aktenzeichen {case.file_number}",
    )
    return await enqueue_xbau_message(
        session,
        tenant,
        "prozessnachrichten.eingangsbestaetigung.1120",
        body,
        f"receipt:{inbound.message_uuid}",
        case_id=case.id,
        message_uuid=env.message_uuid,
        reader_kennung=env.reader.kennung,
    )


async def _own(session: AsyncSession, kennung: str) -> mapping.Authority:
    row = await session.get(XBauAuthority, kennung)
    assert row is not None
    return mapping.Authority(row.kennung, row.name)


def _inbound(
    tenant: str, message: parsing.Message, head: mapping.Header, **values: Any
) -> XBauInbound:
    return XBauInbound(
        id=uuid.uuid4(),
        tenant_id=tenant,
        message_uuid=head.message_uuid,
        message_name=message.name,
        sender_kennung=head.author.kennung,
        sender_name=head.author.name,
        created_at_sender=head.created_at,
        received_at=utcnow(),
        **values,
    )


async def receive(
    db: Database,
    store: ObjectStore,
    *,
    raw: bytes,
    files: dict[str, DeliveredFile],
    via_tenant: str | None = None,
    max_bytes: int = parsing.DEFAULT_MAX_MESSAGE_BYTES,
) -> Receipt:
    """Receive one message with its attachments; see the module docstring."""
    root = parsing.parse(raw, max_bytes=max_bytes)  # malformed / DTD: the sender is unknown
    tenant: str | None = None
    try:
        parsing.validate(root)
        message = parsing.message_of(root, raw)
        if message.name not in {*mapping.APPLICATIONS, *mapping.CHANGES, *mapping.STATEMENTS}:
            raise XBauUnsupportedMessage(
                f"{message.name} wird nicht angenommen / is not accepted; accepted: "
                + ", ".join(sorted({*mapping.APPLICATIONS, *mapping.CHANGES, *mapping.STATEMENTS}))
            )
        head = mapping.header(root)
        async with db.session(write=False) as session:
            tenant = await tenant_for(session, head.reader.kennung, via_tenant)
            found = await _existing(session, head.message_uuid)
            if found is not None:
                return _answer_for(found, tenant)
            policy = await documents.upload_policy(session, tenant)
        try:
            return await _process(db, store, message, head, tenant, files, policy)
        except IntegrityError:
            # the same message delivered twice at the same time: the other delivery won
            async with db.session(write=False) as session:
                found = await _existing(session, head.message_uuid)
            if found is None:
                raise
            return _answer_for(found, tenant)
    except XBauUnknownAuthority:
        raise
    except DomainError as exc:
        outgoing_id = await reject(db, root, raw, exc, tenant=tenant, via_tenant=via_tenant)
        if outgoing_id:
            exc.extra["rueckweisung"] = outgoing_id
        raise


async def _process(
    db: Database,
    store: ObjectStore,
    message: parsing.Message,
    head: mapping.Header,
    tenant: str,
    files: dict[str, DeliveredFile],
    policy: UploadPolicy,
) -> Receipt:
    today = local_today()
    if message.name in mapping.APPLICATIONS:
        app = mapping.application(message.root, today=today)
        checked = await check_attachments(app.attachments, files, policy)
        return await _store_application(db, store, message, head, tenant, app, checked, policy)
    if message.name in mapping.CHANGES:
        change = mapping.change(message.root, today=today)
        checked = await check_attachments(change.attachments, files, policy)
        return await _store_change(db, store, message, head, tenant, change, checked, policy)
    statement = mapping.statement(message.root)
    checked = await check_attachments(statement.attachments, files, policy)
    return await _store_statement(db, store, message, head, tenant, statement, checked, policy)


async def _store_application(
    db: Database,
    store: ObjectStore,
    message: parsing.Message,
    head: mapping.Header,
    tenant: str,
    app: mapping.Application,
    checked: list[_Checked],
    policy: UploadPolicy,
) -> Receipt:
    stored = _Stored(store)
    try:
        async with db.session(write=True) as session:
            session.info["store"] = store  # letters of procedure effects (eakte.issuing.effects)
            principal = _sender(tenant, head)
            case = await _open(session, principal, app)
            case.attributes = {
                **(case.attributes or {}),
                "applicant_contact": {
                    "name": app.applicant.name,
                    "address": app.applicant.address,
                    "email": app.applicant.email,
                },
                "designer": app.designer.__dict__ if app.designer else None,
                "xbau": {
                    "message_uuid": head.message_uuid,
                    "sender": head.author.kennung,
                    "portal_reference": app.portal_reference,
                    "procedure_assumed": app.procedure_assumed,
                    "flur": app.flur,
                },
            }
            document_ids = await _add_documents(session, stored, principal, case, checked, policy)
            original = await _keep_original(session, stored, principal, case, message)
            inbound = _inbound(
                tenant,
                message,
                head,
                case_id=case.id,
                document_id=original,
                family=app.family,
                portal_reference=app.portal_reference,
                result={},
            )
            session.add(inbound)
            await session.flush()
            ack = await _receipt_1120(
                session, tenant, case, inbound, await _own(session, head.reader.kennung)
            )
            inbound.result = {
                "status": "accepted",
                "message_uuid": head.message_uuid,
                "message_type": message.name,
                "tenant": tenant,
                "case_id": str(case.id),
                "file_number": case.file_number,
                "procedure": case.procedure,
                "procedure_assumed": app.procedure_assumed,
                "received_on": app.received_on.isoformat(),
                "documents": document_ids,
                "original_document_id": str(original),
                "acknowledgement": {"message_type": ack.message_type, "outgoing_id": str(ack.id)},
            }
            await audit.record(
                session,
                tenant=tenant,
                actor=principal,
                action="xbau.message_received",
                case_id=case.id,
                payload={
                    "message_uuid": head.message_uuid,
                    "message": message.name,
                    "sender": head.author.kennung,
                    "documents": document_ids,
                },
            )
            body = dict(inbound.result)
    except BaseException:
        await stored.remove_all()
        raise
    return Receipt(created=True, body=body)


async def _case_for(session: AsyncSession, tenant: str, ref: str) -> Case:
    case = await session.scalar(
        select(Case).where(Case.tenant_id == tenant, Case.file_number == ref)
    )
    if case is None:
        first = await session.scalar(
            select(XBauInbound).where(
                XBauInbound.tenant_id == tenant,
                XBauInbound.case_id.is_not(None),
                or_(XBauInbound.message_uuid == ref, XBauInbound.portal_reference == ref),
            )
        )
        if first is not None:
            case = await session.get(Case, first.case_id)
    if case is None:
        raise XBauReferenceNotFound(f"Kein Vorgang {ref!r} / no case {ref!r}")
    return case


async def _store_change(
    db: Database,
    store: ObjectStore,
    message: parsing.Message,
    head: mapping.Header,
    tenant: str,
    change: mapping.Change,
    checked: list[_Checked],
    policy: UploadPolicy,
) -> Receipt:
    stored = _Stored(store)
    try:
        async with db.session(write=True) as session:
            session.info["store"] = store  # letters of procedure effects (eakte.issuing.effects)
            case = await _case_for(session, tenant, change.reference)
            await refuse_if_decided(session, case)
            principal = _sender(tenant, head)
            changes = (
                # recorded as the portal (sub xbau:<kennung>) on the official's side of the case
                await apply_changes(session, _importer(tenant, head), case, change)
                if change.changes_data
                else {}
            )
            document_ids = await _add_documents(session, stored, principal, case, checked, policy)
            original = await _keep_original(session, stored, principal, case, message)
            resumed = (
                await _resume(session, case, head, change.received_on) if document_ids else None
            )
            await session.refresh(case)
            result = {
                "status": "accepted",
                "message_uuid": head.message_uuid,
                "message_type": message.name,
                "tenant": tenant,
                "case_id": str(case.id),
                "file_number": case.file_number,
                "state": case.state,
                "documents": document_ids,
                "original_document_id": str(original),
                "procedure_action": resumed,
                "changes": changes,
            }
            session.add(
                _inbound(
                    tenant,
                    message,
                    head,
                    case_id=case.id,
                    document_id=original,
                    family=change.family,
                    result=result,
                )
            )
            await audit.record(
                session,
                tenant=tenant,
                actor=principal,
                action="xbau.message_received",
                case_id=case.id,
                payload={
                    "message_uuid": head.message_uuid,
                    "message": message.name,
                    "documents": document_ids,
                    "procedure_action": resumed,
                    "changed": sorted(changes),
                    # shown in the history: the note of the change, not a new description
                    "weitere_angaben": change.weitere_angaben,
                },
            )
            await session.flush()
    except BaseException:
        await stored.remove_all()
        raise
    return Receipt(created=True, body=result)


async def _store_statement(
    db: Database,
    store: ObjectStore,
    message: parsing.Message,
    head: mapping.Header,
    tenant: str,
    statement: mapping.Statement,
    checked: list[_Checked],
    policy: UploadPolicy,
) -> Receipt:
    stored = _Stored(store)
    try:
        async with db.session(write=True) as session:
            session.info["store"] = store  # letters of procedure effects (eakte.issuing.effects)
            request = await session.scalar(
                select(XBauOutgoing).where(
                    XBauOutgoing.tenant_id == tenant,
                    XBauOutgoing.message_uuid == statement.reference,
                    XBauOutgoing.message_type == "beteiligung.aufforderung.0300",
                )
            )
            if request is None or request.case_id is None:
                raise XBauReferenceNotFound(
                    f"Keine Beteiligung mit Nachricht {statement.reference} / no participation "
                    f"request {statement.reference}"
                )
            case = await session.get(Case, request.case_id)
            assert case is not None
            principal = _importer(tenant, head)
            document_ids = await _add_documents(session, stored, principal, case, checked, policy)
            original = await _keep_original(session, stored, principal, case, message)
            participation = await answer_participation(
                session,
                principal,
                case.id,
                uuid.UUID(str(request.context["participation_id"])),
                ParticipationAnswer(
                    answer=statement.answer,  # type: ignore[arg-type]
                    statement=statement.text,
                    received_on=None,  # receipt at the authority: today (Art. 65 Abs. 1 BayBO)
                ),
            )
            result = {
                "status": "accepted",
                "message_uuid": head.message_uuid,
                "message_type": message.name,
                "tenant": tenant,
                "case_id": str(case.id),
                "participation_id": str(participation.id),
                "late": participation.late,
                "documents": document_ids,
                "original_document_id": str(original),
            }
            session.add(
                _inbound(
                    tenant,
                    message,
                    head,
                    case_id=case.id,
                    document_id=original,
                    family="beteiligung",
                    result=result,
                )
            )
            await session.flush()
    except BaseException:
        await stored.remove_all()
        raise
    return Receipt(created=True, body=result)


# -- refusing -------------------------------------------------------------------------------

FEHLER_SCHEMA = messages.FEHLER_SCHEMA
FEHLER_SPEC = messages.FEHLER_SPEC
FEHLER_ANLAGE = messages.FEHLER_ANLAGE


def _fehler(exc: DomainError) -> str:
    if exc.slug in {"xbau-schema-invalid", "xbau-rule-violated", "xbau-unknown-code"}:
        return FEHLER_SCHEMA
    if exc.slug in {"xbau-attachment-rejected", "xbau-too-large"} or "anlage" in exc.detail.lower():
        return FEHLER_ANLAGE
    return FEHLER_SPEC


async def reject(
    db: Database,
    root: etree._Element,
    raw: bytes,
    exc: DomainError,
    *,
    tenant: str | None,
    via_tenant: str | None,
) -> str | None:
    """Queue a 1100 Rückweisung to the sender when we know who reads and who wrote it."""
    head = mapping.find(root, "nachrichtenkopf.g2g")
    reader = mapping.authority(mapping.find(head, "leser"))
    author = mapping.authority(mapping.find(head, "autor"))
    ident = mapping.find(head, "identifikation.nachricht")
    refused_uuid = mapping.text(ident, "nachrichtenUUID").lower()
    if not author.kennung or not reader.kennung:
        return None
    try:
        async with db.session(write=True) as session:
            tenant = tenant or await tenant_for(session, reader.kennung, via_tenant)
            own = await _own(session, reader.kennung)
            env = messages.Envelope(str(uuid.uuid4()), utcnow(), own, author)
            reasons = [(_fehler(exc), exc.detail)] + [
                (_fehler(exc), str(e.get("message", ""))) for e in exc.extra.get("errors", [])[:5]
            ]
            uuid_ok = len(refused_uuid) == 36
            body = messages.rejection(
                env,
                refused=raw,
                refused_uuid=refused_uuid if uuid_ok else None,
                refused_type=mapping.local(root).rsplit(".", 1)[-1][:4],
                refused_created=None,
                reasons=reasons,
            )
            digest = hashlib.sha256(raw).hexdigest()
            row = await enqueue_xbau_message(
                session,
                tenant,
                "prozessnachrichten.rueckweisung.G2G.1100",
                body,
                f"rejection:{digest}",
                message_uuid=env.message_uuid,
                reader_kennung=author.kennung,
                context={"refused_uuid": refused_uuid, "problem": exc.type_uri()},
            )
            return str(row.id)
    except DomainError as failure:
        log.warning("no 1100 for a refused message: %s", failure.detail)
        return None
