"""Templates, letterheads and issued documents (Bescheide and letters) of a tenant."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

DRAFT = "draft"
SIGNED = "signed"
BEKANNTGEGEBEN = "bekanntgegeben"

ELECTRONIC = "electronic"
POSTAL = "postal"


class LetterTemplate(Base):
    """One version of a tenant's template for a letter type (subject + body, Jinja2)."""

    __tablename__ = "issuing_templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "letter_type", "version", name="uq_issuing_templates"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    letter_type: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Letterhead(Base):
    """One version of a tenant's letterhead: authority, address, contact, signature, remedy."""

    __tablename__ = "issuing_letterheads"
    __table_args__ = (UniqueConstraint("tenant_id", "version", name="uq_issuing_letterheads"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    version: Mapped[int] = mapped_column(Integer)
    authority_name: Mapped[str] = mapped_column(String(300))
    department: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(Text)  # lines; the first is the sender line
    contact: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    rechtsbehelfsbelehrung: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssuedDocument(Base):
    """A letter or decision through draft → signed → bekanntgegeben; content is a document."""

    __tablename__ = "issued_documents"
    __table_args__ = (
        Index("ix_issued_documents_case", "case_id", "state"),
        Index("ix_issued_documents_print", "tenant_id", "channel", "state", "posted_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    document_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("documents.id"))
    letter_type: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20), default=DRAFT)
    addressee_kind: Mapped[str] = mapped_column(String(20))  # applicant|neighbour|agency|gemeinde
    addressee_name: Mapped[str] = mapped_column(String(300))
    addressee_address: Mapped[str] = mapped_column(Text, default="")
    addressee_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    template_version: Mapped[int] = mapped_column(Integer)
    letterhead_version: Mapped[int] = mapped_column(Integer)
    verification_ref: Mapped[str] = mapped_column(String(40), unique=True)
    draft_version: Mapped[int] = mapped_column(Integer)
    signed_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signed_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    drafted_by: Mapped[str] = mapped_column(String(200))
    drafted_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    posted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    bekanntgabe_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    bekanntgabe_rule: Mapped[str | None] = mapped_column(String(200), nullable=True)
    bekanntgegeben_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # first retrieval by the applicant of a document provided for retrieval (Art. 41 Abs. 2a)
    retrieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the procedure effect (serve_neighbours, request_participations) this draft came from
    source_effect_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # the sealed decision this letter serves as its enclosure (Art. 66 Abs. 1 S. 4 BayBO)
    enclosure_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("issued_documents.id"), nullable=True
    )
    # template_version 0: the version of the shipped default it was drafted from (None = 1)
    default_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the outbox e-mail notifying of a provision for retrieval (its sending starts the ten
    # days of Art. 41 Abs. 2a S. 4 BayVwVfG)
    notice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
