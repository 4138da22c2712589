"""Audit trail verification over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from eakte.audit.service import verify_tenant
from eakte.auth.principal import AUDIT_ROLES, Principal
from eakte.deps import ReadSessionDep, require_roles
from eakte.openapi import problems

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

Auditor = Annotated[Principal, Depends(require_roles(*AUDIT_ROLES))]


class VerifyReport(BaseModel):
    """Whether the tenant's hash chain is intact, and where it first breaks."""

    valid: bool
    events: int
    first_broken: dict[str, Any] | None


@router.get("/verify", response_model=VerifyReport, responses=problems(401, 403))
async def verify(session: ReadSessionDep, principal: Auditor) -> VerifyReport:
    """Walk the caller's tenant's audit chain and recompute every hash."""
    result = await verify_tenant(session, principal.tenant)
    return VerifyReport(valid=result.valid, events=result.events, first_broken=result.first_broken)
