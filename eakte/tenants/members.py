"""The officials' directory of a tenant: who signed in to the app, with name and roles.

Tokens carry subject, name and roles but the service has no user list of its own; the
directory remembers each official at sign-in so that a clerk can pick a colleague as
Sachbearbeiter or Vertretung and an agency (Fachstelle) for a Beteiligung by name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from eakte.auth.principal import OFFICIAL_ROLES, Principal, Role
from eakte.db import Base, UTCDateTime, utcnow


class DirectoryMember(Base):
    """An official of the tenant as last seen at sign-in."""

    __tablename__ = "directory_members"

    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"), primary_key=True)
    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def remember(session: AsyncSession, principal: Principal) -> DirectoryMember | None:
    """Record (or refresh) an official in the directory; applicants are never listed."""
    roles = sorted(r.value for r in principal.roles if r in OFFICIAL_ROLES)
    if not roles:
        return None
    member = await session.get(DirectoryMember, (principal.tenant, principal.sub))
    if member is None:
        member = DirectoryMember(tenant_id=principal.tenant, sub=principal.sub)
        session.add(member)
    member.name = principal.name or principal.sub
    member.roles = roles
    member.seen_at = utcnow()
    await session.flush()
    return member


async def members(
    session: AsyncSession, tenant: str, *, role: Role | None = None
) -> list[DirectoryMember]:
    """The tenant's officials by name, optionally only those holding `role`."""
    rows = await session.scalars(
        select(DirectoryMember)
        .where(DirectoryMember.tenant_id == tenant)
        .order_by(DirectoryMember.name, DirectoryMember.sub)
    )
    return [m for m in rows if role is None or role.value in (m.roles or [])]


async def member(session: AsyncSession, tenant: str, sub: str) -> DirectoryMember | None:
    """One official of the tenant, or None."""
    return await session.get(DirectoryMember, (tenant, sub))
