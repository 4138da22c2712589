"""Admin routes for the archive's intake endpoint (xdomea messages delivered via the outbox)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from eakte.auth.principal import Principal, Role
from eakte.deps import get_db, require_roles
from eakte.openapi import problems
from eakte.records import transport
from eakte.records.errors import ArchiveEndpointNotFound
from eakte.records.schemas import ArchiveEndpointRead, ArchiveEndpointWrite

router = APIRouter(prefix="/api/v1/records/archive-endpoint", tags=["records"])

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]


def _not_found() -> ArchiveEndpointNotFound:
    return ArchiveEndpointNotFound(
        "Für diese Behörde ist kein Archiv-Endpunkt eingerichtet / "
        "no archive endpoint is configured for this authority"
    )


@router.put("", response_model=ArchiveEndpointRead, responses=problems(401, 403, 422))
async def set_archive_endpoint(
    data: ArchiveEndpointWrite, request: Request, principal: Admin
) -> ArchiveEndpointRead:
    """Deliver the Aussonderung messages (0501, 0505, 0503) to this URL, HMAC-signed.

    The secret is shown in this answer only; keep it at the archive to check signatures.
    """
    async with get_db(request).session() as session:
        endpoint, secret = await transport.set_endpoint(
            session, principal.tenant, url=str(data.url), secret=data.secret, actor=principal.sub
        )
        return ArchiveEndpointRead(
            url=endpoint.url,
            created_by=endpoint.created_by,
            created_at=endpoint.created_at,
            secret=secret,
        )


@router.get("", response_model=ArchiveEndpointRead, responses=problems(401, 403, 404))
async def get_archive_endpoint(request: Request, principal: Admin) -> ArchiveEndpointRead:
    """The configured intake (without its secret)."""
    async with get_db(request).session(write=False) as session:
        endpoint = await transport.get_endpoint(session, principal.tenant)
        if endpoint is None:
            raise _not_found()
        return ArchiveEndpointRead(
            url=endpoint.url, created_by=endpoint.created_by, created_at=endpoint.created_at
        )


@router.delete("", status_code=204, responses=problems(401, 403, 404))
async def remove_archive_endpoint(request: Request, principal: Admin) -> Response:
    """Stop delivering; files stay in the export folder for hand-over by other means."""
    async with get_db(request).session() as session:
        if not await transport.remove_endpoint(session, principal.tenant, actor=principal.sub):
            raise _not_found()
    return Response(status_code=204)
