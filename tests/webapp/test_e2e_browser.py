"""Two officials in two headless Chromium pages against a real `eakte serve` (Node script)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real `eakte serve` on a fresh data dir with the demo tenants."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    port = _free_port()
    env.update(EAKTE_ENV="dev", EAKTE_DATA_DIR=str(tmp_path / "var"), EAKTE_PORT=str(port))
    subprocess.run([*EAKTE, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*EAKTE, "seed-demo"], env=env, check=True, capture_output=True)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([*EAKTE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not become ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_two_officials_co_edit_a_case_in_the_browser(
    node_modules: Path, server: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "EAKTE_BASE_URL": server,
        "EAKTE_CHROMIUM": CHROMIUM,
        "EAKTE_SCREENSHOT": str(tmp_path / "case.png"),
    }
    result = subprocess.run(
        ["node", "run.mjs"], cwd=E2E_DIR, env=env, capture_output=True, text=True, timeout=180
    )
    server_log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert result.returncode == 0, (
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nserver log:\n{server_log}"
    )
    assert "E2E OK" in result.stdout
    assert (tmp_path / "case.png").stat().st_size > 10_000
