"""Import every ORM model so the metadata is complete (Alembic, tests)."""

from eakte.applicants.models import ApplicationAccess
from eakte.audit.models import AuditChainHead, AuditEvent
from eakte.cases.models import Case
from eakte.collab.models import CollabSnapshot, CollabUpdate, CollabVersion
from eakte.db import Base
from eakte.documents.models import Document, DocumentVersion
from eakte.issuing.models import IssuedDocument, Letterhead, LetterTemplate
from eakte.notifications.models import Notification
from eakte.outbox.models import OutboxMessage, WebhookEndpoint
from eakte.postroom.models import PrintBatch, PrintItem  # issue 13
from eakte.process.models import Participation, ProcessDeadline, ProcessInstance, ProcessTransition
from eakte.records import transport as _records_transport  # noqa: F401  (its outbox secret hook)
from eakte.records.models import (
    ArchiveEndpoint,
    CaseRecord,
    DestructionRecord,
    FilePlanEntry,
    Offer,
)
from eakte.search.models import DocumentText
from eakte.tenants.members import DirectoryMember
from eakte.tenants.models import FileNumberCounter, Tenant
from eakte.xbau.models import (  # issue 14
    XBauAuthority,
    XBauInbound,
    XBauOutgoing,
    XBauPushEndpoint,
)

__all__ = [
    "ArchiveEndpoint",
    "ApplicationAccess",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Case",
    "CaseRecord",
    "CollabSnapshot",
    "CollabUpdate",
    "CollabVersion",
    "DestructionRecord",
    "DirectoryMember",
    "Document",
    "DocumentText",
    "DocumentVersion",
    "FileNumberCounter",
    "FilePlanEntry",
    "Notification",
    "Offer",
    "IssuedDocument",
    "Letterhead",
    "LetterTemplate",
    "OutboxMessage",
    "Participation",
    "PrintBatch",
    "PrintItem",
    "ProcessDeadline",
    "ProcessInstance",
    "ProcessTransition",
    "Tenant",
    "XBauAuthority",
    "XBauInbound",
    "XBauOutgoing",
    "XBauPushEndpoint",
    "WebhookEndpoint",
]
