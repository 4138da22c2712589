"""OIDC key set floods (issue 18): tokens with made-up `kid`s must not cause a fetch each,
must not hold up tokens whose key is known, and an unloadable key set is a 503, not a 401."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jwt.algorithms import RSAAlgorithm

from eakte.app import create_app
from eakte.config import Settings
from support import TENANT_A, free_port

ISSUER = "https://idp.example/realms/eakte"
AUDIENCE = "eakte-api"
JUNK_TOKENS = 200


class KeyServer:
    """A JWKS endpoint on loopback that counts fetches and can hold them at a gate."""

    def __init__(self, public_jwk: dict[str, object]) -> None:
        self.body = json.dumps({"keys": [public_jwk]}).encode()
        self.fetches = 0
        self.gate = threading.Event()
        self.gate.set()
        self.fetch_started = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.fetches += 1
                outer.fetch_started.set()
                outer.gate.wait(timeout=50)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_server(signing_key: rsa.RSAPrivateKey) -> Iterator[KeyServer]:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid="good", use="sig", alg="RS256")
    server = KeyServer(jwk)
    yield server
    server.close()


def _token(key: rsa.RSAPrivateKey, kid: str) -> str:
    now = int(time.time())
    claims = {
        "sub": "uta@augsburg",
        "tenant": TENANT_A,
        "roles": ["clerk"],
        "name": "Uta",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def _oidc_client(
    settings: Settings, jwks_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    oidc = settings.model_copy(
        update={
            "env": "production",
            "jwt_secret": None,
            "oidc_jwks_url": jwks_url,
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "jwks_min_refetch_seconds": 10.0,
        }
    )
    app = create_app(oidc)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client, app
    await app.state.db.dispose()


async def test_unknown_kids_neither_refetch_each_time_nor_block_known_keys(
    settings: Settings, db: object, key_server: KeyServer, signing_key: rsa.RSAPrivateKey
) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = {"Authorization": f"Bearer {_token(signing_key, 'good')}"}
    async for client, app in _oidc_client(settings, key_server.url):
        assert (await client.get("/api/v1/me", headers=good)).status_code == 200
        assert key_server.fetches == 1
        # a minute later (past the minimum between forced refetches, within the refresh time)
        later = time.monotonic() + 60
        app.state.verifier.jwks.clock = lambda at=later: at  # frozen: no time passes

        # the identity provider hangs from now on; a flood of made-up kids arrives
        key_server.gate.clear()
        key_server.fetch_started.clear()
        flood = [
            asyncio.ensure_future(
                client.get(
                    "/api/v1/me",
                    headers={"Authorization": f"Bearer {_token(attacker, uuid.uuid4().hex)}"},
                )
            )
            for _ in range(JUNK_TOKENS)
        ]
        await asyncio.to_thread(key_server.fetch_started.wait, 30)
        assert key_server.fetch_started.is_set(), "the flood caused no refetch at all"

        # while that one refetch hangs, a token with a known key is answered at once
        valid = await asyncio.wait_for(client.get("/api/v1/me", headers=good), timeout=30)
        assert valid.status_code == 200
        assert not key_server.gate.is_set()

        key_server.gate.set()
        answers = await asyncio.gather(*flood)
        assert {a.status_code for a in answers} == {401}
        assert key_server.fetches == 2  # one forced refetch for 200 unknown kids

        # the same junk again: still one fetch in total, answered from the negative cache
        again = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {_token(attacker, 'nope')}"}
        )
        assert again.status_code == 401
        assert key_server.fetches == 2


async def test_unloadable_key_set_is_503_not_401(
    settings: Settings, db: object, signing_key: rsa.RSAPrivateKey
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/certs"  # nothing listens there
    headers = {"Authorization": f"Bearer {_token(signing_key, 'good')}"}
    async for client, _ in _oidc_client(settings, dead):
        response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 503, response.text
        assert response.json()["type"] == "urn:eakte:problem:service-unavailable"
        upload = await client.post("/api/v1/cases", json={}, headers=headers)
        assert upload.status_code == 503
