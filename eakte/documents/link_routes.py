"""HTTP endpoints of download links: issue them (authorised), and the app's own fallback
that serves a signed link where no nginx checks it (issue 19)."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Path, Request
from sqlalchemy import select
from starlette.responses import Response as StarletteResponse

from eakte.deps import get_db
from eakte.documents import download, linking, links, service
from eakte.documents.errors import DownloadLinksUnavailable, VersionNotFound
from eakte.documents.models import DocumentVersion
from eakte.documents.router import CONTENT_RESPONSES, Reader, VersionNumber, request_store
from eakte.documents.schemas import DownloadLink, DownloadLinkList, DownloadLinksRequest
from eakte.openapi import problems

router = APIRouter(prefix="/api/v1/cases/{case_id}/documents", tags=["documents"])
fallback_router = APIRouter(prefix="/api/v1/dl", tags=["documents"])

Token = Annotated[
    str,
    Path(description="the signed link, a path (over-long ones are refused as malformed)"),
]


def _issuer(request: Request) -> linking.LinkIssuer:
    return request.app.state.link_issuer  # type: ignore[no-any-return]


def _count(request: Request, issuer: linking.LinkIssuer, count: int) -> None:
    request.app.state.metrics.download_links.labels(issuer.mode).inc(count)


@router.post(
    "/download-links",
    response_model=DownloadLinkList,
    responses=problems(401, 403, 404, 422, 503),
    summary="Download links for the case's documents (one call for many)",
)
async def case_download_links(
    case_id: uuid.UUID,
    request: Request,
    principal: Reader,
    data: Annotated[DownloadLinksRequest | None, Body()] = None,
) -> DownloadLinkList:
    """Short-lived links to the newest versions of the listed documents (`document_ids`), or
    of every document the case list shows you. Fetch them without a token (nginx or the
    object store sends the bytes); they expire after EAKTE_DOWNLOAD_LINK_TTL_SECONDS."""
    issuer = _issuer(request)
    ids = data.document_ids if data is not None else None
    async with get_db(request).session(write=False) as session:
        rows = await linking.newest_versions(session, principal, case_id, ids)
    result = await anyio.to_thread.run_sync(
        lambda: linking.bulk_links(issuer, rows, explicit=ids is not None)
    )
    _count(request, issuer, len(result.items))
    linking.log.info(
        "download links: %d for case %s issued to %s (%s)",
        len(result.items),
        case_id,
        principal.sub,
        principal.tenant,
    )
    return result


@router.post(
    "/{document_id}/versions/{number}/download-link",
    response_model=DownloadLink,
    responses=problems(401, 403, 404, 422, 503),
    summary="A download link for one version",
)
async def version_download_link(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: VersionNumber,
    request: Request,
    principal: Reader,
) -> DownloadLink:
    """A short-lived link to this version's bytes (see `POST …/documents/download-links`)."""
    issuer = _issuer(request)
    async with get_db(request).session(write=False) as session:
        document, version = await service.get_version(
            session, principal, case_id, document_id, number
        )
    linking.check_usable(document, version)

    def make() -> DownloadLink:
        now = time.time()
        return linking.make_link(issuer, document, version, issuer.expiry(now), now)

    link = await anyio.to_thread.run_sync(make)
    _count(request, issuer, 1)
    return link


@fallback_router.get(
    "/{token:path}",
    response_class=StarletteResponse,
    responses=CONTENT_RESPONSES,
    summary="Fetch a signed download link (where no nginx serves it)",
)
@fallback_router.head(
    "/{token:path}",
    response_class=StarletteResponse,
    responses=CONTENT_RESPONSES,
    summary="Fetch a signed download link (headers only)",
)
async def signed_download(token: Token, request: Request) -> StarletteResponse:
    """The bytes a signed link grants, checked as nginx checks it (signature, expiry,
    tenant); no bearer token: the link is the authorisation."""
    issuer = _issuer(request)
    if issuer.secret is None:
        raise DownloadLinksUnavailable(
            "signed download links are not configured here",
            detail_de="Signierte Download-Links sind hier nicht eingerichtet",
        )
    grant = links.verify(issuer.secret, token, now=time.time())
    async with get_db(request).session(write=False) as session:
        version = await session.scalar(
            select(DocumentVersion).where(
                DocumentVersion.object_key == grant.key,
                DocumentVersion.tenant_id == grant.tenant,
            )
        )
    if version is None:
        raise VersionNotFound(
            "the linked version does not exist",
            detail_de="Die verlinkte Dokumentversion gibt es nicht",
        )
    response = await download.content_response(
        request_store(request), version, method=request.method, headers=request.headers
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
