"""Fixtures of the co-editing tests: a live server, cases, clients."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from collab_support import InProcessServer, ServerProcess, YClient  # noqa: E402

from eakte.app import create_app  # noqa: E402
from eakte.config import Settings  # noqa: E402
from support import TEST_SECRET  # noqa: E402


@pytest.fixture
def collab_settings(settings: Settings) -> Settings:
    """Test settings with fast collab timers."""
    return settings.model_copy(
        update={"collab_idle_unload_seconds": 30.0, "tick_interval_seconds": 0}
    )


@pytest.fixture
async def live(collab_settings: Settings, db: Any) -> AsyncIterator[InProcessServer]:
    """The service on a real port (uvicorn in this event loop)."""
    server = InProcessServer(create_app(collab_settings))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def live_with(db: Any) -> AsyncIterator[Callable[..., Any]]:
    """Start a server with changed settings: `await live_with(settings, **changes)`."""
    servers: list[InProcessServer] = []

    async def _start(base: Settings, **changes: Any) -> InProcessServer:
        server = InProcessServer(create_app(base.model_copy(update=changes)))
        await server.start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        await server.stop()


@pytest.fixture
def ycase(new_case: Any) -> Callable[..., Any]:
    """Create a case over HTTP and return its id."""

    async def _make(**kwargs: Any) -> str:
        return str((await new_case(**kwargs))["id"])

    return _make


@pytest.fixture
async def yclient(token: Any) -> AsyncIterator[Callable[..., Any]]:
    """Connect pycrdt clients: `await yclient(server, case_id, "clerk")`."""
    clients: list[YClient] = []

    async def _connect(
        server: Any, case_id: str, *roles: str, wait_synced: bool = True, **kw: Any
    ) -> YClient:
        client = YClient(server.ws, case_id, token(*(roles or ("clerk",)), **kw))
        clients.append(client)
        return await client.connect(wait_synced=wait_synced)

    yield _connect
    for client in clients:
        await client.close()


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for `python -m eakte.cli serve` against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_ENV="dev",
        EAKTE_DATABASE_URL=settings.resolved_database_url(),
        EAKTE_DATA_DIR=str(settings.data_dir),
        EAKTE_JWT_SECRET=TEST_SECRET,
        EAKTE_LOG_LEVEL="info",
    )
    env.update(extra)
    return env


@pytest.fixture
def processes(tmp_path: Path) -> Any:
    """Start server processes; all are killed at the end."""
    started: list[ServerProcess] = []

    def _make(env: dict[str, str], name: str = "server", port: int | None = None) -> ServerProcess:
        proc = ServerProcess(env, tmp_path / f"{name}.log", port=port)
        started.append(proc)
        return proc

    yield _make
    for proc in started:
        proc.kill()
