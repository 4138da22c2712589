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
from eakte.process.models import Participation, ProcessDeadline, ProcessInstance, ProcessTransition
from eakte.records.models import CaseRecord, DestructionRecord, FilePlanEntry, Offer
from eakte.search.models import DocumentText
from eakte.tenants.members import DirectoryMember
from eakte.tenants.models import FileNumberCounter, Tenant
from eakte.xbau.models import XBauAuthority, XBauInbound, XBauOutgoing  # issue 14

__all__ = [
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
    "ProcessDeadline",
    "ProcessInstance",
    "ProcessTransition",
    "Tenant",
    "XBauAuthority",
    "XBauInbound",
    "XBauOutgoing",
    "WebhookEndpoint",
]
