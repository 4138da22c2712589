"""HTTP endpoints of documents and their versions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.responses import Response as StarletteResponse

from eakte.auth.principal import CASE_READ_ROLES, CASE_WRITE_ROLES, Principal, Role
from eakte.deps import CurrentPrincipal, get_db, require_roles
from eakte.documents import download, service, uploads
from eakte.documents.kinds import KIND_LABELS
from eakte.documents.schemas import (
    MULTIPART_DOCUMENT_BODY,
    MULTIPART_VERSION_BODY,
    DocumentKindRead,
    DocumentList,
    DocumentRead,
    DocumentUpdate,
    VersionRead,
    Withdrawal,
)
from eakte.errors import Forbidden
from eakte.openapi import problems
from eakte.records.guard import refuse_delete
from storage import ObjectStore

router = APIRouter(prefix="/api/v1/cases/{case_id}/documents", tags=["documents"])
kinds_router = APIRouter(prefix="/api/v1", tags=["documents"])

# an agency uploads only its Stellungnahme (checked in uploads.receive_document_for)
UPLOAD_ROLES = frozenset({Role.clerk, Role.approver, Role.admin, Role.agency})

Uploader = Annotated[Principal, Depends(require_roles(*UPLOAD_ROLES))]
Deleter = Annotated[Principal, Depends(require_roles(*CASE_WRITE_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*(CASE_READ_ROLES | {Role.agency})))]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000, description="version number, from 1")]

CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bytes (media type as detected on upload)",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    },
    206: {
        "description": "The requested byte range",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    },
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    **problems(401, 403, 404, 416, 422, 503),
}


def request_store(request: Request) -> ObjectStore:
    return request.app.state.store  # type: ignore[no-any-return]


def upload_body(request: Request) -> uploads.UploadBody:
    """The upload as the HTTP layer hands it over, with the app's upload limits."""
    return uploads.UploadBody(
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        stream=request.stream(),
        client=request.client.host if request.client else "unknown",
        capacity=getattr(request.app.state, "upload_capacity", None),
        pace=getattr(request.app.state, "upload_pace", None),
    )


@kinds_router.get("/document-kinds", response_model=list[DocumentKindRead], responses=problems(401))
async def document_kinds(principal: CurrentPrincipal) -> list[DocumentKindRead]:
    """The document kinds (Lageplan, Bauzeichnung, …) with their German labels."""
    return [
        DocumentKindRead(id=kind, label=label, description=gloss)
        for kind, (label, gloss) in KIND_LABELS.items()
    ]


@router.post(
    "",
    status_code=201,
    response_model=DocumentRead,
    responses=problems(400, 401, 403, 404, 408, 413, 415, 422, 429, 503),
    openapi_extra={"requestBody": MULTIPART_DOCUMENT_BODY},
    summary="Upload a new document (version 1)",
)
async def create_document(
    case_id: uuid.UUID, request: Request, principal: Uploader, response: Response
) -> DocumentRead:
    """Multipart `file`, `title`, `kind` (see /document-kinds), optional `comment`.

    The type is detected from the content (libmagic), checked against the authority's
    accepted types and the file's extension; the body streams to object storage.
    """
    document = await uploads.receive_document(
        get_db(request), request_store(request), principal, case_id, upload_body(request)
    )
    response.headers["Location"] = f"/api/v1/cases/{case_id}/documents/{document.id}"
    return document


@router.get("", response_model=DocumentList, responses=problems(401, 403, 404, 422))
async def list_documents(
    case_id: uuid.UUID,
    request: Request,
    principal: Reader,
    include_deleted: Annotated[
        bool, Query(description="also soft-deleted documents (auditor, admin)")
    ] = False,
    include_withdrawn: Annotated[
        bool,
        Query(description="also withdrawn documents, marked `withdrawn` (officials)"),
    ] = False,
) -> DocumentList:
    """The case's documents, oldest first, each with its newest version."""
    if include_deleted and not service.sees_deleted(principal):
        raise Forbidden("only auditors and admins may list deleted documents")
    if include_withdrawn and not service.sees_withdrawn(principal):
        raise Forbidden("only officials may list withdrawn documents")
    async with get_db(request).session(write=False) as session:
        items = await service.list_documents(
            session,
            principal,
            case_id,
            include_deleted=include_deleted,
            include_withdrawn=include_withdrawn,
        )
    return DocumentList(items=items)


@router.get("/{document_id}", response_model=DocumentRead, responses=problems(401, 403, 404, 422))
async def get_document(
    case_id: uuid.UUID, document_id: uuid.UUID, request: Request, principal: Reader
) -> DocumentRead:
    """One document with all its versions, oldest first."""
    async with get_db(request).session(write=False) as session:
        return await service.read_document(session, principal, case_id, document_id)


@router.patch(
    "/{document_id}", response_model=DocumentRead, responses=problems(401, 403, 404, 409, 422)
)
async def update_document(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    data: DocumentUpdate,
    request: Request,
    principal: Deleter,
) -> DocumentRead:
    """Retitle (`title`) or reclassify (`kind`) a document; its versions stay unchanged."""
    async with get_db(request).session(write=True) as session:
        return await service.update_document(session, principal, case_id, document_id, data)


@router.post(
    "/{document_id}/withdrawal", status_code=204, responses=problems(401, 403, 404, 409, 422)
)
async def withdraw_document(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    data: Withdrawal,
    request: Request,
    principal: Deleter,
) -> StarletteResponse:
    """Withdraw with a reason: hidden from lists; rows and bytes stay part of the record."""
    async with get_db(request).session(write=True) as session:
        await service.withdraw_document(
            session, principal, case_id, document_id, reason=data.reason
        )
    return StarletteResponse(status_code=204)


@router.delete("/{document_id}", status_code=204, responses=problems(401, 403, 404, 409, 422))
async def delete_document(
    case_id: uuid.UUID, document_id: uuid.UUID, request: Request, principal: Reader
) -> StarletteResponse:
    """Always refused (409): withdraw the document instead; records are never deleted."""
    async with get_db(request).session(write=False) as session:
        document = await service.read_document(session, principal, case_id, document_id)
    raise refuse_delete(f"Das Dokument {document.title!r}")


@router.delete(
    "/{document_id}/versions/{number}",
    status_code=204,
    responses=problems(401, 403, 404, 409, 422),
)
async def delete_version(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: VersionNumber,
    request: Request,
    principal: Reader,
) -> StarletteResponse:
    """Always refused (409): a version is immutable and part of the record."""
    async with get_db(request).session(write=False) as session:
        await service.get_version(session, principal, case_id, document_id, number)
    raise refuse_delete(f"Version {number}")


@router.post(
    "/{document_id}/versions",
    status_code=201,
    response_model=VersionRead,
    responses=problems(400, 401, 403, 404, 408, 413, 415, 422, 429, 503),
    openapi_extra={"requestBody": MULTIPART_VERSION_BODY},
    summary="Upload a new version",
)
async def add_version(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    request: Request,
    principal: Uploader,
    response: Response,
) -> VersionRead:
    """Multipart `file` and optional `comment`; earlier versions stay unchanged."""
    version = await uploads.receive_version(
        get_db(request),
        request_store(request),
        principal,
        case_id,
        document_id,
        upload_body(request),
    )
    response.headers["Location"] = (
        f"/api/v1/cases/{case_id}/documents/{document_id}/versions/{version.number}"
    )
    return version


@router.get(
    "/{document_id}/versions/{number}",
    response_model=VersionRead,
    responses=problems(401, 403, 404, 422),
)
async def get_version(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: VersionNumber,
    request: Request,
    principal: Reader,
) -> VersionRead:
    """The metadata of one version."""
    async with get_db(request).session(write=False) as session:
        document, version = await service.get_version(
            session, principal, case_id, document_id, number
        )
    return service.version_read(document, version)


async def _content(
    request: Request,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: int | None,
) -> StarletteResponse:
    async with get_db(request).session(write=False) as session:
        _, version = await service.get_version(session, principal, case_id, document_id, number)
    return await download.content_response(
        request_store(request), version, method=request.method, headers=request.headers
    )


@router.get(
    "/{document_id}/versions/{number}/content",
    response_class=StarletteResponse,
    responses=CONTENT_RESPONSES,
    summary="Download a version",
)
@router.head(
    "/{document_id}/versions/{number}/content",
    response_class=StarletteResponse,
    responses=CONTENT_RESPONSES,
    summary="Download a version (headers only)",
)
async def version_content(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: VersionNumber,
    request: Request,
    principal: Reader,
) -> StarletteResponse:
    """The bytes of one version: ETag (sha256), If-None-Match, a single Range."""
    return await _content(request, principal, case_id, document_id, number)


@router.get(
    "/{document_id}/content",
    response_class=StarletteResponse,
    responses=CONTENT_RESPONSES,
    summary="Download the newest version",
)
@router.head(
    "/{document_id}/content",
    response_class=StarletteResponse,
    responses=CONTENT_RESPONSES,
    summary="Download the newest version (headers only)",
)
async def latest_content(
    case_id: uuid.UUID, document_id: uuid.UUID, request: Request, principal: Reader
) -> StarletteResponse:
    """The bytes of the newest version: ETag (sha256), If-None-Match, a single Range."""
    return await _content(request, principal, case_id, document_id, None)
