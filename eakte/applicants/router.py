"""The applicant-facing API: authorities, submission, status, documents, Nachforderung."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.applicants import quotas, service
from eakte.applicants.errors import IssuedDocumentNotFound, UploadsClosed
from eakte.applicants.ratelimit import FailureLimiter
from eakte.applicants.schemas import (
    ApplicationCreate,
    ApplicationCreated,
    ApplicationList,
    ApplicationStatus,
    Authority,
    AuthorityList,
    FictionWaiver,
    NachforderungResponse,
)
from eakte.auth.principal import Principal, Role
from eakte.deps import ReadSessionDep, SessionDep, bearer, get_db
from eakte.documents import uploads
from eakte.documents.download import content_response
from eakte.documents.router import upload_body
from eakte.documents.schemas import MULTIPART_DOCUMENT_BODY, DocumentRead
from eakte.errors import Forbidden, Unauthenticated
from eakte.issuing import queries as issuing_queries
from eakte.openapi import problems
from eakte.process import bekanntgabe as process_bekanntgabe
from eakte.process.definitions import get_definition
from eakte.process.models import ProcessInstance
from eakte.tenants.models import Tenant

router = APIRouter(prefix="/api/v1", tags=["applicants"])

TenantSlug = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$", examples=["augsburg"])]
FileNumber = Annotated[str, Path(min_length=1, max_length=60, examples=["BA-2026-00042"])]
AccessCode = Annotated[
    str | None,
    Header(
        alias="X-Access-Code",
        max_length=64,
        description="the access code from the receipt (instead of the owner's token)",
    ),
]


async def optional_applicant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    """The applicant behind a bearer token, if one is sent (any tenant claim is fine)."""
    if credentials is None:
        return None
    principal: Principal = await request.app.state.verifier.verify(credentials.credentials)
    if Role.applicant not in principal.roles:
        raise Forbidden("this API is for applicants; officials use /api/v1/cases")
    return principal


async def required_applicant(
    principal: Annotated[Principal | None, Depends(optional_applicant)],
) -> Principal:
    """An applicant's bearer token is required."""
    if principal is None:
        raise Unauthenticated("missing bearer token")
    return principal


MaybeApplicant = Annotated[Principal | None, Depends(optional_applicant)]
ApplicantDep = Annotated[Principal, Depends(required_applicant)]


def limiter(request: Request) -> FailureLimiter:
    """The failed-attempt limiter (Redis when configured)."""
    return request.app.state.applicant_limiter  # type: ignore[no-any-return]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _resolve(
    request: Request,
    session: AsyncSession,
    tenant: str,
    file_number: str,
    principal: Principal | None,
    access_code: str | None,
) -> service.Access:
    settings = request.app.state.settings
    return await service.resolve(
        session,
        limiter(request),
        tenant=tenant,
        file_number=file_number,
        client=_client(request),
        principal=principal,
        access_code=access_code,
        limits=(
            settings.access_failures_per_file_number,
            settings.access_failures_per_address,
            settings.access_failures_per_code_file_number,
        ),
    )


@router.get("/authorities", response_model=AuthorityList)
async def list_authorities(session: ReadSessionDep) -> AuthorityList:
    """The building authorities that accept applications, with the procedures they offer. Public."""
    tenants = await session.scalars(select(Tenant).order_by(Tenant.slug))
    return AuthorityList(
        items=[
            Authority(slug=t.slug, name=t.name, procedures=service.offered_procedures(t))
            for t in tenants
        ]
    )


@router.post(
    "/authorities/{tenant}/applications",
    status_code=201,
    response_model=ApplicationCreated,
    responses=problems(401, 403, 404, 413, 422, 429),
)
async def submit_application(
    tenant: TenantSlug,
    data: ApplicationCreate,
    session: SessionDep,
    principal: ApplicantDep,
    request: Request,
    response: Response,
) -> ApplicationCreated:
    """Submit a building application; the access code in the answer is shown only once."""
    await quotas.count_submission(
        request.app.state.submission_limiter,
        _client(request),
        request.app.state.settings.submissions_per_address_per_hour,
    )
    case, code = await service.submit(session, principal, tenant, data)
    url = service.status_url(case.tenant_id, case.file_number)
    response.headers["Location"] = url
    response.headers["Cache-Control"] = "no-store"
    return ApplicationCreated(
        case_id=case.id, file_number=case.file_number, access_code=code, status_url=url
    )


@router.get("/applications", response_model=ApplicationList, responses=problems(401, 403))
async def my_applications(session: ReadSessionDep, principal: ApplicantDep) -> ApplicationList:
    """Your applications at every authority, newest first."""
    return ApplicationList(items=await service.my_applications(session, principal))


@router.get(
    "/authorities/{tenant}/applications/{file_number}",
    response_model=ApplicationStatus,
    responses={**problems(401, 403, 404, 422, 429), 304: {"description": "Not modified"}},
)
async def application_status(
    tenant: TenantSlug,
    file_number: FileNumber,
    request: Request,
    session: ReadSessionDep,
    principal: MaybeApplicant,
    access_code: AccessCode = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """Status in German and English, what is missing, deadlines, public timeline, documents.

    Authenticate with the owner's bearer token or the `X-Access-Code` header. Wrong codes,
    unknown and foreign file numbers all answer 404; repeated failures answer 429.
    """
    found = await _resolve(request, session, tenant, file_number, principal, access_code)
    body, etag = await service.status_body(session, found, request.app.state.status_cache)
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization, X-Access-Code",
    }
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


UPLOAD_EXAMPLE = {
    "id": "5b9d3c1e-2f4a-4c1b-9e7d-0a1b2c3d4e5f",
    "case_id": "1f0c2a4e-6f1e-4a53-9a57-0d5b8f0f3c11",
    "title": "Lageplan",
    "kind": "lageplan",
    "kind_label": "Lageplan",
    "version_count": 1,
    "latest_version": {
        "number": 1,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "size": 48213,
        "media_type": "application/pdf",
        "filename": "lageplan.pdf",
        "comment": "",
        "created_by": "maria@buergerkonto",
        "created_by_name": "Maria Muster",
        "created_at": "2026-11-02T09:20:00Z",
        "status": "ok",
        "content_url": "/api/v1/cases/1f0c2a4e-6f1e-4a53-9a57-0d5b8f0f3c11/documents/"
        "5b9d3c1e-2f4a-4c1b-9e7d-0a1b2c3d4e5f/versions/1/content",
    },
    "created_by": "maria@buergerkonto",
    "created_at": "2026-11-02T09:20:00Z",
    "updated_at": "2026-11-02T09:20:00Z",
}


@router.post(
    "/authorities/{tenant}/applications/{file_number}/documents",
    status_code=201,
    response_model=DocumentRead,
    responses={
        **problems(400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 503),
        201: {"content": {"application/json": {"example": UPLOAD_EXAMPLE}}},
    },
    openapi_extra={"requestBody": MULTIPART_DOCUMENT_BODY},
)
async def upload_bauvorlage(
    tenant: TenantSlug, file_number: FileNumber, request: Request, principal: ApplicantDep
) -> DocumentRead:
    """Multipart `file`, `title`, `kind`: only before completeness is confirmed or during a
    Nachforderung (else 409 with the reason)."""
    db = get_db(request)
    async with db.session(write=False) as session:
        found = await _resolve(request, session, tenant, file_number, principal, None)
        row = await session.get(ProcessInstance, found.case.id)
        assert row is not None
        definition = get_definition(row.definition_id, row.definition_version)
        if not service.uploads_open(definition, row):
            state = definition.state(row.state)
            raise UploadsClosed(
                "documents can be submitted before completeness is confirmed or while a "
                f"Nachforderung is open; the application is in state {row.state!r}",
                detail_de="Unterlagen können bis zur Feststellung der Vollständigkeit oder "
                "während einer offenen Nachforderung eingereicht werden; der Antrag ist im "
                f"Stand „{state.public_label.de if state else row.state}“",
            )
        await quotas.check_upload_quota(
            session, found.case.id, request.app.state.settings.uploads_per_application
        )
    body = upload_body(request)
    return await uploads.receive_document_for(
        db, request.app.state.store, principal, found.case, body
    )


@router.post(
    "/authorities/{tenant}/applications/{file_number}/responses",
    response_model=ApplicationStatus,
    responses=problems(401, 403, 404, 409, 422, 429),
)
async def answer_nachforderung(
    tenant: TenantSlug,
    file_number: FileNumber,
    data: NachforderungResponse,
    request: Request,
    session: SessionDep,
    principal: ApplicantDep,
) -> ApplicationStatus:
    """Answer the open Nachforderung with the documents you uploaded; the case resumes."""
    found = await _resolve(request, session, tenant, file_number, principal, None)
    await service.respond(session, principal, found, data)
    return await service.status(session, found)


@router.post(
    "/authorities/{tenant}/applications/{file_number}/fiction-waiver",
    response_model=ApplicationStatus,
    responses=problems(401, 403, 404, 409, 422, 429),
)
async def waive_fiction(
    tenant: TenantSlug,
    file_number: FileNumber,
    data: FictionWaiver,
    request: Request,
    session: SessionDep,
    principal: ApplicantDep,
) -> ApplicationStatus:
    """Waive the Genehmigungsfiktion in Textform (Art. 68 Abs. 2 S. 2 BayBO); 409 if none runs."""
    found = await _resolve(request, session, tenant, file_number, principal, None)
    await service.waive_fiction(session, principal, found, data)
    return await service.status(session, found)


@router.get(
    "/authorities/{tenant}/applications/{file_number}/documents/{document_id}/content",
    responses=problems(401, 403, 404, 416, 422, 429),
    response_class=Response,
)
async def issued_document(
    tenant: TenantSlug,
    file_number: FileNumber,
    document_id: uuid.UUID,
    request: Request,
    principal: MaybeApplicant,
    access_code: AccessCode = None,
) -> Response:
    """Download a document the authority issued to you (e.g. the permit)."""
    async with get_db(request).session(write=False) as session:
        found = await _resolve(request, session, tenant, file_number, principal, access_code)
        # issue 13: the sealed version of a document bekanntgegeben to the applicant, nothing else
        version = await issuing_queries.applicant_version(session, found.case.id, document_id)
        if version is None:
            raise IssuedDocumentNotFound(f"no issued document {document_id}")
    if request.method == "GET":
        # the first retrieval makes a provided document known (Art. 41 Abs. 2a BayVwVfG);
        # committed before the bytes go out
        async with get_db(request).session(write=True) as session:
            session.info["store"] = request.app.state.store  # letters of the effects
            await process_bekanntgabe.record_retrieval(
                session,
                found.case.id,
                document_id,
                actor=principal.sub if principal else f"applicant:{found.case.file_number}",
            )
    return await content_response(
        request.app.state.store, version, method=request.method, headers=request.headers
    )
