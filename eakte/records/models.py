"""Records management rows: the file plan, each case's record state, destruction records."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow


class ArchivalValue(StrEnum):
    """Archivwürdigkeit of a file plan code (opengever's vocabulary, DOMAIN.md)."""

    anbieten = "anbieten"  # offer; the archive decides
    archivwuerdig = "archivwuerdig"
    nicht_archivwuerdig = "nicht_archivwuerdig"


class FilePlanEntry(Base):
    """One code of a tenant's file plan (Aktenplan) with its retention and archival value."""

    __tablename__ = "records_file_plan"

    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    retention_years: Mapped[int] = mapped_column(Integer)
    archival_value: Mapped[str] = mapped_column(String(30))
    is_default: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseRecord(Base):
    """A case's record state: file plan code, closing, legal hold, disposition."""

    __tablename__ = "records_cases"
    __table_args__ = (Index("ix_records_cases_tenant_closed", "tenant_id", "closed_at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    file_plan_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    hold_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(30), nullable=True)
    offer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DestructionRecord(Base):
    """Proof that a case's content was destroyed: what, when, by whose decision (kept forever)."""

    __tablename__ = "records_destructions"
    __table_args__ = (Index("ix_records_destructions_tenant", "tenant_id", "destroyed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    file_number: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    file_plan_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retention_until: Mapped[str] = mapped_column(String(10))
    grounds: Mapped[str] = mapped_column(String(40))  # vernichten (0502) | archiviert (0506)
    decision: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    destroyed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    objects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Disposition(StrEnum):
    """Where a case stands in the Aussonderung (records_cases.disposition)."""

    angeboten = "angeboten"  # in an 0501 offer, awaiting the appraisal
    archivieren = "archivieren"  # appraised A (0502): to be handed over
    vernichten = "vernichten"  # appraised V (0502): to be destroyed by an official's action
    uebergeben = "uebergeben"  # in an 0503 package, awaiting the import confirmation
    loeschung = "loeschung"  # import confirmed (0506): content being deleted (resumable)
    vernichtung = "vernichtung"  # destruction decided: content being deleted (resumable)
    archiviert = "archiviert"  # in the archive; content deleted here, proof kept
    vernichtet = "vernichtet"  # destroyed; proof kept


class OfferState(StrEnum):
    """The steps of one Aussonderung (one xdomea ProzessID)."""

    angeboten = "angeboten"  # 0501 built
    bewertet = "bewertet"  # 0502 imported
    uebergeben = "uebergeben"  # 0503 built
    bestaetigt = "bestaetigt"  # 0506 imported


class Offer(Base):
    """One Aussonderung: its ProzessID, state and the messages exchanged (kept)."""

    __tablename__ = "records_offers"
    __table_args__ = (Index("ix_records_offers_tenant", "tenant_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    state: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    messages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # code → {at, sha256}
    package: Mapped[str | None] = mapped_column(String(500), nullable=True)
    package_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ArchiveEndpoint(Base):
    """Where a tenant's Aussonderung messages are delivered (the archive's intake), HMAC-signed.

    Without one, the files stay in the export folder for the records manager to hand over.
    """

    __tablename__ = "records_archive_endpoints"

    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
