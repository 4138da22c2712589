"""Rows of the XBau interface: authority addresses, received messages, outgoing messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

OUT_QUEUED = "queued"  # waiting for pickup by the intermediary
OUT_ACKNOWLEDGED = "acknowledged"  # picked up and acknowledged
OUT_PUSHING = "pushing"  # handed to the shared outbox for push delivery (not listed for pickup)
OUT_DELIVERED = "delivered"  # the push endpoint answered 2xx
OUT_STATUSES = (OUT_QUEUED, OUT_ACKNOWLEDGED, OUT_PUSHING, OUT_DELIVERED)


class XBauAuthority(Base):
    """The XBau (DVDV) address of a receiving authority and the tenant it belongs to."""

    __tablename__ = "xbau_authorities"

    kennung: Mapped[str] = mapped_column(String(120), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class XBauInbound(Base):
    """A received message that was accepted; its UUID makes a second delivery a no-op."""

    __tablename__ = "xbau_inbound"
    __table_args__ = (
        UniqueConstraint("message_uuid", name="uq_xbau_inbound_message_uuid"),
        Index("ix_xbau_inbound_case", "case_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    message_uuid: Mapped[str] = mapped_column(String(36))
    message_name: Mapped[str] = mapped_column(String(100))
    sender_kennung: Mapped[str] = mapped_column(String(120), default="")
    sender_name: Mapped[str] = mapped_column(String(300), default="")
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id"), nullable=True)
    document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    family: Mapped[str] = mapped_column(String(40), default="")
    portal_reference: Mapped[str] = mapped_column(String(100), default="")
    created_at_sender: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class XBauOutgoing(Base):
    """A generated, validated message waiting for pickup by the intermediary.

    Written in the transaction of the event that causes it (see `service.enqueue_xbau_message`;
    the shared outbox of issue 13 can take over this table's role behind that function).
    """

    __tablename__ = "xbau_outgoing"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_xbau_outgoing_idempotency_key"),
        Index("ix_xbau_outgoing_pickup", "tenant_id", "status", "created_at"),
        Index("ix_xbau_outgoing_message_uuid", "message_uuid"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id"), nullable=True)
    message_type: Mapped[str] = mapped_column(String(100))
    message_uuid: Mapped[str] = mapped_column(String(36))
    reader_kennung: Mapped[str] = mapped_column(String(120), default="")
    idempotency_key: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=OUT_QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class XBauPushEndpoint(Base):
    """Where a tenant's outgoing XBau messages are pushed (its intermediary); one per tenant.

    The intermediary routes each message by the reader address in its head, as it does for
    pickup, so one endpoint serves all of a tenant's authority addresses. Without a row the
    tenant's messages stay in `xbau_outgoing` for pickup.
    """

    __tablename__ = "xbau_push_endpoints"

    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class XBauPushRoute(Base):
    """A push endpoint for one of the tenant's XBau addresses (the Autor of its messages).

    A tenant with several authorities routes each one's messages to its own intermediary;
    messages of an address without a route go to the tenant's endpoint, else to pickup."""

    __tablename__ = "xbau_push_routes"

    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"), primary_key=True)
    authority: Mapped[str] = mapped_column(
        String(120), ForeignKey("xbau_authorities.kennung"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
