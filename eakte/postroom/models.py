"""The post room's print queue and daily print batches (letters without an electronic channel)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

QUEUED_POSTAL = "postal"  # signed letter whose addressee has no electronic channel
QUEUED_NOT_RETRIEVED = "not_retrieved"  # provision not retrieved in ten days (Art. 41 Abs. 2a)


class PrintItem(Base):
    """One signed letter waiting for (or placed in) exactly one print batch."""

    __tablename__ = "print_items"
    __table_args__ = (Index("ix_print_items_queue", "tenant_id", "batch_id", "queued_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    issued_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("issued_documents.id"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(20), default=QUEUED_POSTAL)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("print_batches.id"), nullable=True
    )
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PrintBatch(Base):
    """One tenant's print batch of one day: an immutable PDF object of the post room."""

    __tablename__ = "print_batches"
    __table_args__ = (UniqueConstraint("tenant_id", "batch_date", name="uq_print_batches_day"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    batch_date: Mapped[date] = mapped_column(Date)
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    letters: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    posted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
