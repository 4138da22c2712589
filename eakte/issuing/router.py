"""Issuing routes: templates and letterhead (admin), drafts, preview, signing, Bekanntgabe."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from eakte.auth.principal import CASE_READ_ROLES, CASE_WRITE_ROLES, OFFICIAL_ROLES, Principal, Role
from eakte.deps import ReadSessionDep, SessionDep, SettingsDep, require_roles
from eakte.documents.service import content_url
from eakte.issuing import service
from eakte.issuing.letters import SPECS, LetterType, allowed_placeholders
from eakte.issuing.models import IssuedDocument
from eakte.issuing.schemas import (
    Bekanntgabe,
    DraftCreate,
    DraftUpdate,
    IssuedRead,
    LetterheadRead,
    LetterheadWrite,
    TemplateRead,
    TemplateWrite,
)
from eakte.issuing.templates import default_version
from eakte.openapi import problems
from eakte.process import bekanntgabe as process_bekanntgabe

router = APIRouter(prefix="/api/v1", tags=["issuing"])

Official = Annotated[Principal, Depends(require_roles(*OFFICIAL_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*CASE_READ_ROLES))]
Writer = Annotated[Principal, Depends(require_roles(*CASE_WRITE_ROLES))]
Approver = Annotated[Principal, Depends(require_roles(Role.approver))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
PDF_RESPONSE = {200: {"content": {"application/pdf": {}}, "description": "PDF/A-2b"}}


def issued_read(r: IssuedDocument) -> IssuedRead:
    """The API shape of an issued document."""
    base = f"/api/v1/cases/{r.case_id}/issued/{r.id}"
    number = r.signed_version or r.draft_version
    return IssuedRead(
        id=r.id,
        case_id=r.case_id,
        document_id=r.document_id,
        letter_type=LetterType(r.letter_type),
        label_de=SPECS[LetterType(r.letter_type)].label_de,
        state=r.state,
        addressee_kind=r.addressee_kind,
        addressee_name=r.addressee_name,
        channel=r.channel,
        verification_ref=r.verification_ref,
        template_version=r.template_version,
        default_version=r.default_version,
        letterhead_version=r.letterhead_version,
        enclosure_id=r.enclosure_id,
        draft_version=r.draft_version,
        signed_version=r.signed_version,
        signed_sha256=r.signed_sha256,
        drafted_by_name=r.drafted_by_name,
        signed_by_name=r.signed_by_name,
        signed_at=r.signed_at,
        posted_on=r.posted_on,
        bekanntgabe_on=r.bekanntgabe_on,
        bekanntgabe_rule=r.bekanntgabe_rule,
        bekanntgegeben_at=r.bekanntgegeben_at,
        preview_url=f"{base}/preview",
        content_url=content_url(r.case_id, r.document_id, number),
    )


def _template_read(
    letter_type: LetterType, version: int, subject: str, body: str, *, newer_default: bool = False
) -> TemplateRead:
    spec = SPECS[letter_type]
    return TemplateRead(
        letter_type=letter_type,
        label_de=spec.label_de,
        legal_basis=spec.legal_basis,
        version=version,
        default_version=default_version(letter_type),
        newer_default=newer_default,
        subject=subject,
        body=body,
        placeholders=sorted(allowed_placeholders(letter_type)),
    )


@router.get(
    "/issuing/templates", response_model=list[TemplateRead], responses=problems(401, 403, 422)
)
async def list_templates(session: ReadSessionDep, principal: Official) -> list[TemplateRead]:
    """Every letter type with the tenant's current template (version 0 = shipped default);
    `newer_default` marks a tenant template saved before the shipped default last changed (the
    tenant's text is never replaced: an admin compares and saves a new version)."""
    out = []
    for letter_type in LetterType:
        version, subject, body = await service.template_for(session, principal.tenant, letter_type)
        newer = await service.newer_default(session, principal.tenant, letter_type, version)
        out.append(_template_read(letter_type, version, subject, body, newer_default=newer))
    return out


@router.put(
    "/issuing/templates/{letter_type}",
    response_model=TemplateRead,
    responses=problems(401, 403, 404, 422),
)
async def save_template(
    letter_type: LetterType, body: TemplateWrite, session: SessionDep, principal: Admin
) -> TemplateRead:
    """Save a new version; a syntax error or an unknown placeholder is refused (422)."""
    row = await service.save_template(session, principal, letter_type, body.subject, body.body)
    return _template_read(letter_type, row.version, row.subject, row.body)


@router.get("/issuing/letterhead", response_model=LetterheadRead, responses=problems(401, 403, 422))
async def get_letterhead(session: ReadSessionDep, principal: Official) -> LetterheadRead:
    """The tenant's current letterhead (version 0 = default with the tenant's name)."""
    head = await service.letterhead_for(session, principal.tenant)
    return LetterheadRead(**head.__dict__)


@router.put("/issuing/letterhead", response_model=LetterheadRead, responses=problems(401, 403, 422))
async def save_letterhead(
    body: LetterheadWrite, session: SessionDep, principal: Admin
) -> LetterheadRead:
    """Save a new letterhead version (authority, address, contact, signature, remedy notice)."""
    row = await service.save_letterhead(session, principal, body.model_dump())
    return LetterheadRead(version=row.version, **body.model_dump())


@router.post(
    "/cases/{case_id}/issued",
    response_model=IssuedRead,
    status_code=201,
    responses=problems(401, 403, 404, 409, 422),
)
async def draft(
    case_id: uuid.UUID, body: DraftCreate, request: Request, session: SessionDep, principal: Writer
) -> IssuedRead:
    """Draft a letter from the tenant's template; the draft PDF is visible to officials only."""
    record = await service.draft(session, request.app.state.store, principal, case_id, body)
    return issued_read(record)


@router.get(
    "/cases/{case_id}/issued",
    response_model=list[IssuedRead],
    responses=problems(401, 403, 404, 422),
)
async def list_issued(
    case_id: uuid.UUID, session: ReadSessionDep, principal: Reader
) -> list[IssuedRead]:
    """The case's letters and decisions in every state."""
    return [issued_read(r) for r in await service.list_issued(session, principal, case_id)]


@router.get(
    "/cases/{case_id}/issued/{issued_id}",
    response_model=IssuedRead,
    responses=problems(401, 403, 404, 422),
)
async def get_issued(
    case_id: uuid.UUID, issued_id: uuid.UUID, session: ReadSessionDep, principal: Reader
) -> IssuedRead:
    """One letter or decision."""
    _, record = await service.get_issued(session, principal, case_id, issued_id)
    return issued_read(record)


@router.patch(
    "/cases/{case_id}/issued/{issued_id}",
    response_model=IssuedRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def update_draft(
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    body: DraftUpdate,
    request: Request,
    session: SessionDep,
    principal: Writer,
) -> IssuedRead:
    """Complete or correct a draft (addressee, channel, data); rendered again as a new version.
    The editor counts as the drafter (four eyes)."""
    record = await service.update_draft(
        session, request.app.state.store, principal, case_id, issued_id, body
    )
    return issued_read(record)


@router.get(
    "/cases/{case_id}/issued/{issued_id}/preview",
    response_class=Response,
    responses={**PDF_RESPONSE, **problems(401, 403, 404, 409, 422)},
)
async def preview(
    case_id: uuid.UUID, issued_id: uuid.UUID, session: ReadSessionDep, principal: Reader
) -> Response:
    """The PDF exactly as it will be sealed, for checking before signing."""
    pdf = await service.preview(session, principal, case_id, issued_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'inline; filename="vorschau.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/cases/{case_id}/issued/{issued_id}/sign",
    response_model=IssuedRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def sign(
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Approver,
) -> IssuedRead:
    """Zeichnung (approver, not the drafter): render, seal (PAdES) and freeze the final PDF."""
    record = await service.sign(
        session, request.app.state.store, settings, principal, case_id, issued_id
    )
    return issued_read(record)


@router.post(
    "/cases/{case_id}/issued/{issued_id}/bekanntgabe",
    response_model=IssuedRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def bekanntgabe(
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    body: Bekanntgabe,
    session: SessionDep,
    principal: Writer,
) -> IssuedRead:
    """Make a signed document known: electronic provision or posting (Bekanntgabe date).

    A posted decision the procedure awaits is recorded as the procedure's Bekanntgabe too
    (it stops the Fiktion clock, Art. 42a Abs. 1 BayVwVfG, and starts the Geltungsdauer)."""
    record = await process_bekanntgabe.make_letter_known(
        session,
        principal,
        case_id,
        issued_id,
        channel=body.channel,
        posted_on=body.posted_on,
        served_on=body.served_on,
    )
    return issued_read(record)
