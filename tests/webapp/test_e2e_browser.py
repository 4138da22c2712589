"""Two officials in two headless Chromium pages against a real `eakte serve` (Node script)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from oidc_support import API_AUDIENCE, CLIENT_ID, oidc_provider

E2E_DIR = Path(__file__).parent / "e2e"
CHROMIUM = os.environ.get("EAKTE_CHROMIUM", "/usr/bin/chromium")
EAKTE = [sys.executable, "-m", "eakte.cli"]

pytestmark = [
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="Node.js and npm are needed for the browser test (apt-get install nodejs npm)",
    ),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} is missing (apt-get install -y chromium, or set EAKTE_CHROMIUM)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """`npm ci` in tests/webapp/e2e unless playwright-core is already installed."""
    if not (E2E_DIR / "node_modules" / "playwright-core").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=E2E_DIR, check=True, timeout=300
        )
    return E2E_DIR / "node_modules"


@contextmanager
def _serve(tmp_path: Path, setup: list[list[str]], **config: str) -> Iterator[str]:
    """A real `eakte serve` on a fresh data dir after the `setup` commands; its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    config.setdefault("EAKTE_PORT", str(_free_port()))
    env.update(EAKTE_DATA_DIR=str(tmp_path / "var"), **config)
    for command in [["migrate"], *setup]:
        done = subprocess.run([*EAKTE, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"eakte {' '.join(command)}: {done.stderr}"
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([*EAKTE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{config['EAKTE_PORT']}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.1)
        else:
            raise AssertionError("server did not become ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _run_node(script: str, tmp_path: Path, **env: str) -> str:
    """Run an e2e script; its stdout (the server log is shown when it fails)."""
    result = subprocess.run(
        ["node", script],
        cwd=E2E_DIR,
        env={**os.environ, "EAKTE_CHROMIUM": CHROMIUM, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    server_log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert result.returncode == 0, (
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nserver log:\n{server_log}"
    )
    return result.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real `eakte serve` in dev mode with the demo tenants."""
    with _serve(tmp_path, [["seed-demo"]], EAKTE_ENV="dev") as base:
        yield base


def test_two_officials_co_edit_a_case_in_the_browser(
    node_modules: Path, server: str, tmp_path: Path
) -> None:
    stdout = _run_node(
        "run.mjs",
        tmp_path,
        EAKTE_BASE_URL=server,
        EAKTE_SCREENSHOT=str(tmp_path / "case.png"),
    )
    assert "E2E OK" in stdout
    assert (tmp_path / "case.png").stat().st_size > 10_000


def test_sign_in_refresh_and_logout_against_a_real_oidc_provider(
    node_modules: Path, tmp_path: Path
) -> None:
    """Issue 19: the browser app signs in with oidc-client-ts (code + PKCE), renews its token
    without a reload, ends the provider session on "Abmelden" (the next person at a shared
    PC must sign in again) and refuses an authorization response naming another issuer
    (RFC 9207 `iss`)."""
    port = str(_free_port())
    app_origin = f"http://127.0.0.1:{port}"
    with oidc_provider("flat", "ES256", app_origin=app_origin, access_ttl=75) as idp:
        config = {
            "EAKTE_ENV": "production",
            "EAKTE_PORT": port,
            "EAKTE_OIDC_ISSUER": idp.issuer,
            "EAKTE_OIDC_JWKS_URL": idp.jwks_url,
            "EAKTE_OIDC_AUDIENCE": API_AUDIENCE,
            "EAKTE_OIDC_CLIENT_ID": CLIENT_ID,
            "EAKTE_OIDC_ALLOW_INSECURE_LOOPBACK_JWKS": "true",
        }
        tenant = ["tenant", "create", "muenchen", "--name", "Landeshauptstadt München"]
        with _serve(tmp_path, [tenant], **config) as base:
            stdout = _run_node(
                "oidc.mjs", tmp_path, EAKTE_BASE_URL=base, EAKTE_OIDC_ISSUER=idp.issuer
            )
    assert "OIDC E2E OK" in stdout, stdout
    assert "access token renewed" in stdout and "ended the provider session" in stdout


ARTIFACTS = Path(__file__).parent / "artifacts"


def test_an_officials_day_with_documents_history_and_german_labels(
    node_modules: Path, server: str, tmp_path: Path
) -> None:
    """Issue 16 (part 2): PDF and image preview, retitle and withdraw, history in German,
    named versions, co-edited field validation and projection, German validation messages,
    no sideways scroll at 390 px, axe-core scans (0 serious/critical), /docs and /redoc."""
    stdout = _run_node("daily.mjs", tmp_path, EAKTE_BASE_URL=server, EAKTE_ARTIFACTS=str(ARTIFACTS))
    assert "DAILY E2E OK" in stdout, stdout
    assert "axe Vorgang:" in stdout and "axe Vorgänge 390:" in stdout
    for name in ("case-390.png", "case-1440.png", "list-390.png", "list-1440.png"):
        assert (ARTIFACTS / name).stat().st_size > 5_000, name
