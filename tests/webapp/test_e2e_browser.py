"""Two officials in two headless Chromium pages against a real `eakte serve` (Node script)."""

from __future__ import annotations

import json
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
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots (gitignored)
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


def test_three_officials_daily_work_in_the_browser(node_modules: Path, tmp_path: Path) -> None:
    """Issue 16 with clerk, approver and agency contexts: assignment and "Meine Vorgänge"
    (overdue and "Fiktion in n Tagen" first), "Zur Zeichnung", a Beteiligung requested and
    answered while the agency cannot read the Vermerk (page, workspace API, socket), the
    notification, and "Fristen" after `eakte process tick` detected a Genehmigungsfiktion
    (Art. 68 Abs. 2 S. 1 BayBO, Art. 42a BayVwVfG). Screenshots go to tests/webapp/artifacts."""
    config = {"EAKTE_ENV": "dev", "EAKTE_TICK_INTERVAL_SECONDS": "0"}
    with _serve(tmp_path, [["seed-demo"]], **config) as base:
        server_env = {**config, "EAKTE_DATA_DIR": str(tmp_path / "var")}
        stdout = _run_node(
            "work.mjs",
            tmp_path,
            EAKTE_BASE_URL=base,
            EAKTE_PYTHON=sys.executable,
            EAKTE_SERVER_ENV=json.dumps(server_env),
            EAKTE_ARTIFACTS=str(ARTIFACTS),
        )
    print(stdout)  # the steps, shown with -s
    assert "WORK E2E OK" in stdout, stdout
    assert "socket closed 4403 after 0 messages" in stdout
    assert (ARTIFACTS / "fachstelle-390.png").stat().st_size > 5_000


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


def test_an_expired_token_is_renewed_and_edits_made_meanwhile_are_kept(
    node_modules: Path, tmp_path: Path
) -> None:
    """Issue 17: the socket closes 4401 at the token's expiry; the app renews and reconnects.

    The clerk types while the renewal is held back; a colleague who opens the case later sees
    that text. Short dev tokens (10 s) make the expiry happen during the test; the test waits
    for the events (socket closed, renewal requested, second socket), not for a time.
    """
    with _serve(
        tmp_path, [["seed-demo"]], EAKTE_ENV="dev", EAKTE_DEV_LOGIN_TTL_SECONDS="10"
    ) as base:
        created = httpx.post(
            f"{base}/api/v1/cases",
            json={
                "title": "Anbau Wintergarten",
                "procedure": "baybo-59",
                "site": {"address": "Hallstraße 3, 86150 Augsburg"},
                "applicant": {"name": "Jörg Beispiel"},
            },
            headers=_token(tmp_path, "clerk@augsburg", "clerk"),
        )
        assert created.status_code == 201, created.text
        stdout = _run_node(
            "reconnect.mjs", tmp_path, EAKTE_BASE_URL=base, EAKTE_CASE_ID=created.json()["id"]
        )
    assert "RECONNECT OK" in stdout


@pytest.fixture
def sealed_server(tmp_path: Path) -> Iterator[str]:
    """Like `server`, with development seals so that decisions can be signed (issue 13)."""
    with _serve(tmp_path, [["seed-demo"], ["seal", "dev-ca"]], EAKTE_ENV="dev") as base:
        yield base


def _token(tmp_path: Path, user: str, roles: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(EAKTE_DATA_DIR=str(tmp_path / "var"), EAKTE_ENV="dev")
    done = subprocess.run(
        [*EAKTE, "token", "--tenant", "augsburg", "--user", user, "--roles", roles],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return {"Authorization": f"Bearer {done.stdout.strip()}"}


def _case_awaiting_signature(base: str, tmp_path: Path) -> tuple[str, str]:
    """A case in `zur_zeichnung` with a sealed Baugenehmigung, prepared through the API."""
    clerk = _token(tmp_path, "kurt@augsburg", "clerk")
    sealer = _token(tmp_path, "anton@augsburg", "approver")
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    with httpx.Client(base_url=base, timeout=60) as http:
        case = http.post(
            "/api/v1/cases",
            json={
                "title": "Neubau Einfamilienhaus",
                "procedure": "baybo-59",
                "site": {
                    "address": "Maximilianstraße 12",
                    "gemarkung": "Augsburg",
                    "flurstueck": "1",
                },
                "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
            },
            headers=clerk,
        )
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        for kind in ("lageplan", "bauzeichnung", "baubeschreibung"):
            up = http.post(
                f"/api/v1/cases/{case_id}/documents",
                data={"title": kind, "kind": kind},
                files={"file": (f"{kind}.pdf", pdf, "application/pdf")},
                headers=clerk,
            )
            assert up.status_code == 201, up.text
        for action, state, data in (
            ("vollstaendigkeit_feststellen", "eingegangen", {}),
            ("beteiligung_abschliessen", "beteiligung", {}),
            ("entscheidung_entwerfen", "pruefung", {"vermerk": "zulässig"}),
        ):
            done = http.post(
                f"/api/v1/cases/{case_id}/process/actions",
                json={"action": action, "expected_state": state, "input": data},
                headers=clerk,
            )
            assert done.status_code == 200, done.text
        drafted = http.post(
            f"/api/v1/cases/{case_id}/issued",
            json={
                "letter_type": "baugenehmigung",
                "data": {"reasons": "§ 34 BauGB.", "conditions": ["Stellplätze herstellen."]},
            },
            headers=clerk,
        )
        assert drafted.status_code == 201, drafted.text
        signed = http.post(
            f"/api/v1/cases/{case_id}/issued/{drafted.json()['id']}/sign", headers=sealer
        )
        assert signed.status_code == 200, signed.text
    return case_id, case.json()["file_number"]


def test_zeichnen_shows_the_preview_and_asks_cancel_changes_nothing_confirm_signs(
    node_modules: Path, sealed_server: str, tmp_path: Path
) -> None:
    """Issue 13: before a decision is signed the browser shows its PDF and names the effect
    (Art. 68 Abs. 1 S. 1 BayBO); "Abbrechen" leaves the procedure as it was."""
    case_id, file_number = _case_awaiting_signature(sealed_server, tmp_path)
    stdout = _run_node(
        "sign.mjs", tmp_path, EAKTE_BASE_URL=sealed_server, EAKTE_FILE_NUMBER=file_number
    )
    assert "E2E SIGN OK" in stdout
    view = httpx.get(
        f"{sealed_server}/api/v1/cases/{case_id}/process",
        headers=_token(tmp_path, "kurt@augsburg", "clerk"),
    ).json()
    assert view["state"] == "genehmigt"
    signings = [t for t in view["transitions"] if t["action"] == "genehmigung_zeichnen"]
    assert len(signings) == 1  # the cancelled dialog did not sign


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


def test_the_post_room_makes_downloads_and_confirms_the_days_batch(
    node_modules: Path, sealed_server: str, tmp_path: Path
) -> None:
    """Issue 13: the Poststelle page; confirming the posting records the Bekanntgabe of each
    letter from the posting day (Art. 41 Abs. 2 BayVwVfG) and is asked for separately."""
    case_id, file_number = _case_awaiting_signature(sealed_server, tmp_path)
    clerk = _token(tmp_path, "kurt@augsburg", "clerk")
    approver = _token(tmp_path, "anton@augsburg", "approver")
    with httpx.Client(base_url=sealed_server, timeout=60) as http:
        drafted = http.post(
            f"/api/v1/cases/{case_id}/issued",
            json={
                "letter_type": "eingangsbestaetigung",
                "channel": "postal",
                "addressee": {
                    "kind": "applicant",
                    "name": "Maria Muster",
                    "address": "Maximilianstraße 12\n86150 Augsburg",
                },
                "data": {"received_on": "02.11.2026"},
            },
            headers=clerk,
        )
        assert drafted.status_code == 201, drafted.text
        signed = http.post(
            f"/api/v1/cases/{case_id}/issued/{drafted.json()['id']}/sign", headers=approver
        )
        assert signed.status_code == 200, signed.text
    stdout = _run_node(
        "postroom.mjs", tmp_path, EAKTE_BASE_URL=sealed_server, EAKTE_FILE_NUMBER=file_number
    )
    assert "E2E POSTROOM OK" in stdout
    postroom = _token(tmp_path, "paula@augsburg", "postroom")
    batches = httpx.get(f"{sealed_server}/api/v1/postroom/batches", headers=postroom).json()
    assert len(batches) == 1 and batches[0]["posted_on"] is not None and batches[0]["letters"] == 1
    letter = httpx.get(
        f"{sealed_server}/api/v1/cases/{case_id}/issued/{drafted.json()['id']}", headers=clerk
    ).json()
    assert letter["state"] == "bekanntgegeben", letter
