"""HTTP endpoints of records management: file plan, closing, reopening, legal hold."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from eakte.auth.principal import CASE_READ_ROLES, Principal, Role
from eakte.cases.service import get_case
from eakte.collab.connection import CASE_CLOSED_REASON
from eakte.deps import ReadSessionDep, SessionDep, require_roles
from eakte.openapi import problems
from eakte.records import service
from eakte.records.guard import refuse_delete
from eakte.records.models import ArchivalValue, FilePlanEntry
from eakte.records.schemas import (
    CaseClose,
    CaseRecordRead,
    FilePlan,
    FilePlanEntryRead,
    FilePlanEntryWrite,
    ReasonBody,
)

router = APIRouter(prefix="/api/v1", tags=["records"])

Reader = Annotated[Principal, Depends(require_roles(*CASE_READ_ROLES))]
Closer = Annotated[Principal, Depends(require_roles(Role.clerk, Role.approver, Role.admin))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z.\-/]+$")]


def _entry(row: FilePlanEntry) -> FilePlanEntryRead:
    return FilePlanEntryRead(
        code=row.code,
        title=row.title,
        retention_years=row.retention_years,
        archival_value=ArchivalValue(row.archival_value),
        is_default=row.is_default,
    )


@router.get("/records/file-plan", response_model=FilePlan, responses=problems(401, 403))
async def get_file_plan(session: SessionDep, principal: Reader) -> FilePlan:
    """The tenant's file plan (Aktenplan): codes, retention periods, archival value."""
    return FilePlan(items=[_entry(e) for e in await service.file_plan(session, principal.tenant)])


@router.put(
    "/records/file-plan/{code}",
    response_model=FilePlanEntryRead,
    responses=problems(401, 403, 422),
)
async def put_file_plan_entry(
    code: Code, data: FilePlanEntryWrite, session: SessionDep, principal: Admin
) -> FilePlanEntryRead:
    """Create or change one code of the file plan (admin; audited)."""
    return _entry(await service.put_entry(session, principal, code, data))


@router.get(
    "/cases/{case_id}/record",
    response_model=CaseRecordRead,
    responses=problems(401, 403, 404, 422),
)
async def get_record(case_id: uuid.UUID, session: SessionDep, principal: Reader) -> CaseRecordRead:
    """The case's record state: closed, file plan code, retention end, legal hold."""
    return await service.read(session, await get_case(session, principal, case_id))


@router.post(
    "/cases/{case_id}/record/closing",
    response_model=CaseRecordRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def close_case(
    case_id: uuid.UUID, data: CaseClose, request: Request, session: SessionDep, principal: Closer
) -> CaseRecordRead:
    """Close the case (abschließen) once its procedure has ended; it becomes read-only."""
    case = await service.close_case(session, principal, case_id, file_plan_code=data.file_plan_code)
    hub = getattr(request.app.state, "collab", None)
    if hub is not None:  # officials still editing the workspace can read on, not write
        await hub.close_for_writing(case.id, CASE_CLOSED_REASON)
    return await service.read(session, case)


@router.post(
    "/cases/{case_id}/record/reopening",
    response_model=CaseRecordRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def reopen_case(
    case_id: uuid.UUID, data: ReasonBody, session: SessionDep, principal: Closer
) -> CaseRecordRead:
    """Reopen a closed case; the reason is kept in the audit trail."""
    case = await service.reopen_case(session, principal, case_id, reason=data.reason)
    return await service.read(session, case)


@router.post(
    "/cases/{case_id}/record/legal-hold",
    response_model=CaseRecordRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def set_hold(
    case_id: uuid.UUID, data: ReasonBody, session: SessionDep, principal: Admin
) -> CaseRecordRead:
    """Put a legal hold on the case (admin): it is neither offered nor destroyed."""
    case = await service.set_hold(session, principal, case_id, reason=data.reason)
    return await service.read(session, case)


@router.post(
    "/cases/{case_id}/record/legal-hold/lifting",
    response_model=CaseRecordRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def lift_hold(
    case_id: uuid.UUID, data: ReasonBody, session: SessionDep, principal: Admin
) -> CaseRecordRead:
    """Lift the legal hold (admin, with a reason)."""
    case = await service.lift_hold(session, principal, case_id, reason=data.reason)
    return await service.read(session, case)


@router.delete("/cases/{case_id}", status_code=204, responses=problems(401, 403, 404, 409, 422))
async def delete_case(case_id: uuid.UUID, session: ReadSessionDep, principal: Reader) -> Response:
    """Always refused (409): a case file is disposed of only through Aussonderung."""
    case = await get_case(session, principal, case_id)
    raise refuse_delete(f"Die Akte {case.file_number}")
