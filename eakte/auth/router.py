"""Who am I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from eakte.deps import CurrentPrincipal
from eakte.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Me(BaseModel):
    """The authenticated principal."""

    sub: str
    tenant: str
    roles: list[str]
    name: str


@router.get("/me", response_model=Me, responses=problems(401))
async def me(principal: CurrentPrincipal) -> Me:
    """The principal the bearer token stands for."""
    return Me(
        sub=principal.sub,
        tenant=principal.tenant,
        roles=sorted(r.value for r in principal.roles),
        name=principal.name,
    )
