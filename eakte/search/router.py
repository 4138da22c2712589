"""HTTP endpoint of document search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from eakte.auth.principal import CASE_READ_ROLES, Principal, Role
from eakte.deps import ReadSessionDep, require_roles
from eakte.openapi import problems
from eakte.search import service
from eakte.search.schemas import SearchResult

router = APIRouter(prefix="/api/v1", tags=["search"])

Reader = Annotated[Principal, Depends(require_roles(*(CASE_READ_ROLES | {Role.agency})))]


@router.get("/search", response_model=SearchResult, responses=problems(401, 403, 422))
async def search(
    session: ReadSessionDep,
    principal: Reader,
    q: Annotated[str, Query(min_length=1, max_length=200, description="words to find")],
    gemarkung: Annotated[str | None, Query(max_length=120)] = None,
    flurstueck: Annotated[str | None, Query(max_length=60, examples=["1234/5"])] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResult:
    """Documents whose text matches `q`, best first, with a marked snippet.

    Only the current version of documents that are not withdrawn, in cases the caller may
    see (its tenant; an agency only the cases it is asked on).
    """
    items = await service.search_documents(
        session, principal, q=q, gemarkung=gemarkung, flurstueck=flurstueck, limit=limit
    )
    return SearchResult(items=items)
