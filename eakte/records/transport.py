"""Aussonderung messages leave through the outbox to the archive's intake (issue 15).

The xdomea files (0501 offer, 0505 appraisal receipt, 0503 package) are written to the export
folder first; the message that delivers one is queued in the same transaction that records the
step, by reference to the file and its sha256 (a package can hold gigabytes). A tenant without
an endpoint hands the files over by other means, as before.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.db import utcnow
from eakte.outbox import service as outbox
from eakte.outbox.channels import FILE
from eakte.outbox.models import OutboxMessage
from eakte.records.errors import InvalidEndpoint
from eakte.records.models import ArchiveEndpoint
from eakte.tenants.service import get_tenant

SECRET_REF = "records-archive-endpoint"
MEDIA_TYPES = {".zip": "application/zip", ".xml": "application/xml"}


async def _archive_secret(session: AsyncSession, tenant: str, _: dict[str, Any]) -> str | None:
    endpoint = await session.get(ArchiveEndpoint, tenant)
    return endpoint.secret if endpoint is not None else None


outbox.register_secret_resolver(SECRET_REF, _archive_secret)


def _check_url(url: str) -> str:
    if not url.startswith(("https://", "http://")) or len(url) > 500 or not url.isprintable():
        raise InvalidEndpoint(
            "Die Adresse muss eine http(s)-URL sein (höchstens 500 Zeichen) / "
            "the address must be an http(s) URL of at most 500 characters"
        )
    return url


async def set_endpoint(
    session: AsyncSession, tenant: str, *, url: str, secret: str | None, actor: str
) -> tuple[ArchiveEndpoint, str]:
    """Register (or replace) the archive's intake; returns the endpoint and its secret."""
    await get_tenant(session, tenant)
    secret = secret or secrets.token_urlsafe(32)
    if not 32 <= len(secret) <= 200 or not secret.isprintable():
        raise InvalidEndpoint(
            "Das Geheimnis muss 32 bis 200 Zeichen lang sein / "
            "the secret must have 32 to 200 characters"
        )
    endpoint = await session.get(ArchiveEndpoint, tenant)
    if endpoint is None:
        endpoint = ArchiveEndpoint(tenant_id=tenant)
        session.add(endpoint)
    endpoint.url, endpoint.secret = _check_url(url), secret
    endpoint.created_by, endpoint.created_at = actor, utcnow()
    await session.flush()
    await audit.record(
        session,
        tenant=tenant,
        actor=actor,
        action="records.archive_endpoint_set",
        payload={"url": endpoint.url},
        at=endpoint.created_at,
    )
    return endpoint, secret


async def get_endpoint(session: AsyncSession, tenant: str) -> ArchiveEndpoint | None:
    return await session.get(ArchiveEndpoint, tenant)


async def remove_endpoint(session: AsyncSession, tenant: str, *, actor: str) -> bool:
    """Stop pushing; queued messages then go to the dead letter state (no secret to sign with)."""
    endpoint = await session.get(ArchiveEndpoint, tenant)
    if endpoint is None:
        return False
    await session.delete(endpoint)
    await audit.record(
        session,
        tenant=tenant,
        actor=actor,
        action="records.archive_endpoint_removed",
        payload={"url": endpoint.url},
        at=utcnow(),
    )
    return True


async def queue_file(
    session: AsyncSession, tenant: str, *, code: str, process_id: str, path: Path, sha256: str
) -> OutboxMessage | None:
    """Queue one written xdomea file for the archive (once per file content), if pushing."""
    endpoint = await session.get(ArchiveEndpoint, tenant)
    if endpoint is None:
        return None
    key = f"xdomea-{process_id}-{code}-{sha256[:32]}"
    existing = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
    )
    if existing is not None:
        return existing
    return await outbox.enqueue(
        session,
        tenant=tenant,
        kind=FILE,
        event=f"xdomea.{code}",
        idempotency_key=key,
        payload={
            "url": endpoint.url,
            "secret_ref": SECRET_REF,
            "path": str(path),
            "sha256": sha256,
            "size": path.stat().st_size,
            "media_type": MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
            "process_id": process_id,
            "message": code,
        },
    )
