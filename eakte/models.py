"""Import every ORM model so the metadata is complete (Alembic, tests)."""

from eakte.audit.models import AuditChainHead, AuditEvent
from eakte.cases.models import Case
from eakte.db import Base
from eakte.tenants.models import FileNumberCounter, Tenant

__all__ = ["AuditChainHead", "AuditEvent", "Base", "Case", "FileNumberCounter", "Tenant"]
