"""Tenants (cities) and their per-year file-number counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

DEFAULT_FILE_NUMBER_PATTERN = "BA-{year}-{seq:05d}"
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
DEFAULT_ALLOWED_MEDIA_TYPES = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "text/plain",
    "application/xml",
    "text/xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "image/vnd.dxf",
    "application/x-step",
]


class Tenant(Base):
    """A city (Bauaufsichtsbehörde) served by this installation."""

    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("idp_issuer", name="uq_tenants_idp_issuer"),)

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    file_number_pattern: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_FILE_NUMBER_PATTERN
    )
    allowed_media_types: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_ALLOWED_MEDIA_TYPES)
    )
    max_upload_bytes: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_MAX_UPLOAD_BYTES)
    holiday_calendar: Mapped[str] = mapped_column(String(60), default="bavaria")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # issue 19: the authority's letterhead and its identity provider (see tenants/schemas.py)
    authority_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    identity_provider: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    idp_issuer: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FileNumberCounter(Base):
    """The last sequence number issued per tenant and year (row-locked on use)."""

    __tablename__ = "file_number_counters"

    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.slug"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
