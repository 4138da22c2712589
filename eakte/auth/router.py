"""Who am I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from eakte.deps import CurrentPrincipal, ReadSessionDep
from eakte.openapi import problems
from eakte.tenants.models import Tenant

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Me(BaseModel):
    """The authenticated principal."""

    sub: str
    tenant: str
    tenant_name: str = Field(description="the authority's display name, e.g. Stadt Augsburg")
    roles: list[str]
    name: str


@router.get("/me", response_model=Me, responses=problems(401))
async def me(principal: CurrentPrincipal, session: ReadSessionDep) -> Me:
    """The principal the bearer token stands for, with the authority's display name."""
    tenant = await session.get(Tenant, principal.tenant)
    return Me(
        sub=principal.sub,
        tenant=principal.tenant,
        tenant_name=tenant.name if tenant is not None else principal.tenant,
        roles=sorted(r.value for r in principal.roles),
        name=principal.name,
    )
