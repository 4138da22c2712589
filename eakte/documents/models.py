"""Documents (Dokumente) of a case and their immutable versions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

VERSION_OK = "ok"
VERSION_BROKEN = "broken"
# Aussonderung (eakte/records): the object is being / has been deleted; the row is the proof
VERSION_DESTROYING = "destroying"
VERSION_DESTROYED = "destroyed"


class Document(Base):
    """A document of a case; its content lives in `DocumentVersion` rows, never overwritten."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_tenant_case", "tenant_id", "case_id", "created_at"),
        Index("ix_documents_case", "case_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # a withdrawn document (Art. 33 BayDiG: nothing is deleted) is hidden; deleted_at says when
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DocumentVersion(Base):
    """One immutable upload: where its bytes are, their digest, type and who sent them."""

    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "number", name="uq_document_versions_document_number"),
        Index("ix_document_versions_tenant", "tenant_id", "object_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("documents.id"))
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    number: Mapped[int] = mapped_column(Integer)
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=VERSION_OK)
    broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    broken_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
