"""Draft → signed → bekanntgegeben: letters from templates, rendered, sealed, made known."""

from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import get_case
from eakte.config import Settings
from eakte.db import utcnow
from eakte.documents import service as documents
from eakte.documents.kinds import DocumentKind
from eakte.documents.models import Document
from eakte.documents.schemas import DocumentFields, VersionFields
from eakte.documents.streaming import StoredFile, remove_object
from eakte.issuing import bekanntgabe as rules
from eakte.issuing import seal as seals
from eakte.issuing import templates
from eakte.issuing.errors import (
    FourEyes,
    IssuedDocumentNotFound,
    IssuingBlocked,
    WrongIssueState,
)
from eakte.issuing.letters import ENCLOSABLE, SERVES_DECISION, SPECS, LetterType
from eakte.issuing.models import (
    BEKANNTGEGEBEN,
    DRAFT,
    ELECTRONIC,
    POSTAL,
    SIGNED,
    IssuedDocument,
    Letterhead,
    LetterTemplate,
)
from eakte.issuing.render import Letter, render_pdf
from eakte.issuing.schemas import DraftCreate, DraftUpdate
from eakte.outbox import service as outbox
from eakte.postroom import queue as print_queue
from eakte.postroom.models import QUEUED_POSTAL
from eakte.tenants.models import Tenant
from storage import ObjectStore

PDF = "application/pdf"


def local_date(value: date | datetime) -> str:
    """German date (TT.MM.JJJJ)."""
    return value.strftime("%d.%m.%Y")


def status_path(tenant: str, file_number: str) -> str:
    """The applicant's status route (same path as eakte.applicants)."""
    return f"/api/v1/authorities/{tenant}/applications/{file_number}"


@dataclass(frozen=True)
class LetterheadData:
    version: int
    authority_name: str
    department: str
    address: str
    contact: str
    signature: str
    rechtsbehelfsbelehrung: str


async def letterhead_for(session: AsyncSession, tenant: str) -> LetterheadData:
    """The tenant's newest letterhead, or the shipped default with the tenant's name."""
    row = await session.scalar(
        select(Letterhead)
        .where(Letterhead.tenant_id == tenant)
        .order_by(Letterhead.version.desc())
        .limit(1)
    )
    if row is not None:
        return LetterheadData(
            row.version,
            row.authority_name,
            row.department,
            row.address,
            row.contact,
            row.signature,
            row.rechtsbehelfsbelehrung,
        )
    t = await session.get(Tenant, tenant)
    d = templates.defaults()["letterhead"]
    return LetterheadData(
        0,
        t.name if t else tenant,
        d["department"],
        d["address"],
        d["contact"],
        d["signature"],
        d["rechtsbehelfsbelehrung"],
    )


async def template_for(
    session: AsyncSession, tenant: str, letter_type: LetterType
) -> tuple[int, str, str]:
    """(version, subject, body) of the tenant's newest template, or the default (version 0)."""
    row = await session.scalar(
        select(LetterTemplate)
        .where(LetterTemplate.tenant_id == tenant, LetterTemplate.letter_type == letter_type.value)
        .order_by(LetterTemplate.version.desc())
        .limit(1)
    )
    if row is not None:
        return row.version, row.subject, row.body
    return (0, *templates.default_template(letter_type))


async def newer_default(
    session: AsyncSession, tenant: str, letter_type: LetterType, version: int
) -> bool:
    """Whether the tenant's template `version` was saved before the current shipped default
    of its type was released (0, the default itself, never is)."""
    released = templates.default_released(letter_type)
    if version == 0 or released is None:
        return False
    saved = await session.scalar(
        select(LetterTemplate.created_at).where(
            LetterTemplate.tenant_id == tenant,
            LetterTemplate.letter_type == letter_type.value,
            LetterTemplate.version == version,
        )
    )
    return saved is not None and saved.date() < released


async def save_template(
    session: AsyncSession, principal: Principal, letter_type: LetterType, subject: str, body: str
) -> LetterTemplate:
    """Validate and store a new template version (a bad one is refused now, not at issue time)."""
    templates.validate(letter_type, subject, body)
    current = await session.scalar(
        select(func.max(LetterTemplate.version)).where(
            LetterTemplate.tenant_id == principal.tenant,
            LetterTemplate.letter_type == letter_type.value,
        )
    )
    row = LetterTemplate(
        tenant_id=principal.tenant,
        letter_type=letter_type.value,
        version=(current or 0) + 1,
        subject=subject,
        body=body,
        created_by=principal.sub,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        tenant=principal.tenant,
        actor=principal,
        action="issuing.template_saved",
        payload={"letter_type": letter_type.value, "version": row.version},
    )
    return row


async def save_letterhead(
    session: AsyncSession, principal: Principal, fields: dict[str, str]
) -> Letterhead:
    """Store a new letterhead version."""
    current = await session.scalar(
        select(func.max(Letterhead.version)).where(Letterhead.tenant_id == principal.tenant)
    )
    row = Letterhead(
        tenant_id=principal.tenant,
        version=(current or 0) + 1,
        created_by=principal.sub,
        created_at=utcnow(),
        **fields,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        tenant=principal.tenant,
        actor=principal,
        action="issuing.letterhead_saved",
        payload={"version": row.version},
    )
    return row


def _context(
    case: Case,
    record: IssuedDocument,
    head: LetterheadData,
    today: date,
    enclosure: IssuedDocument | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "file_number": case.file_number,
        "date": local_date(today),
        "case_title": case.title,
        "site_address": case.site_address,
        "site_gemarkung": case.site_gemarkung,
        "site_flurstueck": case.site_flurstueck,
        "applicant_name": case.applicant_name,
        "addressee_name": record.addressee_name,
        "authority_name": head.authority_name,
        "contact": head.contact,
        "rechtsbehelfsbelehrung": head.rechtsbehelfsbelehrung,
        "project": case.description or case.title,
    }
    for key, value in (record.data or {}).items():
        context[key] = value
    if enclosure is not None:  # from the sealed record itself, never from the clerk's data
        context["enclosure_label"] = SPECS[LetterType(enclosure.letter_type)].label_de
        context["enclosure_date"] = local_date(enclosure.signed_at or enclosure.created_at)
        context["enclosure_ref"] = enclosure.verification_ref
    return context


def build_letter(
    case: Case,
    record: IssuedDocument,
    head: LetterheadData,
    subject: str,
    body: str,
    *,
    today: date,
    draft: bool,
    enclosure: IssuedDocument | None = None,
) -> Letter:
    """The letter as data (raises IssuingBlocked when a placeholder has no value)."""
    context = _context(case, record, head, today, enclosure)
    address_lines = [head.authority_name, *head.address.splitlines()]
    signer = record.signed_by_name if record.signed_by_name and not draft else None
    return Letter(
        subject=templates.render_text(subject, context).strip(),
        blocks=templates.blocks(templates.render_text(body, context)),
        authority_name=head.authority_name,
        department=head.department,
        sender_line=" · ".join(line.strip() for line in address_lines if line.strip()),
        addressee_lines=[record.addressee_name, *record.addressee_address.splitlines()],
        info=[
            ("Aktenzeichen", case.file_number),
            ("Datum", local_date(today)),
            ("Ansprechpartner", head.contact),
            ("Prüfnummer", record.verification_ref),
        ],
        signature_lines=[
            *head.signature.splitlines(),
            signer or "(Zeichnung ausstehend)",
            "Dieses Schreiben trägt das elektronische Siegel der Behörde "
            "(Art. 37 Abs. 3 BayVwVfG) und ist ohne Unterschrift gültig."
            if not draft
            else "Entwurf – nicht bekanntgegeben",
        ],
        file_number=case.file_number,
        date=local_date(today),
        official=record.drafted_by_name or record.drafted_by,
        verification_ref=record.verification_ref,
        draft=draft,
    )


async def _render(letter: Letter) -> bytes:
    return await anyio.to_thread.run_sync(render_pdf, letter)


async def _store(store: ObjectStore, key: str, body: bytes) -> Any:
    return await anyio.to_thread.run_sync(lambda: store.put(key, io.BytesIO(body), len(body), PDF))


def _verification_ref() -> str:
    raw = secrets.token_hex(5).upper()
    return f"{raw[:5]}-{raw[5:]}"


_ENCLOSURE_POSTAL = IssuingBlocked(
    "Die Ausfertigung der Entscheidung wird dem Nachbarn mit der Post zugestellt "
    "(Art. 66 Abs. 1 S. 4 BayBO); ein elektronischer Weg ist dafür nicht vorgesehen.",
    "the copy of the decision is served on the neighbour by post (Art. 66 Abs. 1 S. 4 BayBO); "
    "no electronic channel is offered for it",
)


async def enclosure_of(session: AsyncSession, record: IssuedDocument) -> IssuedDocument | None:
    """The sealed decision `record` serves, if any."""
    if record.enclosure_id is None:
        return None
    return await session.get(IssuedDocument, record.enclosure_id)


async def _enclosure_for(
    session: AsyncSession, case: Case, letter_type: LetterType, enclosure_id: uuid.UUID | None
) -> IssuedDocument | None:
    """The sealed decision a neighbour letter serves (Art. 66 Abs. 1 S. 4 BayBO): the one
    named, else the case's newest sealed Baugenehmigung or Vorbescheid; None for other
    letters. Without one the letter cannot be drafted: it would serve nothing."""
    if letter_type not in SERVES_DECISION:
        if enclosure_id is not None:
            raise IssuingBlocked(
                "Nur die Benachrichtigung der Nachbarn stellt eine Entscheidung zu.",
                "only the neighbour letter serves a decision as its enclosure",
            )
        return None
    stmt = select(IssuedDocument).where(
        IssuedDocument.case_id == case.id,
        IssuedDocument.tenant_id == case.tenant_id,
        IssuedDocument.letter_type.in_([t.value for t in ENCLOSABLE]),
        IssuedDocument.state.in_([SIGNED, BEKANNTGEGEBEN]),
    )
    if enclosure_id is not None:
        stmt = stmt.where(IssuedDocument.id == enclosure_id)
    found = await session.scalar(
        stmt.order_by(IssuedDocument.signed_at.desc(), IssuedDocument.id).limit(1)
    )
    if found is None:
        raise IssuingBlocked(
            "Es gibt keine gesiegelte Baugenehmigung oder keinen gesiegelten Vorbescheid, der "
            "dem Nachbarn zugestellt werden kann (Art. 66 Abs. 1 S. 4 BayBO).",
            "there is no sealed Baugenehmigung or Vorbescheid of this case to serve on the "
            "neighbour (Art. 66 Abs. 1 S. 4 BayBO)",
        )
    return found


async def draft(
    session: AsyncSession,
    store: ObjectStore,
    principal: Principal,
    case_id: uuid.UUID,
    body: DraftCreate,
) -> IssuedDocument:
    """Render a draft (marked ENTWURF) into a new document that only officials see."""
    case = await get_case(session, principal, case_id)
    return await draft_for_case(session, store, principal, case, body)


async def draft_for_case(
    session: AsyncSession,
    store: ObjectStore,
    principal: Principal,
    case: Case,
    body: DraftCreate,
    *,
    source_effect_id: uuid.UUID | None = None,
) -> IssuedDocument:
    """Draft a letter in a case the caller already may act on (a procedure effect's letter may
    lack the address: it then cannot be signed for the post until an official completes it)."""
    letter_type = body.letter_type
    spec = SPECS[letter_type]
    head = await letterhead_for(session, case.tenant_id)
    version, subject, text = await template_for(session, case.tenant_id, letter_type)
    enclosure = await _enclosure_for(session, case, letter_type, body.enclosure_id)
    if enclosure is not None and body.channel != POSTAL:
        raise _ENCLOSURE_POSTAL
    addressee = body.addressee
    is_applicant = addressee.kind == "applicant"
    name = addressee.name or (case.applicant_name if is_applicant else None)
    if not name:
        raise IssuingBlocked("Der Empfänger hat keinen Namen.", "the addressee has no name")
    email = addressee.email or (case.applicant_email if is_applicant else None)
    if body.channel == POSTAL and not (addressee.address or "").strip() and not source_effect_id:
        raise IssuingBlocked(
            "Für den Postversand fehlt die Anschrift des Empfängers.",
            "postal delivery needs the addressee's address",
        )
    if body.channel == ELECTRONIC and not is_applicant and not email:
        raise IssuingBlocked(
            "Ohne E-Mail-Adresse ist nur Postversand möglich.",
            "without an e-mail address only postal delivery is possible",
        )
    now = utcnow()
    record = IssuedDocument(
        id=uuid.uuid4(),
        tenant_id=case.tenant_id,
        case_id=case.id,
        document_id=uuid.uuid4(),
        letter_type=letter_type.value,
        state=DRAFT,
        addressee_kind=addressee.kind,
        addressee_name=name,
        addressee_address=(addressee.address or "").strip(),
        addressee_email=str(email) if email else None,
        channel=body.channel,
        data=body.data,
        template_version=version,
        letterhead_version=head.version,
        verification_ref=_verification_ref(),
        draft_version=1,
        drafted_by=principal.sub,
        drafted_by_name=principal.name,
        source_effect_id=source_effect_id,
        enclosure_id=enclosure.id if enclosure else None,
        default_version=templates.default_version(letter_type) if version == 0 else None,
        created_at=now,
        updated_at=now,
    )
    letter = build_letter(
        case, record, head, subject, text, today=now.date(), draft=True, enclosure=enclosure
    )
    pdf = await _render(letter)  # before any row: a missing placeholder leaves nothing behind
    version_id = uuid.uuid4()
    key = documents.object_key(case.tenant_id, case.id, record.document_id, version_id)
    info = await _store(store, key, pdf)
    try:
        await documents.create_document(
            session,
            principal,
            case,
            document_id=record.document_id,
            version_id=version_id,
            data=DocumentFields(
                title=f"{spec.label_de} {case.file_number} (Entwurf)"[:300],
                kind=DocumentKind.bescheid if spec.decision else DocumentKind.sonstiges,
                comment="Entwurf aus Vorlage",
            ),
            file=StoredFile(
                key=key, info=info, filename=f"{letter_type.value}-entwurf.pdf", media_type=PDF
            ),
        )
        session.add(record)
        await session.flush()
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=principal,
            action="issuing.drafted",
            case_id=case.id,
            payload={
                "issued_id": str(record.id),
                "letter_type": letter_type.value,
                "template_version": version,
                "letterhead_version": head.version,
                "verification_ref": record.verification_ref,
                "sha256": info.sha256,
                "source_effect_id": str(source_effect_id) if source_effect_id else None,
                "enclosure_id": str(enclosure.id) if enclosure else None,
            },
        )
    except BaseException:
        await remove_object(store, key)
        raise
    return record


async def update_draft(
    session: AsyncSession,
    store: ObjectStore,
    principal: Principal,
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    body: DraftUpdate,
) -> IssuedDocument:
    """Replace addressee, channel or data of a draft and render it again (a new version of its
    document). The editor becomes the drafter, so another official signs (four eyes)."""
    case, record = await get_issued(session, principal, case_id, issued_id, lock=True)
    if record.state != DRAFT:
        raise WrongIssueState(f"only a draft can be changed; it is {record.state}")
    if body.addressee is not None:
        a = body.addressee
        is_applicant = a.kind == "applicant"
        name = a.name or (case.applicant_name if is_applicant else None)
        if not name:
            raise IssuingBlocked("Der Empfänger hat keinen Namen.", "the addressee has no name")
        email = a.email or (case.applicant_email if is_applicant else None)
        record.addressee_kind, record.addressee_name = a.kind, name
        record.addressee_address = (a.address or "").strip()
        record.addressee_email = str(email) if email else None
    if body.channel is not None:
        record.channel = body.channel
    if record.enclosure_id is not None and record.channel != POSTAL:
        raise _ENCLOSURE_POSTAL
    if body.data is not None:
        record.data = body.data
    if record.channel == POSTAL and not record.addressee_address:
        raise IssuingBlocked(
            "Für den Postversand fehlt die Anschrift des Empfängers.",
            "postal delivery needs the addressee's address",
        )
    if record.channel == ELECTRONIC and record.addressee_kind != "applicant":
        if not record.addressee_email:
            raise IssuingBlocked(
                "Ohne E-Mail-Adresse ist nur Postversand möglich.",
                "without an e-mail address only postal delivery is possible",
            )
    now = utcnow()
    record.drafted_by, record.drafted_by_name = principal.sub, principal.name
    head = await letterhead_for(session, case.tenant_id)
    _, subject, text = await _pinned_template(session, case.tenant_id, record)
    enclosure = await enclosure_of(session, record)
    letter = build_letter(
        case, record, head, subject, text, today=now.date(), draft=True, enclosure=enclosure
    )
    pdf = await _render(letter)  # a placeholder without data raises before anything is stored
    version_id = uuid.uuid4()
    key = documents.object_key(case.tenant_id, case.id, record.document_id, version_id)
    info = await _store(store, key, pdf)
    try:
        _, version = await documents.add_version(
            session,
            principal,
            case.id,
            record.document_id,
            version_id=version_id,
            data=VersionFields(comment="Entwurf geändert"),
            file=StoredFile(
                key=key, info=info, filename=f"{record.letter_type}-entwurf.pdf", media_type=PDF
            ),
        )
        record.draft_version = version.number
        record.updated_at = now
        await session.flush()
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=principal,
            action="issuing.draft_updated",
            case_id=case.id,
            payload={
                "issued_id": str(record.id),
                "version": version.number,
                "fields": sorted(body.model_dump(exclude_none=True)),
                "sha256": info.sha256,
            },
            at=now,
        )
    except BaseException:
        await remove_object(store, key)
        raise
    return record


async def get_issued(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    *,
    lock: bool = False,
) -> tuple[Case, IssuedDocument]:
    """The case's issued document (404 for other cases and tenants)."""
    case = await get_case(session, principal, case_id)
    stmt = select(IssuedDocument).where(
        IssuedDocument.id == issued_id,
        IssuedDocument.case_id == case.id,
        IssuedDocument.tenant_id == case.tenant_id,
    )
    if lock:
        stmt = stmt.with_for_update()
    record = await session.scalar(stmt.execution_options(populate_existing=True))
    if record is None:
        raise IssuedDocumentNotFound(f"no issued document {issued_id} in case {case_id}")
    return case, record


async def list_issued(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> list[IssuedDocument]:
    """The case's letters and decisions, oldest first."""
    case = await get_case(session, principal, case_id)
    return list(
        await session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.case_id == case.id)
            .order_by(IssuedDocument.created_at, IssuedDocument.id)
        )
    )


async def _final_letter(
    session: AsyncSession, case: Case, record: IssuedDocument, *, today: date
) -> Letter:
    head = await letterhead_for(session, case.tenant_id)
    _, subject, text = await _pinned_template(session, case.tenant_id, record)
    enclosure = await enclosure_of(session, record)
    return build_letter(
        case, record, head, subject, text, today=today, draft=False, enclosure=enclosure
    )


async def _pinned_template(
    session: AsyncSession, tenant: str, record: IssuedDocument
) -> tuple[int, str, str]:
    if record.template_version == 0:  # the shipped default of the version it was drafted from
        letter_type = LetterType(record.letter_type)
        return (0, *templates.default_template(letter_type, record.default_version or 1))
    row = await session.scalar(
        select(LetterTemplate).where(
            LetterTemplate.tenant_id == tenant,
            LetterTemplate.letter_type == record.letter_type,
            LetterTemplate.version == record.template_version,
        )
    )
    if row is None:
        raise IssuingBlocked("Die Vorlage des Entwurfs fehlt.", "the draft's template is missing")
    return row.version, row.subject, row.body


async def preview(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, issued_id: uuid.UUID
) -> bytes:
    """The PDF exactly as it will be sealed (without the seal)."""
    case, record = await get_issued(session, principal, case_id, issued_id)
    if record.state != DRAFT:
        raise WrongIssueState(f"the document is {record.state}; download the signed version")
    preview_record = _as_signed_by(record, principal)
    return await _render(await _final_letter(session, case, preview_record, today=utcnow().date()))


def _as_signed_by(record: IssuedDocument, principal: Principal) -> IssuedDocument:
    copy = IssuedDocument(**{c: getattr(record, c) for c in record.__table__.columns.keys()})
    copy.signed_by_name = principal.name
    return copy


async def sign(
    session: AsyncSession,
    store: ObjectStore,
    settings: Settings,
    principal: Principal,
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
) -> IssuedDocument:
    """Zeichnung: render the final PDF, seal it, freeze it as a new immutable version."""
    case, record = await get_issued(session, principal, case_id, issued_id, lock=True)
    if record.state != DRAFT:
        raise WrongIssueState(f"the document is already {record.state}")
    if record.drafted_by == principal.sub:
        raise FourEyes("the drafter may not sign the same document (four-eyes rule)")
    if record.channel == POSTAL and not record.addressee_address.strip():
        raise IssuingBlocked(  # a letter drafted from a procedure effect may lack it
            "Für den Postversand fehlt die Anschrift des Empfängers: Schreiben mit Anschrift "
            "neu entwerfen.",
            "postal delivery needs the addressee's address: draft the letter again with it",
        )
    now = utcnow()
    seal = seals.load_seal(  # before rendering: no seal, nothing signed
        settings.resolved_seal_dir(), case.tenant_id, production=not settings.dev_mode, now=now
    )
    record.signed_by, record.signed_by_name = principal.sub, principal.name
    letter = await _final_letter(session, case, record, today=now.date())
    spec = SPECS[LetterType(record.letter_type)]
    pdf = await _render(letter)
    sealed = await anyio.to_thread.run_sync(
        lambda: seals.seal_pdf(
            pdf, seal, reason=f"{spec.label_de} {case.file_number}", location=letter.authority_name
        )
    )
    version_id = uuid.uuid4()
    key = documents.object_key(case.tenant_id, case.id, record.document_id, version_id)
    info = await _store(store, key, sealed)
    try:
        _, version = await documents.add_version(
            session,
            principal,
            case.id,
            record.document_id,
            version_id=version_id,
            data=VersionFields(comment="gezeichnet und gesiegelt"),
            file=StoredFile(
                key=key, info=info, filename=f"{record.letter_type}.pdf", media_type=PDF
            ),
        )
        document = await session.get(Document, record.document_id)
        if document is not None:
            document.title = f"{spec.label_de} {case.file_number}"[:300]
        record.state = SIGNED
        record.signed_version = version.number
        record.signed_sha256 = info.sha256
        record.signed_at = now
        record.updated_at = now
        await session.flush()
        if record.channel == POSTAL:  # no electronic channel: the post room prints it
            await print_queue.queue_for_print(session, record, reason=QUEUED_POSTAL, now=now)
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=principal,
            action="issuing.signed",
            case_id=case.id,
            payload={
                "issued_id": str(record.id),
                "letter_type": record.letter_type,
                "version": version.number,
                "sha256": info.sha256,
                "seal_subject": seal.subject,
                "verification_ref": record.verification_ref,
            },
            at=now,
        )
    except BaseException:
        await remove_object(store, key)
        raise
    return record


BERLIN = ZoneInfo("Europe/Berlin")
SERVICE_RULE = "Zustellung: Tag laut Zustellungsnachweis (Art. 66 Abs. 1 S. 4 BayBO)"


async def make_known(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    *,
    channel: str | None,
    posted_on: date | None,
    served_on: date | None = None,
) -> IssuedDocument:
    """Bekanntgabe: visible to the addressee, date per the rule, notification via the outbox.

    A letter that must be served (SERVES_DECISION: Art. 66 Abs. 1 S. 4 BayBO) is known on the
    day of service its proof names (`served_on`), not by the posting-day rule."""
    case, record = await get_issued(session, principal, case_id, issued_id, lock=True)
    if record.state != SIGNED:
        raise WrongIssueState(f"only a signed document can be made known; it is {record.state}")
    channel = channel or record.channel
    now = utcnow()
    if channel == POSTAL:
        if posted_on is None:
            raise IssuingBlocked(
                "Für den Postversand fehlt der Tag der Aufgabe zur Post.",
                "postal Bekanntgabe needs the posting date (posted_on)",
            )
        if not record.addressee_address:
            raise IssuingBlocked(
                "Für den Postversand fehlt die Anschrift.", "postal delivery needs an address"
            )
        if LetterType(record.letter_type) in SERVES_DECISION:
            today = datetime.now(BERLIN).date()
            if served_on is None or served_on < posted_on or served_on > today:
                raise IssuingBlocked(
                    "Zustellung erforderlich (Art. 66 Abs. 1 S. 4 BayBO): den Tag der Zustellung "
                    "laut Rückschein oder Zustellungsurkunde angeben (nicht vor der Aufgabe zur "
                    "Post, nicht in der Zukunft).",
                    "this letter must be served (Art. 66 para. 1 s. 4 BayBO): give served_on, "
                    "the day of service from the proof of service (not before posting, not in "
                    "the future)",
                )
            record.posted_on, record.bekanntgabe_on = posted_on, served_on
            record.bekanntgabe_rule = SERVICE_RULE
        elif served_on is not None:
            raise IssuingBlocked(
                "Ein Zustellungstag gilt nur für Schreiben, die zuzustellen sind.",
                "served_on applies only to letters that must be served",
            )
        else:
            result = rules.postal(posted_on)
            record.posted_on, record.bekanntgabe_on = posted_on, result.on
            record.bekanntgabe_rule = result.rule
    else:
        if record.enclosure_id is not None:
            raise _ENCLOSURE_POSTAL
        if record.addressee_kind != "applicant" and not record.addressee_email:
            raise IssuingBlocked(
                "Elektronische Bekanntgabe nur mit E-Mail-Adresse.", "electronic needs an e-mail"
            )
        record.bekanntgabe_rule = rules.ELECTRONIC_RULE  # the date follows on retrieval
    record.channel = channel
    record.state = BEKANNTGEGEBEN
    record.bekanntgegeben_at = now
    record.updated_at = now
    await session.flush()
    spec = SPECS[LetterType(record.letter_type)]
    if record.addressee_email and channel == ELECTRONIC:
        notice = await outbox.enqueue_email(
            session,
            tenant=case.tenant_id,
            event="document.bekanntgegeben",
            case_id=case.id,
            to=record.addressee_email,
            subject=f"{spec.label_de} zu Ihrem Vorgang {case.file_number}",
            body=(
                f"Guten Tag {record.addressee_name},\n\n"
                f"zu Ihrem Vorgang {case.file_number} („{case.title}“) liegt für Sie ein "
                f"Schreiben bereit: {spec.label_de}.\n\n"
                "Sie können es mit Ihrem Aktenzeichen und Zugangscode im Antragsportal abrufen.\n"
            ),
            link_path=status_path(case.tenant_id, case.file_number),
        )
        record.notice_id = notice.id  # its sending starts Art. 41 Abs. 2a S. 4's ten days
    await outbox.enqueue_webhooks(
        session,
        tenant=case.tenant_id,
        event="document.bekanntgegeben",
        case_id=case.id,
        data={
            "file_number": case.file_number,
            "letter_type": record.letter_type,
            "issued_id": str(record.id),
            "addressee_kind": record.addressee_kind,
            "channel": channel,
            "bekanntgabe_on": record.bekanntgabe_on.isoformat() if record.bekanntgabe_on else None,
        },
    )
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="issuing.bekanntgegeben",
        case_id=case.id,
        payload={
            "issued_id": str(record.id),
            "channel": channel,
            "posted_on": posted_on.isoformat() if posted_on else None,
            "bekanntgabe_on": record.bekanntgabe_on.isoformat() if record.bekanntgabe_on else None,
            "rule": record.bekanntgabe_rule,
        },
        at=now,
    )
    return record
