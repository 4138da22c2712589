"""Bearer tokens: HS256 dev tokens and RS256/ES256 via an OIDC JWKS served over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from eakte.app import create_app
from eakte.config import Settings
from support import TENANT_A, TEST_SECRET

ISSUER = "https://idp.test/realms/eakte"
AUDIENCE = "eakte-api"


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "u1",
        "tenant": TENANT_A,
        "roles": ["clerk"],
        "name": "Uta Clerk",
        "iss": "eakte-dev",
        "aud": "eakte",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


async def test_me_returns_the_principal(client: httpx.AsyncClient, auth) -> None:
    response = await client.get("/api/v1/me", headers=auth("clerk", "approver", sub="anna@a"))
    assert response.status_code == 200
    assert response.json() == {
        "sub": "anna@a",
        "tenant": TENANT_A,
        "tenant_name": "Stadt Augsburg",  # the authority's display name, not the slug
        "roles": ["approver", "clerk"],
        "name": "Test clerk/approver",
    }


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer not.a.token",
        "Basic dXNlcjpwYXNz",
        "Bearer " + jwt.encode(_claims(), "wrong-secret-wrong-secret-wrong-secret", "HS256"),
        "Bearer " + jwt.encode(_claims(exp=int(time.time()) - 3600), TEST_SECRET, "HS256"),
        "Bearer " + jwt.encode(_claims(aud="someone-else"), TEST_SECRET, "HS256"),
        "Bearer " + jwt.encode(_claims(iss="evil"), TEST_SECRET, "HS256"),
        "Bearer " + jwt.encode(_claims(tenant="atlantis"), TEST_SECRET, "HS256"),
        "Bearer " + jwt.encode(_claims(roles="clerk"), TEST_SECRET, "HS256"),
        "Bearer " + jwt.encode(_claims(sub=""), TEST_SECRET, "HS256"),
        "Bearer " + jwt.encode(_claims(), key="", algorithm="none"),
    ],
    ids=[
        "missing",
        "empty",
        "garbage",
        "basic",
        "forged",
        "expired",
        "audience",
        "issuer",
        "unknown-tenant",
        "roles-not-list",
        "empty-sub",
        "alg-none",
    ],
)
async def test_bad_tokens_are_401_problems(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["type"] == "urn:eakte:problem:unauthenticated"


async def test_every_api_route_requires_a_token(client: httpx.AsyncClient, app) -> None:
    from fastapi.routing import APIRoute

    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/v1"):
            continue
        path = route.path.replace("{case_id}", "00000000-0000-0000-0000-000000000001")
        for method in route.methods:
            response = await client.request(method, path)
            assert response.status_code == 401, (method, route.path)


class _JWKSHandler(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def keys() -> dict[str, object]:
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "other": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


def _jwks(keys: dict[str, object]) -> bytes:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(keys["rsa"].public_key()))  # type: ignore[attr-defined]
    ec_jwk = json.loads(ECAlgorithm.to_jwk(keys["ec"].public_key()))  # type: ignore[attr-defined]
    rsa_jwk.update(kid="rsa-1", use="sig", alg="RS256")
    ec_jwk.update(kid="ec-1", use="sig", alg="ES256")
    return json.dumps({"keys": [rsa_jwk, ec_jwk]}).encode()


@pytest.fixture
def jwks_url(keys: dict[str, object]) -> Iterator[str]:
    handler = type("H", (_JWKSHandler,), {"body": _jwks(keys)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/realms/eakte/certs"
    server.shutdown()


@pytest.fixture
async def oidc_client(settings: Settings, db, jwks_url: str):  # type: ignore[no-untyped-def]
    oidc = settings.model_copy(
        update={
            "env": "production",
            "jwt_secret": None,
            "oidc_jwks_url": jwks_url,
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
        }
    )
    app = create_app(oidc)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client
    await app.state.db.dispose()


def _oidc_token(key: object, alg: str, kid: str, **overrides: object) -> str:
    claims = _claims(**({"iss": ISSUER, "aud": AUDIENCE} | overrides))
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key_name", "alg", "kid"), [("rsa", "RS256", "rsa-1"), ("ec", "ES256", "ec-1")]
)
async def test_oidc_tokens_verified_against_jwks(
    oidc_client: httpx.AsyncClient, keys: dict[str, object], key_name: str, alg: str, kid: str
) -> None:
    token = _oidc_token(keys[key_name], alg, kid)
    response = await oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Uta Clerk"


@pytest.mark.parametrize(
    "case",
    [
        "wrong-audience",
        "wrong-issuer",
        "unknown-key",
        "foreign-key-same-kid",
        "hs256-in-production",
    ],
)
async def test_oidc_rejects_bad_tokens(
    oidc_client: httpx.AsyncClient, keys: dict[str, object], case: str
) -> None:
    token = {
        "wrong-audience": lambda: _oidc_token(keys["rsa"], "RS256", "rsa-1", aud="other"),
        "wrong-issuer": lambda: _oidc_token(keys["rsa"], "RS256", "rsa-1", iss="https://evil"),
        "unknown-key": lambda: _oidc_token(keys["other"], "RS256", "nope"),
        "foreign-key-same-kid": lambda: _oidc_token(keys["other"], "RS256", "rsa-1"),
        "hs256-in-production": lambda: jwt.encode(_claims(), TEST_SECRET, "HS256"),
    }[case]()
    response = await oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_jwks_from_file_url(
    settings: Settings, db, keys: dict[str, object], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "jwks.json"
    path.write_bytes(_jwks(keys))
    oidc = settings.model_copy(
        update={
            "oidc_jwks_url": f"file://{path}",
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
        }
    )
    app = create_app(oidc)
    token = _oidc_token(keys["ec"], "ES256", "ec-1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    await app.state.db.dispose()
    assert response.status_code == 200
