"""PostgreSQL goes away while the service runs: 503 problems, then recovery without a restart.

The shared test server cannot be stopped, so this test runs a private PostgreSQL cluster
(initdb + pg_ctl as the `postgres` user, in a temp dir, on a free port) and stops it with
`pg_ctl stop -m immediate` (as a crash would) in the middle of the test.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from eakte.app import create_app
from eakte.auth.tokens import issue_token
from eakte.config import Settings
from eakte.db import Database
from eakte.migrations import upgrade
from eakte.tenants.service import ensure_tenant
from support import TENANT_A, TEST_SECRET, case_payload

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """A throwaway PostgreSQL cluster run as the `postgres` user."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=check)

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        # fsync off is safe here: `-m immediate` kills processes, the OS keeps the WAL
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            mode,
            "-w",
            "stop",
            check=False,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("no initdb/pg_ctl on this machine (PostgreSQL server binaries)")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root to run PostgreSQL as the postgres user (runuser)")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user")
    root = Path(tempfile.mkdtemp(prefix="eakte-pg-"))
    os.chown(root, user.pw_uid, user.pw_gid)
    root.chmod(0o700)
    server = PrivatePostgres(bin_dir, root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def outage_client(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    upgrade(private_postgres.url)
    settings = Settings(
        env="dev",
        database_url=private_postgres.url,
        data_dir=tmp_path / "var",
        jwt_secret=TEST_SECRET,
        tick_interval_seconds=0,
    )
    seed = Database(private_postgres.url)
    async with seed.session() as session:
        await ensure_tenant(session, slug=TENANT_A, name="Stadt Augsburg")
    await seed.dispose()
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, settings
    await app.state.db.dispose()


def _clerk(settings: Settings) -> dict[str, str]:
    token = issue_token(settings, tenant=TENANT_A, sub="clerk@augsburg", roles=["clerk"])
    return {"Authorization": f"Bearer {token}"}


def _assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 503


def _stored_objects(settings: Settings) -> list[Path]:
    return [p for p in (settings.data_dir).rglob("*") if p.is_file() and "objects" in p.parts]


async def test_requests_get_503_during_an_outage_and_work_again_after(
    outage_client: tuple[httpx.AsyncClient, Settings], private_postgres: PrivatePostgres
) -> None:
    client, settings = outage_client
    clerk = _clerk(settings)
    created = await client.post("/api/v1/cases", json=case_payload(), headers=clerk)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    assert (await client.get("/readyz")).status_code == 200

    private_postgres.stop("immediate")
    objects_before = _stored_objects(settings)
    for response in (
        await client.get("/readyz"),
        await client.get("/api/v1/cases", headers=clerk),
        await client.get(f"/api/v1/cases/{case_id}", headers=clerk),
        await client.post("/api/v1/cases", json=case_payload(), headers=clerk),
        await client.post(
            f"/api/v1/cases/{case_id}/documents",
            files={"file": ("plan.png", PNG, "image/png")},
            data={"title": "Plan", "kind": "lageplan"},
            headers=clerk,
        ),
        await client.get(f"/api/v1/cases/{case_id}/process", headers=clerk),
    ):
        _assert_503(response)
    assert (await client.get("/healthz")).status_code == 200  # the process itself is fine
    assert _stored_objects(settings) == objects_before  # the refused upload left nothing

    private_postgres.start()
    recovered = None
    for _ in range(50):
        recovered = await client.get("/api/v1/cases", headers=clerk)
        if recovered.status_code == 200:
            break
        _assert_503(recovered)
        await asyncio.sleep(0.1)
    assert recovered is not None and recovered.status_code == 200, recovered.text
    assert [c["id"] for c in recovered.json()["items"]] == [case_id]
    again = await client.post("/api/v1/cases", json=case_payload(), headers=clerk)
    assert again.status_code == 201, again.text
    upload = await client.post(
        f"/api/v1/cases/{case_id}/documents",
        files={"file": ("plan.png", PNG, "image/png")},
        data={"title": "Plan", "kind": "lageplan"},
        headers=clerk,
    )
    assert upload.status_code == 201, upload.text
    assert (await client.get("/readyz")).status_code == 200


async def test_an_outage_under_load_answers_only_2xx_or_503(
    outage_client: tuple[httpx.AsyncClient, Settings], private_postgres: PrivatePostgres
) -> None:
    client, settings = outage_client
    clerk = _clerk(settings)
    statuses: list[int] = []
    stop = asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            for response in (
                await client.post("/api/v1/cases", json=case_payload(), headers=clerk),
                await client.get("/api/v1/cases", headers=clerk),
            ):
                statuses.append(response.status_code)
                if response.status_code not in (200, 201):
                    _assert_503(response)

    workers = [asyncio.create_task(worker()) for _ in range(6)]
    await asyncio.sleep(0.5)
    await asyncio.to_thread(private_postgres.stop, "immediate")
    await asyncio.sleep(0.5)
    await asyncio.to_thread(private_postgres.start)
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*workers)
    assert 503 in statuses and statuses[-1] in (200, 201), statuses[-20:]
    assert set(statuses) <= {200, 201, 503}
    response = await client.get("/api/v1/cases?limit=100", headers=clerk)
    assert response.status_code == 200
    assert any(isinstance(item, dict) for item in response.json()["items"])
