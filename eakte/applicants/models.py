"""The applicant's access to an application: who owns it and the hashed access code."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow


class ApplicationAccess(Base):
    """One submitted application: its owner (token `sub`) and access code digest."""

    __tablename__ = "application_access"
    __table_args__ = (
        Index("ix_application_access_owner", "owner_sub", "submitted_at"),
        Index("ix_application_access_file_number", "tenant_id", "file_number", unique=True),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    file_number: Mapped[str] = mapped_column(String(60))
    owner_sub: Mapped[str] = mapped_column(String(200))
    access_code_sha256: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
