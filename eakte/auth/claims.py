"""Where a token's roles and tenant come from: claim paths, role maps, issuers.

Identity providers lay out claims differently: a flat `roles`/`tenant` pair (our dev
tokens), Keycloak's `realm_access.roles` and `resource_access.<client>.roles`, Entra ID's
`roles`/`groups` without any tenant claim. A `ClaimMapping` says, per issuer, which claim
paths hold roles, how a group or role name maps to an E-Akte role, and whether the tenant
is a claim or fixed by the issuer (one IdP per city). `tokens.principal_from_claims` is
the only place that applies it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eakte.auth.principal import Role
from eakte.errors import Unauthenticated

FLAT_ROLES = ("roles",)


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`realm_access.roles`), or None.

    A literal key containing dots (`https://example.org/roles`) is tried first, so URI-named
    claims (Auth0, Entra ID optional claims) work unquoted.
    """
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@dataclass(frozen=True)
class ClaimMapping:
    """How one issuer's claims become roles and a tenant.

    With an empty `role_map` the claim values must be E-Akte role names; with a map only
    mapped names count (a realm's own "admin" role must not become an E-Akte admin by
    accident of naming).
    """

    roles_claims: tuple[str, ...] = FLAT_ROLES
    role_map: Mapping[str, Role] = field(default_factory=dict)
    tenant_claim: str | None = "tenant"
    tenant: str | None = None

    def roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        """The E-Akte roles the token grants (unknown names are ignored)."""
        names: list[str] = []
        for path in self.roles_claims:
            value = claim_at(claims, path)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise Unauthenticated(f"token claim {path!r} must be a list of strings")
            names.extend(value)
        if self.role_map:
            return frozenset(self.role_map[n] for n in names if n in self.role_map)
        return frozenset(Role(n) for n in names if n in Role.__members__)

    def tenant_of(self, claims: Mapping[str, Any]) -> str:
        """The tenant: fixed by the issuer, else from the tenant claim."""
        if self.tenant is not None:
            return self.tenant
        value = claim_at(claims, self.tenant_claim) if self.tenant_claim else None
        if not isinstance(value, str) or not value:
            raise Unauthenticated(f"token has no valid {self.tenant_claim or 'tenant'!r} claim")
        return value


FLAT = ClaimMapping()


def mapping_from_config(config: Mapping[str, Any], *, tenant: str | None = None) -> ClaimMapping:
    """A mapping from settings or a tenant's `identity_provider` (ValueError if invalid)."""
    roles_claims = config.get("roles_claims") or list(FLAT_ROLES)
    if isinstance(roles_claims, str):
        roles_claims = [p.strip() for p in roles_claims.split(",") if p.strip()]
    raw_map = config.get("role_map") or {}
    try:
        role_map = {str(k): Role(v) for k, v in raw_map.items()}
    except ValueError as exc:
        known = ", ".join(r.value for r in Role)
        raise ValueError(f"role_map names an unknown E-Akte role ({exc}); known: {known}") from exc
    return ClaimMapping(
        roles_claims=tuple(roles_claims),
        role_map=role_map,
        tenant_claim=config.get("tenant_claim", "tenant"),
        tenant=tenant if tenant is not None else config.get("tenant"),
    )


@dataclass(frozen=True)
class Issuer:
    """One accepted OpenID Connect issuer: where its keys are and how to read its claims."""

    issuer: str
    jwks_url: str
    audience: str
    algorithms: tuple[str, ...]
    mapping: ClaimMapping


def issuer_from_config(
    config: Mapping[str, Any], *, algorithms: tuple[str, ...], tenant: str | None = None
) -> Issuer:
    """An Issuer from a provider entry (`issuer`, `jwks_url`, `audience` + mapping keys)."""
    missing = [k for k in ("issuer", "jwks_url", "audience") if not config.get(k)]
    if missing:
        raise ValueError(f"OIDC provider entry lacks {', '.join(missing)}")
    return Issuer(
        issuer=str(config["issuer"]),
        jwks_url=str(config["jwks_url"]),
        audience=str(config["audience"]),
        algorithms=tuple(config.get("algorithms") or algorithms),
        mapping=mapping_from_config(config, tenant=tenant),
    )


TenantIssuers = Callable[[str], Awaitable[Issuer | None]]


class IssuerRegistry:
    """The issuers tokens may come from: those configured for the installation, then each
    tenant's own identity provider (looked up by `iss`)."""

    def __init__(self, configured: list[Issuer], tenant_issuers: TenantIssuers | None) -> None:
        self.configured = {i.issuer: i for i in configured}
        self.tenant_issuers = tenant_issuers

    def __bool__(self) -> bool:
        return bool(self.configured) or self.tenant_issuers is not None

    async def find(self, iss: object) -> Issuer | None:
        """The issuer named by an (unverified) `iss` claim, or None."""
        if not isinstance(iss, str) or not iss:
            return None
        found = self.configured.get(iss)
        if found is None and self.tenant_issuers is not None:
            found = await self.tenant_issuers(iss)
        return found


def configured_issuers(settings: Any) -> list[Issuer]:
    """The installation-wide issuers from `EAKTE_OIDC_*` and `EAKTE_OIDC_PROVIDERS`."""
    algorithms = tuple(settings.oidc_algorithms)
    issuers = []
    if settings.oidc_jwks_url and settings.oidc_issuer and settings.oidc_audience:
        issuers.append(
            issuer_from_config(
                {
                    "issuer": settings.oidc_issuer,
                    "jwks_url": settings.oidc_jwks_url,
                    "audience": settings.oidc_audience,
                    "roles_claims": settings.oidc_roles_claims,
                    "role_map": settings.oidc_role_map,
                    "tenant_claim": settings.oidc_tenant_claim,
                    "tenant": settings.oidc_tenant,
                },
                algorithms=algorithms,
            )
        )
    for entry in settings.oidc_providers:
        issuers.append(issuer_from_config(entry, algorithms=algorithms))
    return issuers
