"""Response models of the notification list."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class NotificationRead(BaseModel):
    """One notification: what happened on which case, read or not."""

    id: uuid.UUID
    kind: str
    case_id: uuid.UUID
    file_number: str
    text_de: str
    text_en: str
    created_at: datetime
    read: bool


class NotificationList(BaseModel):
    """The newest notifications and how many are unread (the badge)."""

    items: list[NotificationRead]
    unread: int


class MarkedRead(BaseModel):
    """How many notifications were marked read, and how many stay unread."""

    marked: int
    unread: int
