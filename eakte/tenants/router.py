"""Admin API for tenants: a city's admin manages its own; the operator tenant's admins all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from eakte.auth.principal import Principal, Role
from eakte.deps import ReadSessionDep, SessionDep, SettingsDep, require_roles
from eakte.errors import Forbidden, TenantNotFound
from eakte.openapi import problems
from eakte.tenants import admin
from eakte.tenants.schemas import SLUG_PATTERN, TenantCreate, TenantList, TenantRead, TenantUpdate
from eakte.tenants.service import get_tenant

router = APIRouter(prefix="/api/v1/admin/tenants", tags=["tenants"])

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Slug = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=40)]


def _is_operator(principal: Principal, operator_tenant: str | None) -> bool:
    return operator_tenant is not None and principal.tenant == operator_tenant


def _visible(principal: Principal, operator_tenant: str | None, slug: str) -> None:
    # another city's configuration is a 404 like any other tenant's id
    if slug != principal.tenant and not _is_operator(principal, operator_tenant):
        raise TenantNotFound(f"Kein Mandant {slug!r} / no tenant {slug!r}")


@router.get("", response_model=TenantList, responses=problems(401, 403))
async def list_tenants(
    session: ReadSessionDep, principal: Admin, settings: SettingsDep
) -> TenantList:
    """All cities (operator) or only the caller's own."""
    tenants = await admin.list_tenants(session)
    if not _is_operator(principal, settings.operator_tenant):
        tenants = [t for t in tenants if t.slug == principal.tenant]
    return TenantList(items=[admin.to_read(t) for t in tenants])


@router.post("", status_code=201, response_model=TenantRead, responses=problems(401, 403, 409, 422))
async def create_tenant(
    data: TenantCreate,
    session: SessionDep,
    principal: Admin,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> TenantRead:
    """Create a city (only admins of the operator tenant, EAKTE_OPERATOR_TENANT)."""
    if not _is_operator(principal, settings.operator_tenant):
        raise Forbidden(
            "Nur der Betreiber legt Mandanten an (EAKTE_OPERATOR_TENANT) / only the operator "
            "tenant's admins create tenants"
        )
    tenant = await admin.create_tenant(session, data)
    request.app.state.tenants.forget()
    response.headers["Location"] = f"/api/v1/admin/tenants/{tenant.slug}"
    return admin.to_read(tenant)


@router.get("/{slug}", response_model=TenantRead, responses=problems(401, 403, 404, 422))
async def show_tenant(
    slug: Slug, session: ReadSessionDep, principal: Admin, settings: SettingsDep
) -> TenantRead:
    """One city's configuration."""
    _visible(principal, settings.operator_tenant, slug)
    return admin.to_read(await get_tenant(session, slug))


@router.patch("/{slug}", response_model=TenantRead, responses=problems(401, 403, 404, 409, 422))
async def update_tenant(
    slug: Slug,
    data: TenantUpdate,
    session: SessionDep,
    principal: Admin,
    settings: SettingsDep,
    request: Request,
) -> TenantRead:
    """Change a city's configuration (fields not sent stay as they are)."""
    _visible(principal, settings.operator_tenant, slug)
    tenant = await admin.update_tenant(session, slug, data)
    request.app.state.tenants.forget()
    return admin.to_read(tenant)
