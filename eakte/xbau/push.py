"""Push delivery of outgoing XBau messages through the shared outbox (eakte/outbox).

A tenant with a push endpoint (`xbau_push_endpoints`, set by an admin) gets, for every message
`outgoing.enqueue_xbau_message` queues, one outbox row of kind `xbau` in the same transaction.
The outbox worker hands it to `XBauChannel`, which POSTs the message to the endpoint the way
our own inbox takes messages: `multipart/form-data` with the part `nachricht` (the XML) and one
part `anlage` per Anlage whose filename is the Anlage's `dateiname`. Headers:

- `Idempotency-Key` / `Webhook-Id`: the outbox row's key (the same on every retry);
- `Webhook-Timestamp`, `Webhook-Signature: v1=<hex>`: HMAC-SHA256 of `timestamp.` + the XML
  bytes with the endpoint's secret (the Anlagen are bound by their SHA-256 `hashValue` inside
  the signed XML, so the signature need not cover the multipart framing);
- `X-XBau-Nachrichtentyp`, `X-XBau-Nachrichten-UUID`.

2xx: delivered (`xbau_outgoing.status = delivered`, no longer listed for pickup); 4xx other
than 408/429: permanent (dead letter, visible in `GET /api/v1/outbox`); 5xx, 408, 429 and
network errors: retried by the outbox with its backoff.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import time
import uuid
from contextlib import ExitStack
from typing import IO, Any, ClassVar

import anyio
import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.config import Settings
from eakte.db import Database, utcnow
from eakte.documents.models import DocumentVersion
from eakte.outbox.channels import (
    Delivery,
    DeliveryFailed,
    raise_for_status,
    sign,
    signed_headers,
)
from eakte.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage
from eakte.xbau.errors import XBauPushNotConfigured, XBauUnknownAuthority
from eakte.xbau.models import (
    OUT_DELIVERED,
    OUT_PUSHING,
    OUT_QUEUED,
    XBauAuthority,
    XBauOutgoing,
    XBauPushEndpoint,
    XBauPushRoute,
)

XBAU = "xbau"
SPOOL_CHUNK = 1024 * 1024


def _spool(store: Any, version: DocumentVersion) -> IO[bytes]:
    """Copy a stored version to a temporary file, checking its SHA-256 against the record."""
    out = tempfile.TemporaryFile()
    digest = hashlib.sha256()
    try:
        reader = store.open(version.object_key)
        for chunk in reader:
            digest.update(chunk)
            out.write(chunk)
    except Exception as exc:
        out.close()
        raise DeliveryFailed(f"Anlage {version.filename}: {exc.__class__.__name__}: {exc}") from exc
    if digest.hexdigest() != version.sha256:
        out.close()
        raise DeliveryFailed(
            f"Anlage {version.filename}: stored content does not match its record (eakte fsck)",
            permanent=True,
        )
    out.seek(0)
    return out


# -- configuration (admin route `PUT/GET/DELETE /api/v1/xbau/push`, CLI `eakte xbau push`) -----


Endpoint = XBauPushEndpoint | XBauPushRoute


async def _own_address(session: AsyncSession, tenant: str, authority: str) -> None:
    row = await session.get(XBauAuthority, authority)
    if row is None or row.tenant_id != tenant:
        raise XBauUnknownAuthority(
            f"{authority!r} ist keine XBau-Adresse dieses Mandanten / is not an XBau address "
            "of this tenant"
        )


async def set_endpoint(
    session: AsyncSession, tenant: str, url: str, *, actor: Any, authority: str | None = None
) -> tuple[Endpoint, str]:
    """Set (or replace) the tenant's push endpoint, or that of one of its XBau addresses
    (`authority`), with a new secret; returns it with the secret.

    Messages already in the outbox go to the new URL with the new secret on their next attempt.
    """
    secret = secrets.token_urlsafe(32)
    by = actor if isinstance(actor, str) else actor.sub
    endpoint: Endpoint | None
    if authority:
        await _own_address(session, tenant, authority)
        endpoint = await session.get(XBauPushRoute, (tenant, authority), with_for_update=True)
        if endpoint is None:
            endpoint = XBauPushRoute(tenant_id=tenant, authority=authority)
            session.add(endpoint)
    else:
        endpoint = await session.get(XBauPushEndpoint, tenant, with_for_update=True)
        if endpoint is None:
            endpoint = XBauPushEndpoint(tenant_id=tenant)
            session.add(endpoint)
    endpoint.url, endpoint.secret, endpoint.created_by = url, secret, by
    endpoint.created_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        tenant=tenant,
        actor=actor,
        action="xbau.push_configured",
        payload={"url": url, "authority": authority or None},
    )
    return endpoint, secret


async def get_endpoint(
    session: AsyncSession, tenant: str, authority: str | None = None
) -> Endpoint:
    """The tenant's endpoint, or with `authority` the one configured for that address."""
    endpoint: Endpoint | None = (
        await session.get(XBauPushRoute, (tenant, authority))
        if authority
        else await session.get(XBauPushEndpoint, tenant)
    )
    if endpoint is None:
        what = f"für {authority!r} " if authority else ""
        raise XBauPushNotConfigured(
            f"Mandant {tenant!r} holt XBau-Nachrichten {what}ab (kein Push) / tenant {tenant!r} "
            f"picks its XBau messages {('for ' + repr(authority) + ' ') if authority else ''}up "
            "(no push endpoint)"
        )
    return endpoint


async def endpoint_for(session: AsyncSession, tenant: str, authority: str) -> Endpoint | None:
    """Where a message written by `authority` (its Autor) is pushed: the address's own
    endpoint, else the tenant's, else None (pickup)."""
    if authority:
        route = await session.get(XBauPushRoute, (tenant, authority))
        if route is not None:
            return route
    return await session.get(XBauPushEndpoint, tenant)


async def remove_endpoint(
    session: AsyncSession, tenant: str, *, actor: Any, authority: str | None = None
) -> int:
    """Back to pickup: new messages wait for pickup, and so do those not yet pushed.

    Every message still `pushing` returns to `queued`; its outbox row (pending or dead) becomes
    a dead letter saying so. A push already under way may still arrive; the receiver drops it
    by its idempotency key or message UUID. Returns how many messages went back to pickup.
    """
    endpoint = await get_endpoint(session, tenant, authority)
    url = endpoint.url
    await session.delete(endpoint)
    await session.flush()
    candidates = list(
        await session.scalars(
            select(XBauOutgoing.id).where(
                XBauOutgoing.tenant_id == tenant, XBauOutgoing.status == OUT_PUSHING
            )
        )
    )
    payloads = {
        row.idempotency_key: row.payload
        for row in await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.tenant_id == tenant,
                OutboxMessage.kind == XBAU,
                OutboxMessage.idempotency_key.in_([f"xbau-{i}" for i in candidates]),
            )
        )
    }
    back = []
    for outgoing_id in candidates:  # those with no endpoint left go back to pickup
        written_by = str(payloads.get(f"xbau-{outgoing_id}", {}).get("authority") or "")
        if await endpoint_for(session, tenant, written_by) is None:
            back.append(outgoing_id)
    if back:
        await session.execute(
            update(XBauOutgoing)
            .where(XBauOutgoing.id.in_(back))
            .values(status=OUT_QUEUED)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.tenant_id == tenant,
                OutboxMessage.kind == XBAU,
                OutboxMessage.status.in_([PENDING, DEAD]),
                OutboxMessage.idempotency_key.in_([f"xbau-{i}" for i in back]),
            )
            .values(
                status=DEAD,
                claimed_until=None,
                last_error="push endpoint removed; the message waits for pickup again",
            )
            .execution_options(synchronize_session=False)
        )
    await session.flush()
    await audit.record(
        session,
        tenant=tenant,
        actor=actor,
        action="xbau.push_removed",
        payload={"url": url, "authority": authority or None, "back_to_pickup": len(back)},
    )
    return len(back)


class XBauChannel:
    """POST an outgoing XBau message with its Anlagen to the tenant's push endpoint."""

    kind: ClassVar[str] = XBAU

    def __init__(self, settings: Settings, db: Database, store: Any = None) -> None:
        self.settings = settings
        self.db = db
        self._store = store
        self.timeout = settings.xbau_push_timeout_seconds

    @property
    def store(self) -> Any:
        if self._store is None:
            from eakte.documents.store import build_store

            self._store = build_store(self.settings)
        return self._store

    async def _load(
        self, outgoing_id: uuid.UUID, authority: str
    ) -> tuple[XBauOutgoing, Endpoint | None, list[DocumentVersion]]:
        async with self.db.session(write=False) as session:
            row = await session.get(XBauOutgoing, outgoing_id)
            if row is None:
                raise DeliveryFailed(f"no outgoing XBau message {outgoing_id}", permanent=True)
            endpoint = await endpoint_for(session, row.tenant_id, authority)
            versions = []
            for ref in row.attachments or []:
                version = await session.get(DocumentVersion, uuid.UUID(ref["version_id"]))
                if version is None or version.tenant_id != row.tenant_id:
                    raise DeliveryFailed(f"Anlage {ref['dateiname']} is gone", permanent=True)
                versions.append(version)
            session.expunge_all()
        return row, endpoint, versions

    async def deliver(self, delivery: Delivery) -> None:
        row, endpoint, versions = await self._load(
            uuid.UUID(delivery.payload["outgoing_id"]), str(delivery.payload.get("authority") or "")
        )
        if endpoint is None:
            raise DeliveryFailed("the XBau push endpoint was removed", permanent=True)
        timestamp = str(int(time.time()))
        headers = {
            "X-XBau-Nachrichtentyp": row.message_type,
            "X-XBau-Nachrichten-UUID": row.message_uuid,
            **signed_headers(
                delivery.idempotency_key, timestamp, sign(endpoint.secret, timestamp, row.body)
            ),
        }
        with ExitStack() as files:
            parts: list[tuple[str, tuple[str, Any, str]]] = [
                ("nachricht", ("nachricht.xml", row.body, "application/xml"))
            ]
            for ref, version in zip(row.attachments or [], versions, strict=True):
                spooled = await anyio.to_thread.run_sync(_spool, self.store, version)
                files.callback(spooled.close)
                parts.append(("anlage", (ref["dateiname"], spooled, version.media_type)))
            try:
                async with httpx.AsyncClient(
                    timeout=self.timeout, follow_redirects=False
                ) as client:
                    response = await client.post(endpoint.url, files=parts, headers=headers)
            except httpx.HTTPError as exc:
                raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}") from exc
        raise_for_status(response)

    async def settled(self, session: AsyncSession, delivery: Delivery, status: str) -> None:
        """In the outbox's settling transaction: a delivered push marks the XBau row delivered."""
        if status != DELIVERED:
            return
        outgoing_id = uuid.UUID(delivery.payload["outgoing_id"])
        now = utcnow()
        result = await session.execute(
            update(XBauOutgoing)
            # `queued`: the endpoint was removed while this push was under way; it arrived
            .where(
                XBauOutgoing.id == outgoing_id,
                XBauOutgoing.status.in_([OUT_PUSHING, OUT_QUEUED]),
            )
            .values(status=OUT_DELIVERED, delivered_at=now)
            .returning(XBauOutgoing.tenant_id, XBauOutgoing.case_id, XBauOutgoing.message_uuid)
        )
        changed = result.first()
        if changed is None:
            return
        await audit.record(
            session,
            tenant=changed.tenant_id,
            actor="outbox-worker",
            actor_name="E-Akte (Versand)",
            action="xbau.message_delivered",
            case_id=changed.case_id,
            payload={
                "outgoing": str(outgoing_id),
                "message_uuid": changed.message_uuid,
                "idempotency_key": delivery.idempotency_key,
            },
            at=now,
        )
