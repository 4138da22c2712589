"""The case file (Akte) of one building application."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow


class Case(Base):
    """A Bauantrag's case file; `revision` guards against lost updates."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "file_number", name="uq_cases_tenant_file_number"),
        Index("ix_cases_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_cases_tenant_state", "tenant_id", "state"),
        Index("ix_cases_tenant_procedure", "tenant_id", "procedure"),
        Index("ix_cases_tenant_assignee", "tenant_id", "assignee_sub"),  # 0017
        Index("ix_cases_tenant_deputy", "tenant_id", "deputy_sub"),
        # migration 0006: trigram index for `q` (PostgreSQL only; SQLite scans)
        Index(
            "ix_cases_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    file_number: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    procedure: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    site_address: Mapped[str] = mapped_column(String(300))
    site_gemarkung: Mapped[str] = mapped_column(String(120), default="")
    site_flurstueck: Mapped[str] = mapped_column(String(60), default="")
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    applicant_sub: Mapped[str | None] = mapped_column(String(200), nullable=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    # the responsible official (Sachbearbeiter) and the deputy (Vertretung), issue 16
    assignee_sub: Mapped[str | None] = mapped_column(String(200), nullable=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deputy_sub: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deputy_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseGrant(Base):
    """Someone outside the case-reading roles may see one case (e.g. an agency asked in a
    Beteiligung). Owned by `cases`; other domains (process) write grants, cases reads them."""

    __tablename__ = "case_grants"
    __table_args__ = (
        UniqueConstraint("case_id", "subject", name="uq_case_grants_case_subject"),
        Index("ix_case_grants_subject", "tenant_id", "subject"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
