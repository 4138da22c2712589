"""HTTP endpoints of the officials' daily work: my cases, signing inbox, deadlines, directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from eakte.auth.principal import CASE_READ_ROLES, OFFICIAL_ROLES, Principal, Role
from eakte.deps import ReadSessionDep, SessionDep, require_roles
from eakte.openapi import problems
from eakte.tenants import members as directory
from eakte.work import service
from eakte.work.schemas import DeadlineList, MemberList, MemberRead, WorkList

router = APIRouter(prefix="/api/v1", tags=["work"])

Official = Annotated[Principal, Depends(require_roles(*CASE_READ_ROLES))]
AnyOfficial = Annotated[Principal, Depends(require_roles(*OFFICIAL_ROLES))]
Offset = Annotated[int, Query(ge=0, le=100_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
Sort = Annotated[service.WorkSort, Query(description="column; the markers always come first")]
Order = Annotated[service.Order, Query()]
Kind = Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9_]{1,80}$")]
Sub = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/worklist/mine", response_model=WorkList, responses=problems(401, 403, 422))
async def my_cases(
    session: ReadSessionDep,
    principal: Official,
    sort: Sort = "due",
    order: Order = "asc",
    offset: Offset = 0,
    limit: Limit = 50,
) -> WorkList:
    """ "Meine Vorgänge": cases you are Sachbearbeiter or Vertretung of, with state and next
    deadline; overdue cases and cases near a Genehmigungsfiktion first."""
    return await service.my_cases(
        session, principal, sort=sort, order=order, offset=offset, limit=limit
    )


@router.get("/worklist/signing", response_model=WorkList, responses=problems(401, 403, 422))
async def signing_inbox(
    session: ReadSessionDep,
    principal: Official,
    sort: Sort = "due",
    order: Order = "asc",
    offset: Offset = 0,
    limit: Limit = 50,
) -> WorkList:
    """ "Zur Zeichnung": the tenant's cases whose decision draft waits for a signature."""
    return await service.signing_inbox(
        session, principal, sort=sort, order=order, offset=offset, limit=limit
    )


@router.get("/deadlines", response_model=DeadlineList, responses=problems(401, 403, 422))
async def running_deadlines(
    session: ReadSessionDep,
    principal: Official,
    kind: Kind = None,
    official: Annotated[Sub, Query(description="Sachbearbeiter or Vertretung (token sub)")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DeadlineList:
    """ "Fristen": every running deadline of the authority, the one ending first first."""
    return await service.running_deadlines(
        session, principal, kind=kind, official=official, offset=offset, limit=limit
    )


@router.put("/directory/me", response_model=MemberRead, responses=problems(401, 403))
async def announce_me(session: SessionDep, principal: AnyOfficial) -> MemberRead:
    """Enter yourself (name and roles from your token) in the authority's directory; the app
    does this at sign-in so colleagues can assign you and ask you in a Beteiligung."""
    member = await directory.remember(session, principal)
    assert member is not None  # every official role is listed
    return MemberRead(sub=member.sub, name=member.name, roles=list(member.roles))


@router.get("/directory", response_model=MemberList, responses=problems(401, 403, 422))
async def list_members(
    session: ReadSessionDep,
    principal: Official,
    role: Annotated[Role | None, Query(description="only officials holding this role")] = None,
) -> MemberList:
    """The authority's officials who have signed in (pickers for assignment and agencies)."""
    return MemberList(
        items=[
            MemberRead(sub=m.sub, name=m.name, roles=list(m.roles))
            for m in await directory.members(session, principal.tenant, role=role)
        ]
    )
