"""Fail-closed defaults (issue 18): production unless asked otherwise, strong secrets,
no demo sign-in next to OIDC or from another machine, bounded token lifetimes and claims."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest

from eakte.app import create_app
from eakte.config import ConfigError, Settings
from support import TENANT_A, TEST_SECRET

EAKTE = [sys.executable, "-m", "eakte.cli"]
STRONG = "Zq8-Lp3v_Xw9Rt2Kd7Hy5Bn1Mc4Fj6Gs0a"


def _bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(extra)
    return env


def test_without_eakte_env_the_service_is_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EAKTE_ENV", raising=False)
    with pytest.raises(ConfigError, match="EAKTE_JWT_SECRET is missing"):
        Settings(data_dir=tmp_path)
    assert Settings(data_dir=tmp_path, jwt_secret=STRONG).env == "production"


def test_serve_without_eakte_env_refuses_to_start_unconfigured(tmp_path: Path) -> None:
    env = _bare_env(EAKTE_DATA_DIR=str(tmp_path))
    result = subprocess.run([*EAKTE, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "EAKTE_JWT_SECRET is missing" in result.stderr


def test_dev_mode_is_announced_at_start(tmp_path: Path) -> None:
    """`eakte serve` in dev mode says so loudly (here: it then fails on a taken port)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _bare_env(EAKTE_ENV="dev", EAKTE_DATA_DIR=str(tmp_path), EAKTE_PORT=str(port))
        result = subprocess.run(
            [*EAKTE, "serve"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode != 0
    assert "DEVELOPMENT MODE" in result.stderr


@pytest.mark.parametrize(
    "secret",
    ["abcdefgh" * 4, "Passwort2026Passwort2026Passwort", "aB3" * 12, "x" * 31 + "Y1-"],
)
def test_weak_secrets_are_refused_in_production(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError, match="too weak"):
        Settings(env="production", data_dir=tmp_path, jwt_secret=secret)


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt-secret"
    secret_file.write_text(STRONG + "\n")
    settings = Settings(env="production", data_dir=tmp_path, jwt_secret_file=secret_file)
    assert settings.jwt_secret == STRONG
    with pytest.raises(ConfigError, match="not both"):
        Settings(
            env="production", data_dir=tmp_path, jwt_secret=STRONG, jwt_secret_file=secret_file
        )
    with pytest.raises(ConfigError, match="EAKTE_JWT_SECRET_FILE"):
        Settings(env="production", data_dir=tmp_path, jwt_secret_file=tmp_path / "missing")


def test_production_refuses_a_plain_http_jwks_url(tmp_path: Path) -> None:
    oidc = {"oidc_issuer": "https://idp.example", "oidc_audience": "eakte"}
    with pytest.raises(ConfigError, match="https"):
        Settings(
            env="production", data_dir=tmp_path, oidc_jwks_url="http://idp.example/jwks", **oidc
        )
    with pytest.raises(ConfigError, match="https"):  # loopback only with the explicit override
        Settings(
            env="production", data_dir=tmp_path, oidc_jwks_url="http://127.0.0.1:9/jwks", **oidc
        )
    Settings(
        env="production",
        data_dir=tmp_path,
        oidc_jwks_url="http://127.0.0.1:9/jwks",
        oidc_allow_insecure_loopback_jwks=True,
        **oidc,
    )
    with pytest.raises(ConfigError, match="https"):  # the override never covers other hosts
        Settings(
            env="production",
            data_dir=tmp_path,
            oidc_jwks_url="http://idp.example/jwks",
            oidc_allow_insecure_loopback_jwks=True,
            **oidc,
        )


async def _dev_login(settings: Settings, client_host: str = "127.0.0.1") -> httpx.Response:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as client:
        response = await client.post("/app/dev-login", json={"tenant": TENANT_A, "user": "admin"})
    await app.state.db.dispose()
    return response


async def test_dev_login_is_refused_outside_explicit_dev_mode(settings: Settings) -> None:
    assert (await _dev_login(settings)).status_code == 200
    production = settings.model_copy(update={"env": "production"})
    assert (await _dev_login(production)).status_code == 404


async def test_dev_login_is_refused_from_another_machine(settings: Settings) -> None:
    response = await _dev_login(settings, client_host="203.0.113.7")
    assert response.status_code == 404
    assert "token" not in response.text


async def test_dev_login_is_refused_when_oidc_is_configured(
    settings: Settings, tmp_path: Path
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    with_oidc = settings.model_copy(
        update={
            "oidc_jwks_url": jwks.as_uri(),
            "oidc_issuer": "https://idp.example",
            "oidc_audience": "eakte",
        }
    )
    assert (await _dev_login(with_oidc)).status_code == 404


def _token(settings: Settings, **claims: object) -> str:
    now = int(time.time())
    body: dict[str, object] = {
        "sub": "anna@augsburg",
        "tenant": TENANT_A,
        "roles": ["clerk"],
        "name": "Anna",
        "iss": settings.jwt_issuer,
        "aud": "eakte",
        "iat": now,
        "exp": now + 600,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, TEST_SECRET, algorithm="HS256")


async def test_a_token_valid_for_a_century_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    now = int(time.time())
    for claims in ({"exp": now + 100 * 365 * 86400}, {"exp": now + 100 * 365 * 86400, "iat": None}):
        response = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {_token(settings, **claims)}"}
        )
        assert response.status_code == 401, response.text
        assert "lifetime" in response.json()["detail"]


@pytest.mark.parametrize("sub", ["system", "SYSTEM", "system:case", "bad\x00sub"])
async def test_reserved_or_malformed_subjects_are_refused(
    client: httpx.AsyncClient, settings: Settings, sub: str
) -> None:
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {_token(settings, sub=sub)}"}
    )
    assert response.status_code == 401


async def test_an_overlong_name_claim_is_cut_and_writes_still_work(
    client: httpx.AsyncClient, settings: Settings, new_case: Callable[..., object]
) -> None:
    headers = {"Authorization": f"Bearer {_token(settings, name='Ä' * 300 + chr(7))}"}
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["name"] == "Ä" * 200
    from support import case_payload

    created = await client.post("/api/v1/cases", json=case_payload(), headers=headers)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    patched = await client.patch(
        f"/api/v1/cases/{case_id}",
        json={"title": "Umbau"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
