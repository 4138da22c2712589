"""Start-up failures: one line (what, where, what to do), non-zero exit, no hang."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from support import TEST_SECRET, free_port

EAKTE = [sys.executable, "-m", "eakte.cli"]
PROJECT = Path(__file__).resolve().parents[2]
# a generous guard against a hang, not a time budget: a prompt exit takes a second or two
HANG_GUARD_SECONDS = 180


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(EAKTE_DATA_DIR=str(tmp_path / "var"), EAKTE_JWT_SECRET=TEST_SECRET, **extra)
    return env


def _run(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EAKTE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


@pytest.mark.parametrize("command", [["migrate"], ["serve"], ["tenant", "list"]])
def test_unreachable_database_is_one_line(tmp_path: Path, command: list[str]) -> None:
    env = _env(
        tmp_path,
        EAKTE_DATABASE_URL="postgresql://nobody@127.0.0.1:1/x",
        EAKTE_PORT=str(free_port()),
    )
    result = _run(command, env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = _error_lines(result.stderr)
    assert "cannot reach the database postgresql://nobody@127.0.0.1:1/x" in line
    assert "EAKTE_DATABASE_URL" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    env = _env(tmp_path, EAKTE_DATABASE_URL="postgresql://nobody@127.0.0.1:1/x")
    result = _run(["--debug", "migrate"], env)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "OperationalError" in result.stderr


def test_unusable_data_directory_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = _env(tmp_path)
    env["EAKTE_DATA_DIR"] = str(blocker / "var")
    result = _run(["migrate"], env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = _error_lines(result.stderr)
    assert str(blocker / "var") in line and "EAKTE_DATA_DIR" in line


def test_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = _run(["migrate"], _env(tmp_path, EAKTE_PORT="achtzig"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: EAKTE_PORT: Input should be a valid integer, unable to parse "
        "string as an integer"
    ]


@pytest.mark.parametrize("with_redis", [False, True], ids=["single", "redis"])
def test_port_taken_exits_promptly(tmp_path: Path, database_url: str, with_redis: bool) -> None:
    redis_url = os.environ.get("EAKTE_TEST_REDIS_URL")
    if with_redis and not redis_url:
        pytest.skip("EAKTE_TEST_REDIS_URL not set")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, EAKTE_DATABASE_URL=database_url, EAKTE_PORT=str(port))
        if with_redis:
            env["EAKTE_REDIS_URL"] = str(redis_url)
        result = _run(["serve"], env)
    assert result.returncode == 1
    (line,) = _error_lines(result.stderr)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "EAKTE_PORT" in line


def test_unreachable_redis_is_one_line(tmp_path: Path, database_url: str) -> None:
    env = _env(
        tmp_path,
        EAKTE_DATABASE_URL=database_url,
        EAKTE_PORT=str(free_port()),
        EAKTE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    result = _run(["serve"], env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = _error_lines(result.stderr)
    assert "cannot reach Redis" in line and "EAKTE_REDIS_URL" in line


def test_data_directory_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env["EAKTE_ENV"] = "dev"  # production would refuse to start without a secret
    probe = (
        "from eakte.config import Settings; s = Settings(); "
        "print(s.data_dir); print(s.data_dir_source())"
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert elsewhere[0] == str(PROJECT / "var")
    assert "pyproject.toml" in elsewhere[1]
    assert not (tmp_path / "var").exists()


def test_commands_say_which_data_directory_they_use(tmp_path: Path) -> None:
    env = _env(tmp_path, EAKTE_ENV="dev")
    del env["EAKTE_JWT_SECRET"]  # the dev secret is read from the data dir
    result = _run(
        ["token", "--tenant", "augsburg", "--user", "u", "--roles", "clerk"], env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert f"data directory: {tmp_path / 'var'} (from EAKTE_DATA_DIR)" in result.stderr
    assert (tmp_path / "var" / "dev-jwt-secret").exists()
