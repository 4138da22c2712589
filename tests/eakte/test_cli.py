"""The `eakte` CLI against a real database, and `eakte serve` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import jwt

from support import case_payload, free_port, wait_ready

EAKTE = [sys.executable, "-m", "eakte.cli"]


def test_token_prints_only_the_token(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [*EAKTE, "token", "--tenant", "augsburg", "--user", "u1", "--roles", "clerk,approver"],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = result.stdout.strip()
    assert "\n" not in token
    claims = jwt.decode(token, cli_env["EAKTE_JWT_SECRET"], algorithms=["HS256"], audience="eakte")
    assert claims["sub"] == "u1" and claims["roles"] == ["clerk", "approver"]


def test_token_rejects_unknown_roles(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [*EAKTE, "token", "--tenant", "a", "--user", "u", "--roles", "king"],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "unknown roles: king" in result.stderr


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(EAKTE_ENV="production", EAKTE_DATA_DIR=str(tmp_path))
    result = subprocess.run([*EAKTE, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "EAKTE_JWT_SECRET is missing" in result.stderr


def test_make_run_flow_on_a_fresh_data_dir(tmp_path: Path) -> None:
    """migrate + seed-demo --print-tokens + serve, then use a printed token like the README."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    port = free_port()
    env.update(EAKTE_ENV="dev", EAKTE_DATA_DIR=str(tmp_path / "var"), EAKTE_PORT=str(port))
    subprocess.run([*EAKTE, "migrate"], env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [*EAKTE, "seed-demo", "--print-tokens"], env=env, check=True, capture_output=True, text=True
    )
    again = subprocess.run(
        [*EAKTE, "seed-demo"], env=env, check=True, capture_output=True, text=True
    )
    assert "created now: none" in again.stderr
    tokens = dict(
        line.removeprefix("export ").split("=", 1)
        for line in seeded.stdout.splitlines()
        if line.startswith("export TOKEN_")
    )
    # 3 demo tenants x 8 demo users (two clerks since issue 16: assignment and Vertretung;
    # the Poststelle since issue 13: print batches)
    assert len(tokens) == 24
    assert (tmp_path / "var" / "demo-tokens.sh").read_text().count("export TOKEN_") == 24
    server = subprocess.Popen(
        [*EAKTE, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        clerk = {"Authorization": f"Bearer {tokens['TOKEN_NUERNBERG_CLERK']}"}
        me = httpx.get(f"{base}/api/v1/me", headers=clerk)
        assert me.status_code == 200 and me.json()["tenant"] == "nuernberg"
        created = httpx.post(f"{base}/api/v1/cases", json=case_payload(), headers=clerk)
        assert created.status_code == 201
        other = {"Authorization": f"Bearer {tokens['TOKEN_MUENCHEN_CLERK']}"}
        assert (
            httpx.get(f"{base}/api/v1/cases/{created.json()['id']}", headers=other).status_code
            == 404
        )
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert tokens["TOKEN_NUERNBERG_CLERK"].encode() not in stderr
