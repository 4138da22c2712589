"""Admin routes of the Aussonderung: build the offer (0501), receive the archive's messages."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import func, select

from eakte.auth.principal import AUDIT_ROLES, Principal, Role
from eakte.config import Settings
from eakte.deps import get_db, require_roles
from eakte.openapi import problems
from eakte.process.service import local_today
from eakte.records import aussonderung
from eakte.records.errors import InvalidMessage, OfferNotFound
from eakte.records.models import CaseRecord, Offer
from eakte.records.schemas import MessageNote, OfferCreate, OfferRead
from eakte.records.xdomea import messages

router = APIRouter(prefix="/api/v1/records/offers", tags=["records"])

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Viewer = Annotated[Principal, Depends(require_roles(*AUDIT_ROLES))]
XML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/xml": {"schema": {"type": "string"}}},
        "description": "an xdomea 3.0.0 message of the archive: 0502, 0504, 0506 or 0507",
    }
}


def _base(request: Request) -> Path:
    settings: Settings = request.app.state.settings
    return settings.records_export_dir or settings.data_dir / "aussonderung"


async def _read(request: Request, tenant: str, process_id: uuid.UUID, xml: str | None) -> OfferRead:
    async with get_db(request).session(write=False) as session:
        offer = await session.scalar(
            select(Offer).where(Offer.id == process_id, Offer.tenant_id == tenant)
        )
        if offer is None:
            raise OfferNotFound(f"keine Aussonderung {process_id} / no Aussonderung {process_id}")
        cases = await session.scalar(
            select(func.count()).select_from(CaseRecord).where(CaseRecord.offer_id == offer.id)
        )
    return OfferRead(
        process_id=offer.id,
        state=offer.state,
        created_by=offer.created_by,
        created_at=offer.created_at,
        cases=int(cases or 0),
        messages=[
            MessageNote(code=code, at=str(note.get("at", "")), sha256=note.get("sha256"))
            for code, note in sorted(offer.messages.items())
        ],
        package_sha256=offer.package_sha256,
        xml=xml,
    )


@router.post("", status_code=201, response_model=OfferRead, responses=problems(401, 403, 409, 422))
async def create_offer(
    data: OfferCreate, request: Request, principal: Admin, response: Response
) -> OfferRead:
    """Offer the due cases to the archive: builds and validates the Anbieteverzeichnis (0501)."""
    built = await aussonderung.make_offer(
        get_db(request),
        _base(request),
        principal.tenant,
        today=data.today or local_today(),
        actor=principal.sub,
    )
    response.headers["Location"] = f"/api/v1/records/offers/{built.process_id}"
    async with get_db(request).session(write=False) as session:
        offer = await session.get(Offer, built.process_id)
    xml = offer.messages["0501"]["xml"] if offer is not None else None
    return await _read(request, principal.tenant, built.process_id, xml)


@router.get("/{process_id}", response_model=OfferRead, responses=problems(401, 403, 404, 422))
async def get_offer(process_id: uuid.UUID, request: Request, principal: Viewer) -> OfferRead:
    """State and messages of one Aussonderung."""
    return await _read(request, principal.tenant, process_id, None)


@router.post(
    "/{process_id}/messages",
    response_model=OfferRead,
    responses=problems(400, 401, 403, 404, 409, 413, 422),
    openapi_extra=XML_BODY,
)
async def receive_message(process_id: uuid.UUID, request: Request, principal: Admin) -> OfferRead:
    """Receive the archive's 0502 (appraisal), 0504/0507 (receipts) or 0506 (import result).

    The message is validated against the XSD and must carry this ProzessID; after an 0506
    the imported cases' content is deleted here (the destruction records stay).
    """
    data = await request.body()
    name = aussonderung.message_name(data)
    incoming = messages.read(data, name) if name.startswith("Aussonderung.") else None
    if incoming is None or incoming.process_id != process_id:
        raise InvalidMessage(
            "the message does not belong to this Aussonderung",
            errors=[f"root {name}" if incoming is None else f"ProzessID {incoming.process_id}"],
        )
    db, tenant, xml = get_db(request), principal.tenant, None
    if name == messages.BEWERTUNGSVERZEICHNIS:
        built = await aussonderung.import_appraisal(
            db, _base(request), tenant, data, actor=principal.sub
        )
        xml = built.path.read_text(encoding="utf-8")
    elif name == messages.IMPORT_BESTAETIGEN:
        await aussonderung.import_confirmation(
            db, request.app.state.store, tenant, data, actor=principal.sub
        )
    else:
        await aussonderung.receive_receipt(db, tenant, data, actor=principal.sub)
    return await _read(request, tenant, process_id, xml)
