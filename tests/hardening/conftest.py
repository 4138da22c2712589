"""Helpers for the attack tests: a real `eakte serve` on loopback, raw-socket requests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import free_port, wait_ready

EAKTE = [sys.executable, "-m", "eakte.cli"]

Serve = Callable[..., str]


@pytest.fixture
def serve(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Serve]:
    """Start `eakte serve` against the test database: base = serve(EAKTE_X="…")."""
    processes: list[subprocess.Popen[bytes]] = []

    def _start(**extra: str) -> str:
        port = free_port()
        env = cli_env | {
            "EAKTE_PORT": str(port),
            "EAKTE_TICK_INTERVAL_SECONDS": "0",
            "EAKTE_LOG_LEVEL": "warning",
            **extra,
        }
        log = (tmp_path / f"serve-{port}.log").open("wb")
        processes.append(
            subprocess.Popen([*EAKTE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        return base

    yield _start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
