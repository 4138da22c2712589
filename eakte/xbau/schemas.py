"""Request and response models of the XBau routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, UrlConstraints


class InboxReceipt(BaseModel):
    """The answer to a delivered message (the same body for every delivery of one UUID)."""

    model_config = ConfigDict(extra="allow")

    status: str
    message_uuid: str
    message_type: str
    tenant: str
    case_id: uuid.UUID | None = None
    file_number: str | None = None


class OutgoingAttachment(BaseModel):
    dateiname: str
    media_type: str
    size: int
    url: str


class OutgoingRead(BaseModel):
    """A queued outgoing message for the intermediary."""

    id: uuid.UUID
    message_type: str
    message_uuid: str
    reader: str
    case_id: uuid.UUID | None
    status: str
    created_at: datetime
    acknowledged_at: datetime | None
    delivered_at: datetime | None = None
    content_url: str
    attachments: list[OutgoingAttachment]


class OutgoingList(BaseModel):
    items: list[OutgoingRead]


class ParticipationRequest(BaseModel):
    """Send an existing participation (Beteiligung) to the agency as XBau 0300."""

    model_config = ConfigDict(extra="forbid")

    agency_kennung: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{3}:\d+$")
    ]
    agency_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
    ]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class PushEndpointSet(BaseModel):
    """Push the tenant's outgoing XBau messages to this URL (its intermediary)."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=500)]
    # one of the tenant's XBau addresses: push only the messages it writes (Autor) here
    authority: str | None = Field(default=None, min_length=1, max_length=120)


class PushEndpointRead(BaseModel):
    """The tenant's push endpoint; the HMAC secret is shown only when it is set."""

    url: str
    authority: str | None = None
    created_by: str
    created_at: datetime
    secret: str | None = None


def outgoing_read(row: Any) -> OutgoingRead:
    base = f"/api/v1/xbau/outbox/{row.id}"
    return OutgoingRead(
        id=row.id,
        message_type=row.message_type,
        message_uuid=row.message_uuid,
        reader=row.reader_kennung,
        case_id=row.case_id,
        status=row.status,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
        delivered_at=row.delivered_at,
        content_url=f"{base}/content",
        attachments=[
            OutgoingAttachment(
                dateiname=a["dateiname"],
                media_type=a["media_type"],
                size=int(a["size"]),
                url=f"{base}/attachments/{i}",
            )
            for i, a in enumerate(row.attachments or [])
        ],
    )
