"""HTTP endpoints of the XBau interface: the inbox, the pickup queue, sending a Beteiligung."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from eakte.auth.principal import Principal, Role
from eakte.cases.service import get_case
from eakte.deps import ReadSessionDep, SessionDep, get_db, require_roles
from eakte.documents.download import content_response
from eakte.documents.models import DocumentVersion
from eakte.errors import BadRequest, UnsupportedMediaType
from eakte.openapi import problems
from eakte.xbau import inbox, outgoing, push
from eakte.xbau.errors import XBauMessageNotFound, XBauTooLarge
from eakte.xbau.mapping import Authority
from eakte.xbau.models import OUT_QUEUED
from eakte.xbau.schemas import (
    InboxReceipt,
    OutgoingList,
    OutgoingRead,
    ParticipationRequest,
    PushEndpointRead,
    PushEndpointSet,
    outgoing_read,
)

router = APIRouter(prefix="/api/v1/xbau", tags=["xbau"])
case_router = APIRouter(prefix="/api/v1/cases/{case_id}/participations", tags=["xbau"])

Intermediary = Annotated[Principal, Depends(require_roles(Role.xbau))]
Clerk = Annotated[Principal, Depends(require_roles(Role.clerk, Role.admin))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
MESSAGE_FIELD = "nachricht"
MAX_ATTACHMENTS = 500

INBOX_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [MESSAGE_FIELD],
                "properties": {
                    MESSAGE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": "the XBau message (XML)",
                    },
                    "anlage": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "one part per Anlage; its filename is the "
                        "Anlage's dateiname",
                    },
                },
            }
        },
        "application/xml": {"schema": {"type": "string"}},
    },
}


class _SpooledFile:
    def __init__(self, upload: UploadFile) -> None:
        self.upload = upload

    def open(self) -> Any:
        stream = self.upload.file
        stream.seek(0)
        return _NoClose(stream)


class _NoClose:
    """A view of the spooled file whose close() leaves it open (it is read more than once)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> Any:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.seek(0)

    def read(self, n: int = -1) -> bytes:
        return self.stream.read(n)  # type: ignore[no-any-return]


Delivery = tuple[bytes, dict[str, inbox.DeliveredFile], Any]


async def _delivery(request: Request, max_bytes: int) -> Delivery:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("application/xml", "text/xml")):
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise XBauTooLarge(f"Nachricht über {max_bytes} Bytes / message over {max_bytes}")
        return bytes(body), {}, None
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "Senden Sie die Nachricht als application/xml oder multipart/form-data / send the "
            "message as application/xml or multipart/form-data"
        )
    form = await request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=0)
    try:
        return await _from_form(form, max_bytes)
    except BaseException:
        await form.close()
        raise


async def _from_form(form: Any, max_bytes: int) -> Delivery:
    message = form.get(MESSAGE_FIELD)
    if not isinstance(message, UploadFile):
        raise BadRequest(f"Teil {MESSAGE_FIELD!r} fehlt / part {MESSAGE_FIELD!r} missing")
    if (message.size or 0) > max_bytes:
        raise XBauTooLarge(f"Nachricht über {max_bytes} Bytes / message over {max_bytes}")
    raw = await message.read()
    files: dict[str, inbox.DeliveredFile] = {}
    for key, value in form.multi_items():
        if key == MESSAGE_FIELD or not isinstance(value, UploadFile):
            continue
        name = value.filename or ""
        if not name or name in files:
            raise BadRequest(
                f"Anlage ohne oder mit doppeltem Dateinamen: {name!r} / attachment without or "
                f"with a repeated filename: {name!r}"
            )
        spooled = _SpooledFile(value)
        files[name] = inbox.DeliveredFile(name=name, size=int(value.size or 0), open=spooled.open)
    return raw, files, form


@router.post(
    "/inbox",
    response_model=InboxReceipt,
    status_code=201,
    responses={
        200: {
            "model": InboxReceipt,
            "description": "already received: the same answer as the first time",
        },
        **problems(400, 401, 403, 404, 409, 413, 415, 422),
    },
    openapi_extra={"requestBody": INBOX_BODY},
    summary="Deliver an XBau message (0200, 0202, 0210, 0212, 0600, 0601, 0303)",
)
async def deliver(request: Request, response: Response, principal: Intermediary) -> dict[str, Any]:
    """Validate and import a message for the principal's authority; idempotent by message UUID."""
    settings = request.app.state.settings
    raw, files, form = await _delivery(request, settings.xbau_max_message_bytes)
    try:
        receipt = await inbox.receive(
            get_db(request),
            request.app.state.store,
            raw=raw,
            files=files,
            via_tenant=principal.tenant,
            max_bytes=settings.xbau_max_message_bytes,
        )
    finally:
        if form is not None:
            await form.close()
    if not receipt.created:
        response.status_code = 200
    return receipt.body


@router.get("/outbox", response_model=OutgoingList, responses=problems(401, 403, 422))
async def list_queue(
    session: ReadSessionDep,
    principal: Intermediary,
    status: Annotated[str, Query(pattern="^(queued|acknowledged|pushing|delivered)$")] = OUT_QUEUED,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OutgoingList:
    """Outgoing messages of the principal's authority, oldest first.

    `queued` (default) are those waiting for pickup; a tenant with a push endpoint has its
    messages `pushing` (in the shared outbox) and then `delivered`.
    """
    rows = await outgoing.list_outgoing(session, principal.tenant, status=status, limit=limit)
    return OutgoingList(items=[outgoing_read(r) for r in rows])


@router.get(
    "/outbox/{outgoing_id}/content",
    responses={200: {"content": {"application/xml": {}}}, **problems(401, 403, 404, 422)},
    response_class=Response,
)
async def message_content(
    outgoing_id: uuid.UUID, session: ReadSessionDep, principal: Intermediary
) -> Response:
    """The message itself (XSD-valid XBau XML)."""
    row = await outgoing.get_outgoing(session, principal.tenant, outgoing_id)
    return Response(row.body, media_type="application/xml")


@router.get(
    "/outbox/{outgoing_id}/attachments/{index}",
    responses={200: {"content": {"*/*": {}}}, **problems(401, 403, 404, 416, 422, 503)},
    response_class=Response,
)
async def attachment_content(
    outgoing_id: uuid.UUID,
    index: int,
    request: Request,
    session: ReadSessionDep,
    principal: Intermediary,
) -> Response:
    """The bytes of one Anlage of an outgoing message."""
    row = await outgoing.get_outgoing(session, principal.tenant, outgoing_id)
    items = row.attachments or []
    if not 0 <= index < len(items):
        raise XBauMessageNotFound(f"keine Anlage {index} / no attachment {index}")
    version = await session.get(DocumentVersion, uuid.UUID(items[index]["version_id"]))
    if version is None or version.tenant_id != principal.tenant:
        raise XBauMessageNotFound(f"keine Anlage {index} / no attachment {index}")
    return await content_response(
        request.app.state.store, version, method=request.method, headers=request.headers
    )


@router.post(
    "/outbox/{outgoing_id}/ack", response_model=OutgoingRead, responses=problems(401, 403, 404, 422)
)
async def acknowledge(
    outgoing_id: uuid.UUID, session: SessionDep, principal: Intermediary
) -> OutgoingRead:
    """The intermediary has taken the message over (idempotent)."""
    row = await outgoing.acknowledge(session, principal.tenant, outgoing_id, by=principal.sub)
    return outgoing_read(row)


@case_router.post(
    "/{participation_id}/xbau",
    status_code=201,
    response_model=OutgoingRead,
    responses=problems(401, 403, 404, 409, 422, 500),
    summary="Send a requested participation to the agency as XBau 0300",
)
async def send_participation(
    case_id: uuid.UUID,
    participation_id: uuid.UUID,
    data: ParticipationRequest,
    session: SessionDep,
    principal: Clerk,
) -> OutgoingRead:
    """Queue a 0300 Aufforderung zur Stellungnahme with the case's Bauvorlagen."""
    case = await get_case(session, principal, case_id)
    row = await outgoing.queue_participation_request(
        session,
        case,
        participation_id=participation_id,
        agency=Authority(kennung=data.agency_kennung, name=data.agency_name),
        reason=data.reason,
    )
    return outgoing_read(row)


def _push_read(endpoint: Any, secret: str | None = None) -> PushEndpointRead:
    return PushEndpointRead(
        url=endpoint.url,
        authority=getattr(endpoint, "authority", None),
        created_by=endpoint.created_by,
        created_at=endpoint.created_at,
        secret=secret,
    )


AuthorityQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=120, description="one of the tenant's XBau addresses"),
]


@router.get("/push", response_model=PushEndpointRead, responses=problems(401, 403, 404, 422))
async def get_push(
    session: ReadSessionDep, principal: Admin, authority: AuthorityQuery = None
) -> PushEndpointRead:
    """The tenant's XBau push endpoint, or that of one of its addresses (`?authority=`)
    (404 `xbau-push-not-configured`: messages are picked up)."""
    return _push_read(await push.get_endpoint(session, principal.tenant, authority))


@router.put("/push", response_model=PushEndpointRead, responses=problems(401, 403, 404, 422))
async def set_push(
    data: PushEndpointSet, session: SessionDep, principal: Admin
) -> PushEndpointRead:
    """Push outgoing XBau messages to this URL; a new HMAC secret is returned once."""
    endpoint, secret = await push.set_endpoint(
        session, principal.tenant, str(data.url), actor=principal, authority=data.authority
    )
    return _push_read(endpoint, secret)


@router.delete("/push", status_code=204, responses=problems(401, 403, 404, 422))
async def delete_push(
    session: SessionDep, principal: Admin, authority: AuthorityQuery = None
) -> None:
    """Remove the tenant's (or an address's) endpoint; messages not yet pushed that now have no
    endpoint go back to pickup (their outbox rows become dead letters)."""
    await push.remove_endpoint(session, principal.tenant, actor=principal, authority=authority)
