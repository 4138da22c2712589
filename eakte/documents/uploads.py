"""An upload from request to commit: check access, stream to the store, insert rows, commit.

The database is not touched while the body streams (no transaction is held open for
the length of an upload); the write transaction only inserts the rows and the audit
events after the object is complete. Whatever fails after the object was written
removes it again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from anyio import CapacityLimiter

from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.cases.service import get_case
from eakte.db import Database
from eakte.documents import service
from eakte.documents.capacity import UploadCapacity
from eakte.documents.kinds import DocumentKind, kind_label
from eakte.documents.schemas import DocumentFields, DocumentRead, VersionFields, VersionRead
from eakte.documents.streaming import UploadPace, UploadReceiver, remove_object
from eakte.errors import CaseNotFound, Forbidden
from eakte.notifications.models import NotificationKind
from eakte.notifications.service import notify
from storage import ObjectStore


@dataclass(frozen=True)
class UploadBody:
    """What the HTTP layer hands over: the headers that matter and the byte stream."""

    content_type: str | None
    content_length: str | None
    stream: AsyncIterator[bytes]
    client: str = ""
    capacity: UploadCapacity | None = None
    pace: UploadPace | None = None

    def admit(self, principal: Principal) -> AbstractContextManager[None]:
        """Hold an upload slot (429/503 when the principal, address or pool is at its limit)."""
        if self.capacity is None:
            return nullcontext()
        return self.capacity.admit(f"{principal.tenant}:{principal.sub}", self.client)

    @property
    def limiter(self) -> CapacityLimiter | None:
        """The upload pool's thread limiter (None: anyio's default pool)."""
        return self.capacity.limiter if self.capacity is not None else None


async def receive_document(
    db: Database, store: ObjectStore, principal: Principal, case_id: uuid.UUID, body: UploadBody
) -> DocumentRead:
    """Create a document with version 1 from a multipart body (file, title, kind, comment)."""
    async with db.session(write=False) as session:
        case = await get_case(session, principal, case_id)
    return await receive_document_for(db, store, principal, case, body)


async def receive_document_for(
    db: Database, store: ObjectStore, principal: Principal, case: Case, body: UploadBody
) -> DocumentRead:
    """Like `receive_document`, for a case the caller has already resolved and authorised.

    (The applicant API resolves cases by file number and access rules of its own.)
    """
    async with db.session(write=False) as session:
        policy = await service.upload_policy(session, case.tenant_id)
    document_id, version_id = uuid.uuid4(), uuid.uuid4()
    key = service.object_key(case.tenant_id, case.id, document_id, version_id)
    receiver = UploadReceiver(
        store=store,
        key=key,
        policy=policy,
        field_names=frozenset(DocumentFields.model_fields),
        check_fields=service.field_check(DocumentFields),
        pace=body.pace,
        limiter=body.limiter,
    )
    with body.admit(principal):
        upload = await receiver.receive(
            content_type=body.content_type, content_length=body.content_length, body=body.stream
        )
    try:
        data = service.parse_fields(DocumentFields, upload.fields)
        if service.agency_view(principal) is not None and data.kind != DocumentKind.stellungnahme:
            raise Forbidden(
                "Eine Fachstelle kann nur ihre Stellungnahme hochladen / an agency may upload "
                "its statement (kind stellungnahme) only"
            )
        async with db.session(write=True) as session:
            current = await session.get(Case, case.id)
            if current is None or current.tenant_id != case.tenant_id:
                raise CaseNotFound(f"no case {case.id}")
            document, version = await service.create_document(
                session,
                principal,
                current,
                document_id=document_id,
                version_id=version_id,
                data=data,
                file=upload.file,
            )
            if Role.applicant in principal.roles:
                await notify(
                    session,
                    current,
                    NotificationKind.applicant_uploaded,
                    de=f"Antragsteller hat „{document.title}“ hochgeladen "
                    f"({kind_label(document.kind)})",
                    en=f"The applicant uploaded “{document.title}” ({document.kind})",
                )
            result = service.document_read(document, version, [version])
    except BaseException:
        await remove_object(store, key)
        raise
    return result


async def receive_version(
    db: Database,
    store: ObjectStore,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    body: UploadBody,
) -> VersionRead:
    """Append a new version from a multipart body (file, optional comment)."""
    if service.agency_view(principal) is not None:
        raise Forbidden(
            "Eine Fachstelle kann keine neuen Versionen hochladen / an agency may not add versions"
        )
    async with db.session(write=False) as session:
        case, policy = await service.upload_target(session, principal, case_id, document_id)
    version_id = uuid.uuid4()
    key = service.object_key(case.tenant_id, case.id, document_id, version_id)
    receiver = UploadReceiver(
        store=store,
        key=key,
        policy=policy,
        field_names=frozenset(VersionFields.model_fields),
        check_fields=service.field_check(VersionFields),
        pace=body.pace,
        limiter=body.limiter,
    )
    with body.admit(principal):
        upload = await receiver.receive(
            content_type=body.content_type, content_length=body.content_length, body=body.stream
        )
    try:
        data = service.parse_fields(VersionFields, upload.fields)
        async with db.session(write=True) as session:
            document, version = await service.add_version(
                session,
                principal,
                case_id,
                document_id,
                version_id=version_id,
                data=data,
                file=upload.file,
            )
            result = service.version_read(document, version)
    except BaseException:
        await remove_object(store, key)
        raise
    return result
