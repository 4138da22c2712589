"""Tenant lookup, creation, demo seeding and file-number allocation."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit.models import GENESIS_HASH, AuditChainHead
from eakte.auth.claims import Issuer, issuer_from_config
from eakte.db import Database
from eakte.errors import TenantNotFound
from eakte.tenants.models import DEFAULT_FILE_NUMBER_PATTERN, FileNumberCounter, Tenant
from workflows.calendar import validate_calendar_name

log = logging.getLogger("eakte.tenants")


@dataclass(frozen=True)
class DemoUser:
    """A demo account printed by `make run`."""

    sub: str
    name: str
    roles: tuple[str, ...]


DEMO_TENANTS: dict[str, tuple[str, str]] = {
    "augsburg": ("Stadt Augsburg – Bauordnungsamt", "bavaria-augsburg"),
    "muenchen": ("Landeshauptstadt München – Lokalbaukommission", "bavaria"),
    "nuernberg": ("Stadt Nürnberg – Bauordnungsbehörde", "bavaria"),
}

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("clerk", "Sachbearbeitung (Demo)", ("clerk",)),
    DemoUser("clerk-2", "Vertretung Sachbearbeitung (Demo)", ("clerk",)),  # issue 16
    DemoUser("approver", "Zeichnungsberechtigte (Demo)", ("approver",)),
    DemoUser("agency", "Fachstelle (Demo)", ("agency",)),
    DemoUser("auditor", "Revision (Demo)", ("auditor",)),
    DemoUser("admin", "Administration (Demo)", ("admin",)),
    DemoUser("postroom", "Poststelle (Demo)", ("postroom",)),  # issue 13: print batches
    DemoUser("applicant", "Antragsteller (Demo)", ("applicant",)),
)


def validate_file_number_pattern(pattern: str) -> None:
    """Raise ValueError unless the pattern formats with `year` and `seq`."""
    if "{seq" not in pattern:
        raise ValueError("file-number pattern must contain {seq…}")
    try:
        sample = pattern.format(year=2024, seq=1)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"invalid file-number pattern {pattern!r}: {exc}") from exc
    if len(pattern.format(year=9999, seq=99_999_999)) > 60 or not sample.strip():
        raise ValueError(f"file-number pattern {pattern!r} gives numbers longer than 60 characters")


async def get_tenant(session: AsyncSession, slug: str) -> Tenant:
    """The tenant, or TenantNotFound."""
    tenant = await session.get(Tenant, slug)
    if tenant is None:
        raise TenantNotFound(f"no tenant {slug!r}")
    return tenant


async def ensure_tenant(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    holiday_calendar: str = "bavaria",
    file_number_pattern: str = DEFAULT_FILE_NUMBER_PATTERN,
) -> tuple[Tenant, bool]:
    """Create the tenant and its audit chain head unless it exists (idempotent)."""
    existing = await session.get(Tenant, slug)
    if existing is not None:
        return existing, False
    validate_file_number_pattern(file_number_pattern)
    # issue 12: an unknown holiday calendar is refused here (workflows.UnknownCalendar, a
    # ValueError), not discovered at every deadline computation
    validate_calendar_name(holiday_calendar)
    tenant = Tenant(
        slug=slug,
        name=name,
        holiday_calendar=holiday_calendar,
        file_number_pattern=file_number_pattern,
    )
    session.add(tenant)
    await session.flush()
    session.add(AuditChainHead(tenant_id=slug, last_seq=0, last_hash=GENESIS_HASH))
    await session.flush()
    return tenant, True


async def seed_demo(db: Database) -> list[str]:
    """Create the three demo tenants if missing; return the slugs created."""
    created = []
    async with db.session() as session:
        for slug, (name, calendar) in DEMO_TENANTS.items():
            _, was_created = await ensure_tenant(
                session, slug=slug, name=name, holiday_calendar=calendar
            )
            if was_created:
                created.append(slug)
    return created


async def next_file_number(session: AsyncSession, tenant: Tenant, year: int) -> tuple[str, int]:
    """Allocate the next gap-free number of the year under the counter's row lock.

    The counter is incremented in the caller's transaction, so a rollback gives
    the number back and concurrent creators queue on the row lock.
    """
    increment = (
        update(FileNumberCounter)
        .where(FileNumberCounter.tenant_id == tenant.slug, FileNumberCounter.year == year)
        .values(last_seq=FileNumberCounter.last_seq + 1)
        .returning(FileNumberCounter.last_seq)
    )
    seq = (await session.execute(increment)).scalar_one_or_none()
    if seq is None:
        await _create_counter(session, tenant.slug, year)
        seq = (await session.execute(increment)).scalar_one()
    return tenant.file_number_pattern.format(year=year, seq=seq), seq


async def _create_counter(session: AsyncSession, tenant: str, year: int) -> None:
    """Insert the year's counter row; a concurrent insert of the same row is fine."""
    dialect = session.bind.dialect.name
    values = {"tenant_id": tenant, "year": year, "last_seq": 0}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(FileNumberCounter).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(FileNumberCounter).values(**values).on_conflict_do_nothing()
    await session.execute(stmt)


class TenantDirectory:
    """Caches tenant slugs and identity providers for token checks; reloads on a miss or
    when stale."""

    def __init__(
        self, db: Database, ttl_seconds: float = 30.0, algorithms: tuple[str, ...] = ("RS256",)
    ) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.algorithms = algorithms
        self._slugs: frozenset[str] = frozenset()
        self._issuers: dict[str, Issuer] = {}
        self._loaded_at = float("-inf")
        self._loading: asyncio.Future[None] | None = None

    async def _reload(self) -> None:
        """Load once for all callers that find the cache stale at the same moment (twenty
        clients connecting together reloaded it twenty times): they share one load, and a
        caller that is cancelled does not cancel it for the others."""
        loading = self._loading
        if (
            loading is None
            or loading.done()
            or loading.get_loop() is not asyncio.get_running_loop()
        ):
            loading = self._loading = asyncio.ensure_future(self._load())
        await asyncio.shield(loading)

    async def _load(self) -> None:
        async with self.db.session(write=False) as session:
            rows = (await session.execute(select(Tenant.slug, Tenant.identity_provider))).all()
        issuers = {}
        for slug, idp in rows:
            if not idp:
                continue
            try:
                issuers[idp["issuer"]] = issuer_from_config(
                    idp, algorithms=self.algorithms, tenant=slug
                )
            except (ValueError, KeyError, TypeError):
                log.error("tenant %s: unusable identity_provider setting, ignored", slug)
        self._slugs = frozenset(slug for slug, _ in rows)
        self._issuers = issuers
        self._loaded_at = time.monotonic()

    def forget(self) -> None:
        """Reload on the next lookup (after this process changed a tenant)."""
        self._loaded_at = float("-inf")

    async def issuer(self, iss: str) -> Issuer | None:
        """The identity provider of the tenant whose issuer is `iss` (tenant from issuer)."""
        if iss not in self._issuers or time.monotonic() - self._loaded_at > self.ttl:
            await self._reload()
        return self._issuers.get(iss)

    async def contains(self, slug: str) -> bool:
        """True if the tenant exists (a signed token is needed to get here)."""
        if slug not in self._slugs or time.monotonic() - self._loaded_at > self.ttl:
            await self._reload()
        return slug in self._slugs
