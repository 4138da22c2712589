"""Which documents an agency (Fachstelle) asked in a Beteiligung may see (issue 16)."""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from eakte.auth.principal import CASE_READ_ROLES, Principal, Role
from eakte.documents.kinds import DocumentKind
from eakte.documents.models import Document

# what an agency (Fachstelle) asked in a Beteiligung may read: the Bauvorlagen, and the
# Stellungnahmen it uploaded itself; never named workspace versions (Vermerk) or drafts
AGENCY_KINDS = (
    DocumentKind.lageplan,
    DocumentKind.bauzeichnung,
    DocumentKind.baubeschreibung,
    DocumentKind.standsicherheitsnachweis,
    DocumentKind.brandschutznachweis,
)


def agency_view(principal: Principal) -> ColumnElement[bool] | None:
    """The documents an agency-only principal may see (None: no restriction)."""
    if principal.has_any(CASE_READ_ROLES) or Role.agency not in principal.roles:
        return None
    return or_(
        Document.kind.in_([k.value for k in AGENCY_KINDS]),
        and_(
            Document.kind == DocumentKind.stellungnahme.value,
            Document.created_by == principal.sub,
        ),
    )
