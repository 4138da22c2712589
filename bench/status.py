"""Applicant status reads per second and p50/p99, against a bare route in the same server.

    python bench/status.py [--applications 10000] [--seconds 5] [--concurrency 16] [--pg URL]

For each database (SQLite, and PostgreSQL when --pg or EAKTE_TEST_DATABASE_URL is given) it
seeds N applications through the service layer, starts one uvicorn process with the service and
a bare FastAPI route returning a constant JSON body, and measures both under the same load:
status by owner token (200), status with If-None-Match (304), and the bare route.
Target: status ≥ 0.5 × the bare route's reads per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, make_url, text

from eakte.applicants.schemas import ApplicationCreate
from eakte.applicants.service import submit
from eakte.auth.principal import Principal, Role
from eakte.auth.tokens import issue_token
from eakte.config import Settings
from eakte.db import Database, database_urls
from eakte.migrations import upgrade
from eakte.tenants.service import seed_demo

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "Qx7Lm2Pv9Rt4Yw8Zc1Kn5Bh3Jd6Fs0A"
console = Console(stderr=True)


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(i: int) -> ApplicationCreate:
    return ApplicationCreate.model_validate(
        {
            "procedure": random.choice(["baybo-59", "baybo-60", "baybo-58"]),
            "site": {
                "address": f"Teststraße {i}, 86150 Augsburg",
                "gemarkung": "Augsburg",
                "flurstueck": f"{i % 9999 + 1}/{i % 7 + 1}",
            },
            "description": f"Vorhaben {i}",
            "applicant": {"name": f"Person {i}", "email": f"p{i}@example.org"},
            "designer": {"name": "Büro", "email": "buero@example.org"},
            "housing": i % 2 == 0,
        }
    )


async def seed(url: str, n: int) -> list[tuple[str, str]]:
    """Create n applications by n/100 applicants; returns (status path, owner sub) samples."""
    db = Database(url)
    await seed_demo(db)
    samples: list[tuple[str, str]] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"seeding {n} applications", total=n)
        done = 0
        while done < n:
            async with db.session() as session:
                for i in range(done, min(n, done + 100)):
                    owner = f"buerger-{i % (n // 100 or 1)}"
                    principal = Principal(owner, "buergerkonto", frozenset({Role.applicant}), owner)
                    case, _ = await submit(session, principal, "augsburg", _body(i))
                    if i % 50 == 0:
                        samples.append(
                            (f"/api/v1/authorities/augsburg/applications/{case.file_number}", owner)
                        )
            done = min(n, done + 100)
            progress.update(task, completed=done)
    await db.dispose()
    return samples


async def load(base: str, name: str, make_request, seconds: float, concurrency: int) -> Result:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                method, path, headers, expect = make_request()
                start = time.perf_counter()
                response = await client.request(method, path, headers=headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code != expect:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    return Result(name, len(latencies), elapsed, latencies, errors)


def run_backend(label: str, url: str, args: argparse.Namespace, table: Table) -> None:
    upgrade(url)
    samples = asyncio.run(seed(url, args.applications))
    settings = Settings(env="dev", jwt_secret=SECRET)
    tokens = {
        owner: issue_token(settings, tenant="buergerkonto", sub=owner, roles=["applicant"])
        for _, owner in samples
    }
    port = _free_port()
    env = dict(
        os.environ,
        EAKTE_ENV="dev",
        EAKTE_DATABASE_URL=url,
        EAKTE_JWT_SECRET=SECRET,
        EAKTE_PORT=str(port),
    )
    env["EAKTE_TICK_INTERVAL_SECONDS"] = "0"
    env["EAKTE_ACCESS_FAILURES_PER_ADDRESS"] = "1000000"
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "status_server.py")], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        etags = {}
        for path, owner in samples:
            r = httpx.get(base + path, headers={"Authorization": f"Bearer {tokens[owner]}"})
            assert r.status_code == 200, r.text
            etags[path] = r.headers["etag"]

        def status_request():  # type: ignore[no-untyped-def]
            path, owner = random.choice(samples)
            return "GET", path, {"Authorization": f"Bearer {tokens[owner]}"}, 200

        def not_modified():  # type: ignore[no-untyped-def]
            path, owner = random.choice(samples)
            headers = {"Authorization": f"Bearer {tokens[owner]}", "If-None-Match": etags[path]}
            return "GET", path, headers, 304

        def bare():  # type: ignore[no-untyped-def]
            return "GET", "/bench/bare", {}, 200

        results = {}
        for name, fn in (
            ("bare route", bare),
            ("status 200", status_request),
            ("status 304", not_modified),
        ):
            console.print(
                f"[{label}] {name}: {args.seconds:.0f} s at concurrency {args.concurrency}"
            )
            results[name] = asyncio.run(load(base, name, fn, args.seconds, args.concurrency))
        bare_rps = results["bare route"].rps
        for name, r in results.items():
            table.add_row(
                label,
                name,
                f"{r.rps:,.0f}",
                f"{r.pct(0.50):.1f}",
                f"{r.pct(0.99):.1f}",
                f"{r.rps / bare_rps:.2f}",
                str(r.errors),
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pg", default=os.environ.get("EAKTE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    random.seed(7)
    table = Table(
        title=f"Applicant status reads ({args.applications} applications in the database)"
    )
    for column in ("database", "request", "req/s", "p50 ms", "p99 ms", "× bare", "errors"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args, table)
    if args.pg:
        name = f"eakte_bench_{os.getpid()}"
        admin = create_engine(database_urls(args.pg).sync_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            run_backend("postgresql", url, args, table)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    Console().print(table)
    console.print("target: status 200 ≥ 0.50 × bare route (req/s); one uvicorn worker, 2 cores")


if __name__ == "__main__":
    main()
