"""Operator views of the outbox and webhook endpoint registration."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, Field


class QueueFigures(BaseModel):
    """Queue depth, oldest pending age, failed attempts, dead letters."""

    pending: int
    dead: int
    delivered: int
    failures: int
    oldest_pending_seconds: float


class MessageRead(BaseModel):
    """One message as an operator sees it (no body: it may hold personal data)."""

    id: uuid.UUID
    kind: str
    event: str
    status: str
    idempotency_key: str
    case_id: uuid.UUID | None
    attempts: int
    failures: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None


class OutboxOverview(BaseModel):
    """The tenant's queue: figures plus the messages that need attention."""

    figures: QueueFigures
    dead: list[MessageRead]
    pending: list[MessageRead]


class WebhookCreate(BaseModel):
    """Register an endpoint (e.g. the city's citizen portal)."""

    url: AnyHttpUrl
    description: str = Field(default="", max_length=200)


class WebhookRead(BaseModel):
    """A registered endpoint; the secret is shown only when it is created."""

    id: uuid.UUID
    url: str
    description: str
    active: bool
    created_at: datetime
    secret: str | None = None
