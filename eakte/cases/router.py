"""HTTP endpoints of case files."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from eakte.auth.principal import CASE_READ_ROLES, CASE_WRITE_ROLES, Principal, Role
from eakte.cases import service
from eakte.cases.schemas import AssignmentUpdate, CaseHistory, CaseList, CaseRead, CaseUpdate
from eakte.deps import ReadSessionDep, SessionDep, require_roles
from eakte.errors import PreconditionFailed, PreconditionRequired
from eakte.openapi import problems

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

Writer = Annotated[Principal, Depends(require_roles(*CASE_WRITE_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*(CASE_READ_ROLES | {Role.agency})))]

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def etag(case_revision: int) -> str:
    """The strong ETag of a case at a revision."""
    return f'"{case_revision}"'


def parse_if_match(value: str | None) -> int:
    """The revision an `If-Match` header names; 428 if missing, 412 if unusable."""
    if value is None or not value.strip():
        raise PreconditionRequired('send If-Match: "<revision>" (the ETag from GET)')
    match = _IF_MATCH.match(value)
    if match is None:
        raise PreconditionFailed(f"If-Match {value!r} does not name a revision")
    return int(match.group(1))


@router.get("", response_model=CaseList, responses=problems(400, 401, 403, 422))
async def list_cases(
    session: ReadSessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[str | None, Query(max_length=60)] = None,
    procedure: Annotated[str | None, Query(max_length=60)] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="full-text search: case data and document text"),
    ] = None,
    gemarkung: Annotated[str | None, Query(max_length=120)] = None,
    flurstueck: Annotated[str | None, Query(max_length=60, examples=["1234/5"])] = None,
) -> CaseList:
    """List the tenant's cases, newest first, filtered and paged by cursor."""
    rows, next_cursor = await service.list_cases(
        session,
        principal,
        limit=limit,
        cursor=cursor,
        state=state,
        procedure=procedure,
        q=q,
        gemarkung=gemarkung,
        flurstueck=flurstueck,
    )
    return CaseList(items=[service.to_read(c) for c in rows], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CaseRead, responses=problems(401, 403, 404, 422))
async def get_case(
    case_id: uuid.UUID, session: ReadSessionDep, principal: Reader, response: Response
) -> CaseRead:
    """One case file; its ETag is the revision to send as If-Match."""
    case = await service.get_case(session, principal, case_id)
    response.headers["ETag"] = etag(case.revision)
    return service.to_read(case)


@router.patch(
    "/{case_id}",
    response_model=CaseRead,
    responses=problems(401, 403, 404, 412, 413, 422, 428),
)
async def update_case(
    case_id: uuid.UUID,
    data: CaseUpdate,
    session: SessionDep,
    principal: Writer,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> CaseRead:
    """Change some fields; requires `If-Match` with the current revision."""
    expected = parse_if_match(if_match)
    case = await service.update_case(session, principal, case_id, data, expected_revision=expected)
    response.headers["ETag"] = etag(case.revision)
    return service.to_read(case)


@router.put(
    "/{case_id}/assignment",
    response_model=CaseRead,
    responses=problems(401, 403, 404, 409, 412, 422),
    summary="Assign the Sachbearbeiter and the Vertretung",
)
async def assign_case(
    case_id: uuid.UUID,
    data: AssignmentUpdate,
    session: SessionDep,
    principal: Writer,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> CaseRead:
    """Set who is responsible for the case and who deputises (clerks who have signed in;
    `null` clears). Audited as `case.assigned`; the case's revision does not change.

    With `If-Match: <assignment_tag>` (from GET the case) the change is refused with 412
    `assignment-conflict` if someone else changed the assignment meanwhile; the ETag of the
    answer is the new tag."""
    case = await service.assign_case(session, principal, case_id, data, if_match=if_match)
    response.headers["ETag"] = service.assignment_tag(case)
    return service.to_read(case)


Historian = Annotated[Principal, Depends(require_roles(*CASE_READ_ROLES))]


@router.get(
    "/{case_id}/history", response_model=CaseHistory, responses=problems(401, 403, 404, 422)
)
async def case_history(
    case_id: uuid.UUID, session: ReadSessionDep, principal: Historian
) -> CaseHistory:
    """Every recorded change of the case, oldest first (not for agencies: the audit payloads
    carry internal notes)."""
    return CaseHistory(items=await service.history(session, principal, case_id))
