"""Create, change and list tenants (the CLI and the admin API call these)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.db import utcnow
from eakte.tenants.errors import InvalidTenantSetting, IssuerInUse, TenantExists
from eakte.tenants.models import Tenant
from eakte.tenants.schemas import (
    AuthorityAddress,
    Contact,
    IdentityProvider,
    TenantCreate,
    TenantRead,
    TenantUpdate,
)
from eakte.tenants.service import ensure_tenant, get_tenant, validate_file_number_pattern
from workflows.calendar import get_calendar


def _check_calendar(name: str) -> None:
    try:
        get_calendar(name)
    except ValueError as exc:
        raise InvalidTenantSetting(
            f"Unbekannter Feiertagskalender / {exc}", field="holiday_calendar"
        ) from exc


def _check_pattern(pattern: str) -> None:
    try:
        validate_file_number_pattern(pattern)
    except ValueError as exc:
        raise InvalidTenantSetting(
            f"Ungültiges Aktenzeichen-Muster (Platzhalter {{year}} und {{seq:05d}}) / {exc}",
            field="file_number_pattern",
        ) from exc


async def _check_issuer(session: AsyncSession, issuer: str, slug: str) -> None:
    owner = await session.scalar(select(Tenant.slug).where(Tenant.idp_issuer == issuer))
    if owner is not None and owner != slug:
        raise IssuerInUse(
            f"Der Issuer {issuer} gehört zum Mandanten {owner} / issuer {issuer} already "
            f"belongs to tenant {owner}"
        )


def _apply(tenant: Tenant, data: TenantCreate | TenantUpdate) -> None:
    if data.authority_address is not None:
        tenant.authority_address = data.authority_address.model_dump()
    if data.contact is not None:
        tenant.contact = data.contact.model_dump()
    if data.file_number_pattern is not None:
        tenant.file_number_pattern = data.file_number_pattern
    if data.holiday_calendar is not None:
        tenant.holiday_calendar = data.holiday_calendar
    if data.allowed_media_types is not None:
        tenant.allowed_media_types = list(data.allowed_media_types)
    if data.max_upload_bytes is not None:
        tenant.max_upload_bytes = data.max_upload_bytes
    if data.identity_provider is not None:
        tenant.identity_provider = data.identity_provider.model_dump(mode="json")
        tenant.idp_issuer = data.identity_provider.issuer


async def create_tenant(session: AsyncSession, data: TenantCreate) -> Tenant:
    """A new city with its audit chain; TenantExists if the slug is taken."""
    if await session.get(Tenant, data.slug) is not None:
        raise TenantExists(
            f"Der Mandant {data.slug!r} existiert bereits / tenant {data.slug!r} exists"
        )
    if data.file_number_pattern is not None:
        _check_pattern(data.file_number_pattern)
    if data.holiday_calendar is not None:
        _check_calendar(data.holiday_calendar)
    if data.identity_provider is not None:
        await _check_issuer(session, data.identity_provider.issuer, data.slug)
    tenant, _ = await ensure_tenant(session, slug=data.slug, name=data.name)
    _apply(tenant, data)
    await session.flush()
    return tenant


async def update_tenant(session: AsyncSession, slug: str, data: TenantUpdate) -> Tenant:
    """Change the given fields of an existing city (TenantNotFound otherwise)."""
    tenant = await get_tenant(session, slug)
    if data.file_number_pattern is not None:
        _check_pattern(data.file_number_pattern)
    if data.holiday_calendar is not None:
        _check_calendar(data.holiday_calendar)
    if data.identity_provider is not None:
        await _check_issuer(session, data.identity_provider.issuer, slug)
    if data.name is not None:
        tenant.name = data.name
    _apply(tenant, data)
    if data.remove_identity_provider and data.identity_provider is None:
        tenant.identity_provider = None
        tenant.idp_issuer = None
    tenant.updated_at = utcnow()
    await session.flush()
    return tenant


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    """Every city, by slug."""
    return list((await session.scalars(select(Tenant).order_by(Tenant.slug))).all())


def to_read(tenant: Tenant) -> TenantRead:
    """The API/CLI view of a tenant."""
    idp = tenant.identity_provider
    return TenantRead(
        slug=tenant.slug,
        name=tenant.name,
        authority_address=AuthorityAddress(**(tenant.authority_address or {})),
        contact=Contact(**(tenant.contact or {})),
        file_number_pattern=tenant.file_number_pattern,
        holiday_calendar=tenant.holiday_calendar,
        allowed_media_types=list(tenant.allowed_media_types),
        max_upload_bytes=int(tenant.max_upload_bytes),
        identity_provider=IdentityProvider(**idp) if idp else None,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at or tenant.created_at,
    )
