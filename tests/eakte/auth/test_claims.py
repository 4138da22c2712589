"""Claim mapping rules (the real-provider flow is in test_oidc_provider.py)."""

from __future__ import annotations

import pytest

from eakte.auth.claims import ClaimMapping, claim_at, mapping_from_config
from eakte.auth.principal import Role
from eakte.auth.tokens import principal_from_claims
from eakte.config import ConfigError, Settings
from eakte.errors import Unauthenticated


def test_dotted_paths_and_uri_named_claims() -> None:
    claims = {"realm_access": {"roles": ["a"]}, "https://example.org/roles": ["b"]}
    assert claim_at(claims, "realm_access.roles") == ["a"]
    assert claim_at(claims, "https://example.org/roles") == ["b"]
    assert claim_at(claims, "realm_access.nothing.deeper") is None


def test_with_a_role_map_only_mapped_names_count() -> None:
    mapping = mapping_from_config({"roles_claims": ["groups"], "role_map": {"Bauamt-SB": "clerk"}})
    claims = {"sub": "u", "tenant": "augsburg", "groups": ["Bauamt-SB", "admin", "approver"]}
    assert principal_from_claims(claims, mapping).roles == {Role.clerk}


def test_tenant_fixed_by_the_issuer_ignores_a_tenant_claim() -> None:
    mapping = ClaimMapping(tenant="augsburg")
    principal = principal_from_claims(
        {"sub": "u", "tenant": "muenchen", "roles": ["clerk"]}, mapping
    )
    assert principal.tenant == "augsburg"


@pytest.mark.parametrize(
    "claims",
    [{"sub": "u", "roles": ["clerk"]}, {"sub": "u", "org": {"id": 5}, "roles": []}],
)
def test_missing_tenant_claim_is_401(claims: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated, match="'org.id'|'tenant'"):
        principal_from_claims(
            claims, ClaimMapping(tenant_claim="org.id" if "org" in claims else "tenant")
        )


def test_a_role_map_naming_an_unknown_role_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="unknown E-Akte role"):
        Settings(
            oidc_jwks_url="https://idp/jwks",
            oidc_issuer="https://idp",
            oidc_audience="eakte",
            oidc_role_map={"Bauamt": "king"},
        )
