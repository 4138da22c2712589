"""Extracted document text: one row per document version, also the extraction job queue."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"  # gave up: too large, too slow, unreadable; the reason is in `error`
UNSUPPORTED = "unsupported"  # a media type without text (images without OCR)
DESTROYED = "destroyed"  # the version was destroyed or handed to the archive: text removed


class DocumentText(Base):
    """The text of one version and where its extraction stands.

    An integer key: SQLite's FTS5 index refers to rows by rowid (`content_rowid`).
    """

    __tablename__ = "document_texts"
    __table_args__ = (
        Index("ix_document_texts_status", "status", "id"),
        Index("ix_document_texts_tenant_case", "tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("document_versions.id"), unique=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("documents.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
