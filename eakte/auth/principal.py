"""The authenticated caller and the roles it may hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """Roles a token may carry."""

    applicant = "applicant"
    clerk = "clerk"  # Sachbearbeitung
    approver = "approver"  # Zeichnung
    agency = "agency"  # Fachstelle
    auditor = "auditor"
    admin = "admin"
    postroom = "postroom"  # Poststelle: print batches (issue 13)
    xbau = "xbau"  # per-tenant system principal of the XBau intermediary (issue 14)


OFFICIAL_ROLES = frozenset({Role.clerk, Role.approver, Role.agency, Role.auditor, Role.admin})
CASE_READ_ROLES = frozenset({Role.clerk, Role.approver, Role.auditor, Role.admin})
CASE_WRITE_ROLES = frozenset({Role.clerk, Role.admin})
AUDIT_ROLES = frozenset({Role.auditor, Role.admin})


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, tenant, roles and display name from the token."""

    sub: str
    tenant: str
    roles: frozenset[Role]
    name: str
    claims: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def has_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        """True if the principal holds at least one of `roles`."""
        return bool(self.roles & roles)
