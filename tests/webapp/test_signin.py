"""The web app's config and the dev-only sign-in endpoint."""

from __future__ import annotations

import httpx

from eakte.app import create_app
from eakte.config import Settings
from support import TEST_SECRET


async def test_config_in_dev_mode_offers_demo_users(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/config.json")
    assert response.status_code == 200
    body = response.json()
    assert body["dev_login"] is True and body["oidc"] is None
    users = {(u["tenant"], u["user"]) for u in body["demo_users"]}
    assert ("augsburg", "clerk") in users and ("nuernberg", "approver") in users
    assert not any(u["user"] == "applicant" for u in body["demo_users"])


async def test_dev_login_returns_a_working_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/app/dev-login", json={"tenant": "augsburg", "user": "clerk"})
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == "clerk@augsburg" and body["roles"] == ["clerk"]
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {
        "sub": "clerk@augsburg",
        "tenant": "augsburg",
        "tenant_name": "Stadt Augsburg",
        "roles": ["clerk"],
        "name": "Sachbearbeitung (Demo)",
    }
    cases = await client.get("/api/v1/cases", headers=headers)
    assert cases.status_code == 200


async def test_dev_login_refuses_unknown_users(client: httpx.AsyncClient) -> None:
    for body in (
        {"tenant": "augsburg", "user": "root"},
        {"tenant": "atlantis", "user": "clerk"},
        {"tenant": "augsburg", "user": "applicant"},
    ):
        assert (await client.post("/app/dev-login", json=body)).status_code == 404
    bad = await client.post("/app/dev-login", json={"tenant": "augsburg"})
    assert bad.status_code == 422


async def _production_client(
    settings: Settings, **extra: object
) -> tuple[httpx.AsyncClient, object]:
    prod = settings.model_copy(update={"env": "production", "jwt_secret": TEST_SECRET, **extra})
    app = create_app(prod)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver"), app


async def test_dev_login_does_not_exist_in_production(settings: Settings) -> None:
    client, app = await _production_client(settings)
    async with client:
        response = await client.post("/app/dev-login", json={"tenant": "augsburg", "user": "clerk"})
        assert response.status_code == 404
        config = (await client.get("/app/config.json")).json()
        assert config["dev_login"] is False and config["demo_users"] == []
        assert (await client.get("/app/")).status_code == 200
        assert "/app/dev-login" not in (await client.get("/openapi.json")).text
    await app.state.db.dispose()  # type: ignore[attr-defined]


async def test_config_exposes_the_oidc_client(settings: Settings) -> None:
    client, app = await _production_client(
        settings,
        oidc_issuer="https://login.example-city.de/realms/eakte",
        oidc_client_id="eakte-web",
    )
    async with client:
        config = (await client.get("/app/config.json")).json()
        assert config["oidc"] == {
            "issuer": "https://login.example-city.de/realms/eakte",
            "client_id": "eakte-web",
            "scope": "openid profile",
        }
        csp = (await client.get("/app/")).headers["content-security-policy"]
        assert (
            "connect-src 'self' ws://testserver wss://testserver https://login.example-city.de;"
            in csp
        )
    await app.state.db.dispose()  # type: ignore[attr-defined]
