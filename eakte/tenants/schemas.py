"""Tenant configuration as the CLI and the admin API read and write it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from eakte.auth.principal import Role

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"
MEDIA_TYPE_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$"
ClaimPath = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorityAddress(_Strict):
    """Postal address of the Bauaufsichtsbehörde (for letters and the Bescheid)."""

    authority: str = Field(default="", max_length=200, description="e.g. Bauordnungsamt")
    street: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", pattern=r"^(\d{5})?$")
    city: str = Field(default="", max_length=120)


class Contact(_Strict):
    """How applicants reach the authority."""

    email: str = Field(default="", max_length=320, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")
    phone: str = Field(default="", max_length=60, pattern=r"^[0-9+() /-]*$")
    website: str = Field(default="", max_length=300, pattern=r"^(https?://\S+)?$")
    opening_hours: str = Field(default="", max_length=300)


class IdentityProvider(_Strict):
    """The city's own OpenID Connect provider: its tokens belong to this tenant.

    The tenant comes from the issuer, so the tokens need no `tenant` claim (Entra ID has
    none); roles come from `roles_claims` (dotted paths, e.g. Keycloak's
    `realm_access.roles`), mapped through `role_map` (group or role name → E-Akte role).
    """

    issuer: str = Field(min_length=1, max_length=500, pattern=r"^https?://\S+$")
    jwks_url: str = Field(min_length=1, max_length=500, pattern=r"^(https?|file)://\S+$")
    audience: str = Field(min_length=1, max_length=200)
    client_id: str | None = Field(default=None, max_length=200)
    roles_claims: list[ClaimPath] = Field(default_factory=lambda: ["roles"], max_length=10)
    role_map: dict[Annotated[str, Field(max_length=200)], Role] = Field(
        default_factory=dict, max_length=200
    )


class _TenantFields(_Strict):
    authority_address: AuthorityAddress | None = None
    contact: Contact | None = None
    file_number_pattern: str | None = Field(default=None, min_length=5, max_length=100)
    holiday_calendar: str | None = Field(default=None, min_length=1, max_length=60)
    allowed_media_types: (
        list[Annotated[str, Field(pattern=MEDIA_TYPE_PATTERN, max_length=127)]] | None
    ) = Field(default=None, min_length=1, max_length=100)
    max_upload_bytes: int | None = Field(default=None, ge=1024, le=20 * 1024**3)
    identity_provider: IdentityProvider | None = None

    @field_validator("allowed_media_types")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(value)) if value is not None else None


class TenantCreate(_TenantFields):
    """A new city; unset fields take the defaults (Bavarian calendar, 200 MiB, …)."""

    slug: str = Field(pattern=SLUG_PATTERN, description="e.g. augsburg (in tokens and URLs)")
    name: str = Field(min_length=1, max_length=200, description="Stadt Augsburg – Bauordnungsamt")


class TenantUpdate(_TenantFields):
    """Fields to change; `identity_provider: null` is ignored, use `remove_identity_provider`."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    remove_identity_provider: bool = False


class TenantRead(BaseModel):
    """A city's configuration."""

    slug: str
    name: str
    authority_address: AuthorityAddress
    contact: Contact
    file_number_pattern: str
    holiday_calendar: str
    allowed_media_types: list[str]
    max_upload_bytes: int
    identity_provider: IdentityProvider | None
    created_at: datetime
    updated_at: datetime


class TenantList(BaseModel):
    """All cities of this installation."""

    items: list[TenantRead]
