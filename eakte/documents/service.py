"""The rules of documents: add, version, list, read, soft-delete (no HTTP here)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.auth.principal import AUDIT_ROLES, CASE_READ_ROLES, Principal
from eakte.cases.models import Case
from eakte.cases.service import get_case, visibility
from eakte.db import utcnow
from eakte.documents.errors import DocumentNotFound, VersionNotFound
from eakte.documents.kinds import kind_label
from eakte.documents.models import VERSION_OK, Document, DocumentVersion
from eakte.documents.schemas import (
    DocumentFields,
    DocumentRead,
    DocumentUpdate,
    VersionFields,
    VersionRead,
)
from eakte.documents.streaming import FieldCheck, StoredFile, UploadPolicy
from eakte.documents.visibility import agency_view
from eakte.errors import ValidationFailed
from eakte.records.guard import ensure_writable
from eakte.search.queue import enqueue_text
from eakte.tenants.service import get_tenant

API = "/api/v1/cases"

M = TypeVar("M", bound=BaseModel)


def object_key(
    tenant: str, case_id: uuid.UUID, document_id: uuid.UUID, version_id: uuid.UUID
) -> str:
    """The server-generated, immutable key of a version's bytes."""
    return f"{tenant}/{case_id}/{document_id}/{version_id}"


def sees_deleted(principal: Principal) -> bool:
    """Auditors (and admins) may still read soft-deleted documents."""
    return principal.has_any(AUDIT_ROLES)


def sees_withdrawn(principal: Principal) -> bool:
    """Officials see withdrawn documents listed (marked, with the reason) as part of the file."""
    return principal.has_any(CASE_READ_ROLES)


def _problem_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["body", *(str(p) for p in err["loc"])],
            "msg": str(err["msg"]),
            "type": str(err["type"]),
        }
        for err in exc.errors()
    ]


def _failed(exc: ValidationError) -> ValidationFailed:
    errors = _problem_errors(exc)
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return ValidationFailed(detail or "invalid fields", errors=errors)


def field_check(model: type[BaseModel]) -> FieldCheck:
    """Validate multipart text fields: each as it arrives, and all of them at the end."""

    def _check(fields: dict[str, str], final: bool) -> None:
        try:
            if final:
                model.model_validate(fields)
                return
            blank = model.model_construct()
            for name, value in fields.items():
                model.__pydantic_validator__.validate_assignment(blank, name, value)
        except ValidationError as exc:
            raise _failed(exc) from exc

    return _check


def parse_fields(model: type[M], fields: dict[str, str]) -> M:
    """The validated fields (422 if invalid)."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise _failed(exc) from exc


def content_url(case_id: uuid.UUID, document_id: uuid.UUID, number: int) -> str:
    """Where a version's bytes are downloaded."""
    return f"{API}/{case_id}/documents/{document_id}/versions/{number}/content"


def version_read(document: Document, version: DocumentVersion) -> VersionRead:
    """Map a version row to the API shape."""
    return VersionRead(
        number=version.number,
        filename=version.filename,
        media_type=version.media_type,
        size=version.size,
        sha256=version.sha256,
        comment=version.comment,
        created_by=version.created_by,
        created_by_name=version.created_by_name,
        created_at=version.created_at,
        status=version.status,
        broken_at=version.broken_at,
        content_url=content_url(document.case_id, document.id, version.number),
    )


def document_read(
    document: Document, latest: DocumentVersion, versions: list[DocumentVersion] | None = None
) -> DocumentRead:
    """Map a document row (with its newest and optionally all versions) to the API shape."""
    return DocumentRead(
        id=document.id,
        case_id=document.case_id,
        title=document.title,
        kind=document.kind,  # type: ignore[arg-type]
        kind_label=kind_label(document.kind),
        version_count=document.version_count,
        latest_version=version_read(document, latest),
        versions=None if versions is None else [version_read(document, v) for v in versions],
        created_by=document.created_by,
        created_at=document.created_at,
        updated_at=document.updated_at,
        deleted_at=document.deleted_at,
        deleted_by=document.deleted_by,
        withdrawn_reason=document.withdrawn_reason,
        withdrawn=document.deleted_at is not None,
    )


async def upload_policy(session: AsyncSession, tenant_slug: str) -> UploadPolicy:
    """The tenant's accepted media types and size limit."""
    tenant = await get_tenant(session, tenant_slug)
    return UploadPolicy(
        allowed_media_types=list(tenant.allowed_media_types),
        max_bytes=int(tenant.max_upload_bytes),
    )


async def upload_target(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID | None = None,
) -> tuple[Case, UploadPolicy]:
    """Check that the case (and document) exist for the principal; return the tenant's policy."""
    case = await get_case(session, principal, case_id)
    if document_id is not None:
        await get_document(session, principal, case, document_id)
    return case, await upload_policy(session, case.tenant_id)


async def get_document(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    document_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    for_update: bool = False,
) -> Document:
    """The case's document, or DocumentNotFound (also for another case's document)."""
    stmt = select(Document).where(
        Document.id == document_id,
        Document.case_id == case.id,
        Document.tenant_id == case.tenant_id,
    )
    if not include_deleted:
        stmt = stmt.where(Document.deleted_at.is_(None))
    if (restricted := agency_view(principal)) is not None:
        stmt = stmt.where(restricted)
    if for_update:
        stmt = stmt.with_for_update()
    document = await session.scalar(stmt)
    if document is None:
        raise DocumentNotFound(f"no document {document_id} in case {case.id}")
    return document


def _new_version(
    document: Document,
    principal: Principal,
    *,
    version_id: uuid.UUID,
    number: int,
    comment: str,
    file: StoredFile,
) -> DocumentVersion:
    return DocumentVersion(
        id=version_id,
        document_id=document.id,
        tenant_id=document.tenant_id,
        number=number,
        object_key=file.key,
        sha256=file.info.sha256,
        size=file.info.size,
        media_type=file.media_type,
        filename=file.filename,
        comment=comment,
        created_by=principal.sub,
        created_by_name=principal.name,
        created_at=utcnow(),
        status=VERSION_OK,
    )


async def _record_version(
    session: AsyncSession, principal: Principal, document: Document, version: DocumentVersion
) -> None:
    await enqueue_text(session, document, version)
    await audit.record(
        session,
        tenant=document.tenant_id,
        actor=principal,
        action="document.version_added",
        case_id=document.case_id,
        payload={
            "document_id": str(document.id),
            "number": version.number,
            "version_id": str(version.id),
            "object_key": version.object_key,
            "sha256": version.sha256,
            "size": version.size,
            "media_type": version.media_type,
            "filename": version.filename,
            "comment": version.comment,
        },
        at=version.created_at,
    )


async def create_document(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    *,
    document_id: uuid.UUID,
    version_id: uuid.UUID,
    data: DocumentFields,
    file: StoredFile,
) -> tuple[Document, DocumentVersion]:
    """Insert a document with version 1 (its bytes are already stored under `file.key`).

    The caller has checked that the principal may add documents to `case`.
    """
    await ensure_writable(session, case.id)
    now = utcnow()
    document = Document(
        id=document_id,
        tenant_id=case.tenant_id,
        case_id=case.id,
        title=data.title,
        kind=data.kind.value,
        version_count=1,
        created_by=principal.sub,
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    await session.flush()
    version = _new_version(
        document, principal, version_id=version_id, number=1, comment=data.comment, file=file
    )
    session.add(version)
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="document.created",
        case_id=case.id,
        payload={"document_id": str(document.id), "title": document.title, "kind": document.kind},
        at=now,
    )
    await _record_version(session, principal, document, version)
    return document, version


async def add_version(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    version_id: uuid.UUID,
    data: VersionFields,
    file: StoredFile,
) -> tuple[Document, DocumentVersion]:
    """Append version n+1 (the document row is locked, so concurrent uploads get n+1, n+2)."""
    case = await get_case(session, principal, case_id)
    await ensure_writable(session, case.id)
    document = await get_document(session, principal, case, document_id, for_update=True)
    now = utcnow()
    number = await session.scalar(
        update(Document)
        .where(Document.id == document.id, Document.deleted_at.is_(None))
        .values(version_count=Document.version_count + 1, updated_at=now)
        .returning(Document.version_count)
        .execution_options(synchronize_session=False)
    )
    if number is None:
        raise DocumentNotFound(f"no document {document_id} in case {case.id}")
    await session.refresh(document)
    version = _new_version(
        document, principal, version_id=version_id, number=number, comment=data.comment, file=file
    )
    session.add(version)
    await session.flush()
    await _record_version(session, principal, document, version)
    return document, version


async def _versions(session: AsyncSession, document_ids: list[uuid.UUID]) -> list[DocumentVersion]:
    if not document_ids:
        return []
    rows = await session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id.in_(document_ids))
        .order_by(DocumentVersion.document_id, DocumentVersion.number)
    )
    return list(rows.all())


async def update_document(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    data: DocumentUpdate,
) -> DocumentRead:
    """Retitle or reclassify a document (audited with before and after; versions unchanged)."""
    case = await get_case(session, principal, case_id)
    await ensure_writable(session, case.id)
    document = await get_document(session, principal, case, document_id, for_update=True)
    before = {"title": document.title, "kind": document.kind}
    after = {
        "title": data.title if data.title is not None else document.title,
        "kind": data.kind.value if data.kind is not None else document.kind,
    }
    if after != before:
        now = utcnow()
        document.title = after["title"]
        document.kind = after["kind"]
        document.updated_at = now
        await session.flush()
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=principal,
            action="document.updated",
            case_id=case.id,
            payload={"document_id": str(document.id), "before": before, "after": after},
            at=now,
        )
    versions = await _versions(session, [document.id])
    return document_read(document, versions[-1], versions)


async def list_documents(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    include_deleted: bool,
    include_withdrawn: bool = False,
) -> list[DocumentRead]:
    """The case's documents, oldest first, each with its newest version."""
    case = await get_case(session, principal, case_id)
    stmt = select(Document).where(Document.case_id == case.id, Document.tenant_id == case.tenant_id)
    if not (include_deleted or include_withdrawn):
        stmt = stmt.where(Document.deleted_at.is_(None))
    if (restricted := agency_view(principal)) is not None:
        stmt = stmt.where(restricted)
    documents = list((await session.scalars(stmt.order_by(Document.created_at, Document.id))).all())
    latest = await session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id.in_([d.id for d in documents]),
            DocumentVersion.number
            == select(Document.version_count)
            .where(Document.id == DocumentVersion.document_id)
            .scalar_subquery(),
        )
    )
    by_document = {v.document_id: v for v in latest}
    return [document_read(d, by_document[d.id]) for d in documents if d.id in by_document]


async def read_document(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, document_id: uuid.UUID
) -> DocumentRead:
    """One document with all its versions, oldest first."""
    case = await get_case(session, principal, case_id)
    document = await get_document(
        session, principal, case, document_id, include_deleted=sees_deleted(principal)
    )
    versions = await _versions(session, [document.id])
    return document_read(document, versions[-1], versions)


async def get_version(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: int | None = None,
) -> tuple[Document, DocumentVersion]:
    """Version `number` of the document (its newest if None), or 404.

    One query when everything exists (downloads are the hottest route); when it finds
    nothing, the step-by-step lookup below says what is missing (case, document or version).
    """
    wanted_number = Document.version_count if number is None else number
    found = (
        await session.execute(
            select(Document, DocumentVersion)
            .join(Case, Case.id == Document.case_id)
            .join(DocumentVersion, DocumentVersion.document_id == Document.id)
            .where(
                Case.id == case_id,
                visibility(principal),
                Document.id == document_id,
                Document.tenant_id == Case.tenant_id,
                DocumentVersion.number == wanted_number,
                true() if sees_deleted(principal) else Document.deleted_at.is_(None),
                agency_view(principal) if agency_view(principal) is not None else true(),
            )
        )
    ).first()
    if found is not None:
        return found[0], found[1]
    case = await get_case(session, principal, case_id)
    document = await get_document(
        session, principal, case, document_id, include_deleted=sees_deleted(principal)
    )
    wanted = document.version_count if number is None else number
    version = await session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == wanted
        )
    )
    if version is None:
        raise VersionNotFound(f"document {document.id} has no version {wanted}")
    return document, version


async def withdraw_document(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    reason: str,
) -> None:
    """Withdraw (zurückziehen) a document with a reason: hidden from lists, rows and bytes kept.

    Nothing of a case file is deleted (Art. 33 BayDiG); the withdrawn document stays part of
    the record and goes with it to the archive (Aussonderung 0503).
    """
    case = await get_case(session, principal, case_id)
    await ensure_writable(session, case.id)
    document = await get_document(session, principal, case, document_id, for_update=True)
    now = utcnow()
    result = await session.execute(
        update(Document)
        .where(Document.id == document.id, Document.deleted_at.is_(None))
        .values(deleted_at=now, deleted_by=principal.sub, withdrawn_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DocumentNotFound(f"no document {document_id} in case {case.id}")
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="document.withdrawn",
        case_id=case.id,
        payload={
            "reason": reason,
            "document_id": str(document.id),
            "title": document.title,
            "kind": document.kind,
            "version_count": document.version_count,
        },
        at=now,
    )
