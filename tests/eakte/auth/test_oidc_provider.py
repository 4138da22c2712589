"""Sign-in against a real OpenID Connect provider (node oidc-provider, tests/oidc).

Two claim layouts: Keycloak's (`realm_access.roles`, `resource_access.<client>.roles`, no
tenant claim: the tenant comes from the issuer configured on the tenant) and a flat one
(`tenant`, `roles`) from the installation-wide issuer. Both at once: several issuers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from eakte.app import create_app
from eakte.config import Settings
from oidc_support import API_AUDIENCE, RunningProvider, oidc_provider, refresh, sign_in
from support import TENANT_A, TENANT_B, case_payload

KEYCLOAK_MAPPING = {
    "roles_claims": ["realm_access.roles", "resource_access.eakte-web.roles"],
    "role_map": {
        "bau-sachbearbeitung": "clerk",
        "zeichnung": "approver",
        "bau-revision": "auditor",
    },
}


@pytest.fixture(scope="module")
def keycloak_idp() -> Iterator[RunningProvider]:
    with oidc_provider("keycloak", "RS256") as provider:
        yield provider


@pytest.fixture(scope="module")
def flat_idp() -> Iterator[RunningProvider]:
    with oidc_provider("flat", "ES256") as provider:
        yield provider


@pytest.fixture
async def client(  # type: ignore[no-untyped-def]
    settings: Settings, db, flat_idp: RunningProvider
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the flat issuer installation-wide; tenants may add their own issuers."""
    app = create_app(
        settings.model_copy(
            update={
                "oidc_issuer": flat_idp.issuer,
                "oidc_jwks_url": flat_idp.jwks_url,
                "oidc_audience": API_AUDIENCE,
            }
        )
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.db.dispose()


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _give_augsburg_its_idp(client: httpx.AsyncClient, auth, idp: RunningProvider) -> None:  # type: ignore[no-untyped-def]
    response = await client.patch(
        f"/api/v1/admin/tenants/{TENANT_A}",
        json={
            "identity_provider": {
                "issuer": idp.issuer,
                "jwks_url": idp.jwks_url,
                "audience": API_AUDIENCE,
                "client_id": "eakte-web",
                **KEYCLOAK_MAPPING,
            }
        },
        headers=auth("admin"),
    )
    assert response.status_code == 200, response.text


async def test_keycloak_layout_roles_mapped_and_tenant_from_issuer(
    client: httpx.AsyncClient,
    auth,
    keycloak_idp: RunningProvider,  # type: ignore[no-untyped-def]
) -> None:
    tokens = sign_in(keycloak_idp.issuer, "sachbearbeitung")
    # before the city names its IdP, the issuer is unknown
    assert (await client.get("/api/v1/me", headers=_bearer(tokens))).status_code == 401

    await _give_augsburg_its_idp(client, auth, keycloak_idp)
    me = await client.get("/api/v1/me", headers=_bearer(tokens))
    assert me.status_code == 200, me.text
    # realm role + client role mapped; the realm's own "admin" role is not an E-Akte admin
    assert me.json() == {
        "sub": "sachbearbeitung",
        "tenant": TENANT_A,
        "tenant_name": "Stadt Augsburg",
        "roles": ["approver", "clerk"],
        "name": "Erika Sachbearbeiterin",
    }
    created = await client.post("/api/v1/cases", json=case_payload(), headers=_bearer(tokens))
    assert created.status_code == 201, created.text

    auditor = sign_in(keycloak_idp.issuer, "revision")
    me = await client.get("/api/v1/me", headers=_bearer(auditor))
    assert me.json()["roles"] == ["auditor"]
    assert (
        await client.post("/api/v1/cases", json=case_payload(), headers=_bearer(auditor))
    ).status_code == 403

    nobody = sign_in(keycloak_idp.issuer, "niemand")
    assert (await client.get("/api/v1/me", headers=_bearer(nobody))).json()["roles"] == []
    assert (await client.get("/api/v1/cases", headers=_bearer(nobody))).status_code == 403

    # a refreshed access token (what the browser app does) works the same
    renewed = refresh(keycloak_idp.issuer, tokens["refresh_token"])
    assert renewed["access_token"] != tokens["access_token"]
    assert (await client.get("/api/v1/me", headers=_bearer(renewed))).json()["tenant"] == TENANT_A


async def test_flat_layout_from_the_installation_issuer(
    client: httpx.AsyncClient, flat_idp: RunningProvider
) -> None:
    tokens = sign_in(flat_idp.issuer, "sachbearbeitung")
    me = await client.get("/api/v1/me", headers=_bearer(tokens))
    assert me.status_code == 200, me.text
    assert me.json()["tenant"] == TENANT_B and me.json()["roles"] == ["approver", "clerk"]
    # the ID token is for the browser (audience = client id), not for the API
    id_token = {"Authorization": f"Bearer {tokens['id_token']}"}
    assert (await client.get("/api/v1/me", headers=id_token)).status_code == 401


async def test_several_issuers_each_with_its_own_keys_and_mapping(
    client: httpx.AsyncClient,
    auth,
    keycloak_idp: RunningProvider,
    flat_idp: RunningProvider,  # type: ignore[no-untyped-def]
) -> None:
    await _give_augsburg_its_idp(client, auth, keycloak_idp)
    from_keycloak = sign_in(keycloak_idp.issuer, "sachbearbeitung")
    from_flat = sign_in(flat_idp.issuer, "sachbearbeitung")
    a = (await client.get("/api/v1/me", headers=_bearer(from_keycloak))).json()
    b = (await client.get("/api/v1/me", headers=_bearer(from_flat))).json()
    assert (a["tenant"], b["tenant"]) == (TENANT_A, TENANT_B)
    # each city sees only its own cases
    case = await client.post("/api/v1/cases", json=case_payload(), headers=_bearer(from_keycloak))
    foreign = await client.get(f"/api/v1/cases/{case.json()['id']}", headers=_bearer(from_flat))
    assert foreign.status_code == 404
    # a token re-signed by nobody: the issuer's name alone gives nothing
    import jwt

    claims = jwt.decode(from_keycloak["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "x" * 64, algorithm="HS512")
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401
