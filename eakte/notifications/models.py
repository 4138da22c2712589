"""A notification for one official about one case (issue 16)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow


class NotificationKind(StrEnum):
    """What happened; the vocabulary of the notification list."""

    deadline_overdue = "deadline_overdue"
    fiction_detected = "fiction_detected"
    participation_answered = "participation_answered"
    participation_deemed = "participation_deemed"
    applicant_uploaded = "applicant_uploaded"
    new_unassigned = "new_unassigned"


class Notification(Base):
    """One line in an official's notification list; `read_at` is per recipient."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient", "tenant_id", "recipient", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    recipient: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(40))
    text_de: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
