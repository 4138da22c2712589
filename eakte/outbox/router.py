"""Operator route for the queue and the tenant's webhook endpoints."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from eakte.audit import service as audit
from eakte.auth.principal import AUDIT_ROLES, Principal, Role
from eakte.db import utcnow
from eakte.deps import ReadSessionDep, SessionDep, require_roles
from eakte.openapi import problems
from eakte.outbox import service
from eakte.outbox.errors import NotDeadLetter, OutboxMessageNotFound, WebhookNotFound
from eakte.outbox.models import DEAD, PENDING, OutboxMessage, WebhookEndpoint
from eakte.outbox.schemas import (
    MessageRead,
    OutboxOverview,
    QueueFigures,
    WebhookCreate,
    WebhookRead,
)

router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])

Operator = Annotated[Principal, Depends(require_roles(*AUDIT_ROLES))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
LIST_LIMIT = 100


def _read(m: OutboxMessage) -> MessageRead:
    return MessageRead.model_validate(m, from_attributes=True)


@router.get("", response_model=OutboxOverview, responses=problems(401, 403, 422))
async def overview(session: ReadSessionDep, principal: Operator) -> OutboxOverview:
    """Queue figures of the caller's tenant, dead letters and pending messages (oldest first)."""
    figures = await service.stats(session, tenant=principal.tenant, now=utcnow())
    lists = {}
    for status in (DEAD, PENDING):
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.tenant_id == principal.tenant, OutboxMessage.status == status)
            .order_by(OutboxMessage.created_at)
            .limit(LIST_LIMIT)
        )
        lists[status] = [_read(m) for m in rows]
    return OutboxOverview(
        figures=QueueFigures(**figures.__dict__), dead=lists[DEAD], pending=lists[PENDING]
    )


@router.post(
    "/{message_id}/requeue", response_model=MessageRead, responses=problems(401, 403, 404, 409, 422)
)
async def requeue(message_id: uuid.UUID, session: SessionDep, principal: Admin) -> MessageRead:
    """Put a dead letter back into the queue (same idempotency key)."""
    row = await session.get(OutboxMessage, message_id)
    if row is None or row.tenant_id != principal.tenant:
        raise OutboxMessageNotFound(f"no outbox message {message_id}")
    if not await service.requeue(
        session, tenant=principal.tenant, message_id=message_id, actor=principal
    ):
        raise NotDeadLetter(f"message {message_id} is {row.status}, not dead")
    await session.refresh(row)
    return _read(row)


def _webhook(e: WebhookEndpoint, secret: str | None = None) -> WebhookRead:
    return WebhookRead(
        id=e.id,
        url=e.url,
        description=e.description,
        active=e.active,
        created_at=e.created_at,
        secret=secret,
    )


@router.get("/webhooks", response_model=list[WebhookRead], responses=problems(401, 403, 422))
async def list_webhooks(session: ReadSessionDep, principal: Admin) -> list[WebhookRead]:
    """The tenant's webhook endpoints."""
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.tenant_id == principal.tenant)
        .order_by(WebhookEndpoint.created_at)
    )
    return [_webhook(e) for e in rows]


@router.post(
    "/webhooks", response_model=WebhookRead, status_code=201, responses=problems(401, 403, 422)
)
async def create_webhook(body: WebhookCreate, session: SessionDep, principal: Admin) -> WebhookRead:
    """Register an endpoint; the HMAC secret is returned once."""
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        tenant_id=principal.tenant,
        url=str(body.url),
        secret=secret,
        description=body.description,
        active=True,
        created_by=principal.sub,
        created_at=utcnow(),
    )
    session.add(endpoint)
    await session.flush()
    await audit.record(
        session,
        tenant=principal.tenant,
        actor=principal,
        action="outbox.webhook_registered",
        payload={"endpoint_id": str(endpoint.id), "url": endpoint.url},
    )
    return _webhook(endpoint, secret)


@router.delete("/webhooks/{endpoint_id}", status_code=204, responses=problems(401, 403, 404, 422))
async def delete_webhook(endpoint_id: uuid.UUID, session: SessionDep, principal: Admin) -> None:
    """Deactivate an endpoint (queued messages for it become dead letters)."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.tenant_id != principal.tenant or not endpoint.active:
        raise WebhookNotFound(f"no webhook endpoint {endpoint_id}")
    endpoint.active = False
    await session.flush()
    await audit.record(
        session,
        tenant=principal.tenant,
        actor=principal,
        action="outbox.webhook_removed",
        payload={"endpoint_id": str(endpoint.id)},
    )
