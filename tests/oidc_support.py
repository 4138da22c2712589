"""A real OIDC provider (node oidc-provider, tests/oidc) and a scripted PKCE sign-in."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from support import free_port

HERE = Path(__file__).parent / "oidc"
CLIENT_ID = "eakte-web"
REDIRECT_URI = "http://127.0.0.1:9/app/callback"
API_AUDIENCE = "eakte-api"


@dataclass
class RunningProvider:
    issuer: str
    jwks_url: str
    process: subprocess.Popen[str]


@contextmanager
def oidc_provider(
    layout: str, alg: str, app_origin: str = "http://127.0.0.1:9", access_ttl: int = 300
) -> Iterator[RunningProvider]:
    """Start tests/oidc/provider.mjs (after `npm ci` there); stop it afterwards.

    `app_origin` is the E-Akte web app allowed as redirect target (browser sign-in and
    logout); `access_ttl` the lifetime of access tokens in seconds."""
    if shutil.which("node") is None:
        pytest.fail("node is required for the OIDC provider tests (see .ci/run)")
    if not (HERE / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    port = free_port()
    process = subprocess.Popen(
        ["node", "provider.mjs", str(port), layout, alg, app_origin, str(access_ttl)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until it listens (or exits)
        assert line.startswith("ready "), f"oidc-provider did not start: {line!r}"
        issuer = line.split()[1]
        config = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
        yield RunningProvider(issuer=issuer, jwks_url=config["jwks_uri"], process=process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign_in(issuer: str, login: str) -> dict[str, str]:
    """Authorization code flow with PKCE as the browser runs it; the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    state = secrets.token_urlsafe(16)
    with httpx.Client(follow_redirects=False) as client:
        response = client.get(
            f"{issuer}/auth",
            params={
                "client_id": CLIENT_ID,
                "response_type": "code",
                "redirect_uri": REDIRECT_URI,
                "scope": "openid profile offline_access",
                "prompt": "consent",
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
                "state": state,
            },
        )
        code = None
        for _ in range(10):
            assert response.status_code in (302, 303), response.text
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(REDIRECT_URI):
                query = parse_qs(urlsplit(location).query)
                assert "error" not in query, query
                assert query["state"] == [state]
                code = query["code"][0]
                break
            page = client.get(location)
            if page.status_code in (302, 303):
                response = page
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', page.text)
            assert form, page.text
            prompt = re.search(r'name="prompt" value="([^"]+)"', page.text)
            data = {"prompt": prompt.group(1) if prompt else "login"}
            if data["prompt"] == "login":
                data |= {"login": login, "password": "irrelevant"}
            response = client.post(urljoin(location, form.group(1)), data=data)
        assert code is not None, "sign-in did not come back with a code"
        tokens = client.post(
            f"{issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": CLIENT_ID,
                "code_verifier": verifier,
            },
        )
        assert tokens.status_code == 200, tokens.text
        return tokens.json()  # type: ignore[no-any-return]


def refresh(issuer: str, refresh_token: str) -> dict[str, str]:
    """A refresh-token grant (the browser app does this before the access token expires)."""
    response = httpx.post(
        f"{issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
