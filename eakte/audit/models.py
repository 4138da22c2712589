"""Audit events, hash-chained per tenant, and the chain heads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One write, recorded in the same transaction as the write itself."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_case", "tenant_id", "case_id"),)

    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    action: Mapped[str] = mapped_column(String(80))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The newest event of a tenant's chain; its row lock serialises appends."""

    __tablename__ = "audit_chain_heads"

    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.slug"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
