"""Post room routes: make, list and download daily print batches; confirm them as posted."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.principal import Principal, Role
from eakte.deps import ReadSessionDep, SessionDep, require_roles
from eakte.issuing.letters import SPECS, LetterType
from eakte.issuing.service import letterhead_for
from eakte.openapi import problems
from eakte.postroom import service
from eakte.postroom.models import PrintBatch
from eakte.postroom.schemas import (
    BatchCreate,
    BatchLetter,
    BatchPosted,
    BatchRead,
    SkippedLetter,
)
from eakte.process.service import local_today

router = APIRouter(prefix="/api/v1/postroom", tags=["postroom"])

Postroom = Annotated[Principal, Depends(require_roles(Role.postroom, Role.admin))]
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "Druckstapel (PDF)"}
}


async def batch_read(
    session: AsyncSession,
    batch: PrintBatch,
    *,
    items: bool = True,
    skipped: list[service.Skipped] | None = None,
) -> BatchRead:
    """The API shape of a batch (with its letters in print order)."""
    letters = []
    if items:
        for item, record, case in await service.batch_items(session, batch):
            letters.append(
                BatchLetter(
                    position=item.position or 0,
                    issued_id=record.id,
                    case_id=case.id,
                    file_number=case.file_number,
                    addressee_name=record.addressee_name,
                    postcode=service.postcode(record.addressee_address),
                    letter_type=record.letter_type,
                    label_de=SPECS[LetterType(record.letter_type)].label_de,
                    pages=item.pages or 0,
                    first_page=item.first_page or 0,
                    posted_on=record.posted_on,
                    bekanntgabe_on=record.bekanntgabe_on,
                )
            )
    return BatchRead(
        id=batch.id,
        date=batch.batch_date,
        letters=batch.letters,
        pages=batch.pages,
        sha256=batch.sha256,
        created_at=batch.created_at,
        posted_on=batch.posted_on,
        posted_at=batch.posted_at,
        content_url=f"/api/v1/postroom/batches/{batch.id}/content",
        items=letters,
        skipped=[
            SkippedLetter(
                issued_id=s.issued_id,
                file_number=s.file_number,
                reason_de=s.reason_de,
                reason_en=s.reason_en,
            )
            for s in skipped or []
        ],
    )


@router.get("/batches", response_model=list[BatchRead], responses=problems(401, 403, 422))
async def list_batches(session: ReadSessionDep, principal: Postroom) -> list[BatchRead]:
    """The tenant's print batches, newest day first (without their letters)."""
    return [
        await batch_read(session, b, items=False)
        for b in await service.list_batches(session, principal.tenant)
    ]


@router.post(
    "/batches",
    response_model=BatchRead,
    status_code=201,
    responses={200: {"model": BatchRead}, **problems(401, 403, 409, 422)},
)
async def create_batch(
    body: BatchCreate, request: Request, session: SessionDep, principal: Postroom
) -> Response:
    """Make the day's batch of every queued letter (201); the day's existing batch is returned
    unchanged (200), so a re-run never prints a letter twice."""
    day = body.date or local_today()
    head = await letterhead_for(session, principal.tenant)
    batch, created = await service.build_batch(
        session,
        request.app.state.store,
        tenant=principal.tenant,
        day=day,
        actor=principal.sub,
        authority=head.authority_name,
    )
    read = await batch_read(session, batch)
    return JSONResponse(read.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/batches/{batch_id}", response_model=BatchRead, responses=problems(401, 403, 404, 422))
async def get_batch(batch_id: uuid.UUID, session: ReadSessionDep, principal: Postroom) -> BatchRead:
    """One batch with its letters in print order."""
    return await batch_read(session, await service.get_batch(session, principal.tenant, batch_id))


@router.get(
    "/batches/{batch_id}/content",
    response_class=Response,
    responses={**PDF_RESPONSE, **problems(401, 403, 404, 422)},
)
async def batch_content(
    batch_id: uuid.UUID, request: Request, session: ReadSessionDep, principal: Postroom
) -> Response:
    """The batch PDF: cover list, then every letter starting on an odd page."""
    batch = await service.get_batch(session, principal.tenant, batch_id)
    pdf = await service.batch_pdf(request.app.state.store, batch)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="druckstapel-{batch.batch_date}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/batches/{batch_id}/posted",
    response_model=BatchRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def confirm_posted(
    batch_id: uuid.UUID, body: BatchPosted, session: SessionDep, principal: Postroom
) -> BatchRead:
    """Confirm the batch as handed to the post: each letter's Bekanntgabe follows from the
    posting day (Art. 41 Abs. 2 BayVwVfG); letters that could not be made known are listed."""
    batch, skipped = await service.confirm_posted(session, principal, batch_id, body.posted_on)
    return await batch_read(session, batch, skipped=skipped)
