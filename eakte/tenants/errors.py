"""Errors of tenant administration (texts German / English)."""

from __future__ import annotations

from eakte.errors import Conflict, ValidationFailed


class TenantExists(Conflict):
    slug, title = "tenant-exists", "Mandant existiert bereits / Tenant already exists"


class IssuerInUse(Conflict):
    slug, title = (
        "issuer-in-use",
        "Identity Provider gehört schon einem anderen Mandanten / Issuer used by another tenant",
    )


class InvalidTenantSetting(ValidationFailed):
    slug, title = (
        "invalid-tenant-setting",
        "Ungültige Mandanteneinstellung / Invalid tenant setting",
    )
