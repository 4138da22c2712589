"""A city's volume: read latencies of the case API over N synthetic case files in PostgreSQL.

Creates (or reuses) a database `eakte_scale_<N>` on the PostgreSQL server of
--database-url (default: $EAKTE_BENCH_DATABASE_URL, else $EAKTE_TEST_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), migrates it, fills it with
`eakte seed-load` (N cases over 3 tenants, one small document each), then measures p50/p95
of these requests through the whole service (in-process ASGI, real tokens, real queries):

    list (first page), list (deep page via cursor), search by file number, by address
    fragment and by applicant name (`q`), case view, process view

and prints the database size. Target: p95 < 50 ms for each.

    python bench/scale.py [--cases 1000000] [--samples 200] [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import create_engine, make_url, text

from eakte.app import create_app
from eakte.auth.tokens import issue_token
from eakte.cases.models import Case
from eakte.cases.service import encode_cursor
from eakte.config import Settings
from eakte.db import database_urls
from eakte.migrations import upgrade
from eakte.seedload import seed_load
from storage import FilesystemStore

TARGET_MS = 50.0
SECRET = "scale-bench-" + "q8Wm3Rt7Yp2Lk9Xz4Vb6Nc1Hd5Gf0Js"
console = Console(stderr=True)


def _server_url(arg: str | None) -> str:
    return (
        arg
        or os.environ.get("EAKTE_BENCH_DATABASE_URL")
        or os.environ.get("EAKTE_TEST_DATABASE_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def _prepare_database(server: str, name: str, fresh: bool) -> tuple[str, bool]:
    """The URL of database `name` (created if needed) and whether it already existed."""
    admin = create_engine(database_urls(server).sync_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = None
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, bool(exists)


def _count(url: str) -> int:
    engine = create_engine(database_urls(url).sync_url)
    with engine.connect() as conn:
        count = int(conn.scalar(text("SELECT count(*) FROM cases WHERE created_by = 'seed-load'")))
        count -= 2 * int(conn.scalar(text("SELECT count(*) FROM tenants")))  # templates
    engine.dispose()
    return count


def _seed(url: str, data_dir: Path, cases: int, tenants: int, documents: int) -> float:
    columns = (
        TextColumn("seed-load"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("cases", total=cases)
        seed_load(
            database_url=url,
            store=FilesystemStore(data_dir / "objects"),
            cases=cases,
            tenants=tenants,
            documents_per_case=documents,
            batch_size=5000,
            progress=lambda n: bar.advance(task, n),
        )
    engine = create_engine(database_urls(url).sync_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _samples(url: str, count: int) -> list[dict[str, object]]:
    engine = create_engine(database_urls(url).sync_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, tenant_id, file_number, site_address, applicant_name, created_at "
                "FROM cases TABLESAMPLE SYSTEM (1) WHERE created_by = 'seed-load' LIMIT :n"
            ),
            {"n": count},
        ).mappings()
        result = [dict(r) for r in rows]
        size = conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    engine.dispose()
    result[0]["__size__"] = size
    return result


async def _measure(
    name: str, call: Callable[[int], Awaitable[httpx.Response]], samples: int
) -> tuple[str, list[float]]:
    for i in range(min(10, samples)):
        (await call(i)).raise_for_status()
    times = []
    for i in range(samples):
        started = time.perf_counter()
        response = await call(i)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")
    return name, times


def _cursor_of(row: dict[str, object]) -> str:
    case = Case(id=row["id"], created_at=row["created_at"])
    return encode_cursor(case)


async def _bench(
    url: str, data_dir: Path, samples: int
) -> tuple[list[tuple[str, list[float]]], str]:
    rows = _samples(url, max(samples, 50))
    size = str(rows[0].pop("__size__"))
    rng = random.Random(7)
    picks = [rng.choice(rows) for _ in range(samples + 10)]
    settings = Settings(
        env="dev", database_url=url, data_dir=data_dir, jwt_secret=SECRET, tick_interval_seconds=0
    )
    app = create_app(settings)
    tokens = {
        tenant: {
            "Authorization": "Bearer "
            + issue_token(settings, tenant=tenant, sub=f"bench@{tenant}", roles=["clerk"])
        }
        for tenant in {str(r["tenant_id"]) for r in rows}
    }
    transport = httpx.ASGITransport(app=app)
    results = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        def get(path: str, row: dict[str, object], **params: object) -> Awaitable[httpx.Response]:
            return client.get(path, params=params, headers=tokens[str(row["tenant_id"])])

        def address_fragment(row: dict[str, object]) -> str:
            # "Schillerstraße 17, Augsburg" -> "hillers 17": part of the street and the number
            street, _, number = str(row["site_address"]).split(",")[0].rpartition(" ")
            return f"{street[2:9]} {number}"

        metrics: list[tuple[str, Callable[[int], Awaitable[httpx.Response]]]] = [
            ("case list, first page", lambda i: get("/api/v1/cases", picks[i], limit=20)),
            (
                "case list, deep page (cursor)",
                lambda i: get("/api/v1/cases", picks[i], limit=20, cursor=_cursor_of(picks[i])),
            ),
            (
                "search: file number",
                lambda i: get("/api/v1/cases", picks[i], limit=20, q=picks[i]["file_number"]),
            ),
            (
                "search: address fragment",
                lambda i: get("/api/v1/cases", picks[i], limit=20, q=address_fragment(picks[i])),
            ),
            (
                "search: applicant name",
                lambda i: get("/api/v1/cases", picks[i], limit=20, q=picks[i]["applicant_name"]),
            ),
            (
                "search: applicant surname only",
                lambda i: get(
                    "/api/v1/cases",
                    picks[i],
                    limit=20,
                    q=str(picks[i]["applicant_name"]).split()[-1],
                ),
            ),
            ("case view", lambda i: get(f"/api/v1/cases/{picks[i]['id']}", picks[i])),
            ("process view", lambda i: get(f"/api/v1/cases/{picks[i]['id']}/process", picks[i])),
        ]
        probe = picks[0]
        found = (await get("/api/v1/cases", probe, q=probe["file_number"])).json()["items"]
        assert [c["id"] for c in found] == [str(probe["id"])], (probe, found)
        for name, call in metrics:
            results.append(await _measure(name, call, samples))
    await app.state.db.dispose()
    return results, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--documents", type=int, default=1, help="documents per case")
    parser.add_argument("--samples", type=int, default=200, help="requests per measurement")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (any database)")
    parser.add_argument("--data-dir", type=Path, default=Path("var/scale"))
    parser.add_argument("--fresh", action="store_true", help="drop and re-seed the database")
    args = parser.parse_args()
    server = _server_url(args.database_url)
    if make_url(server).get_backend_name() != "postgresql":
        console.print("[red]bench/scale.py measures PostgreSQL; give a postgresql:// URL[/red]")
        return 2
    name = f"eakte_scale_{args.cases}_{args.tenants}"
    url, existed = _prepare_database(server, name, args.fresh)
    data_dir = args.data_dir / name
    upgrade(url)
    seeded = _count(url) if existed else 0
    if seeded != args.cases:
        if seeded:
            console.print(f"[yellow]{name} holds {seeded} cases, not {args.cases}: use --fresh")
            return 2
        seconds = _seed(url, data_dir, args.cases, args.tenants, args.documents)
        console.print(f"seeded {args.cases} cases in {seconds:.0f} s")
    else:
        console.print(f"reusing {name} ({seeded} cases)")
    results, size = asyncio.run(_bench(url, data_dir, args.samples))
    table = Table(title=f"{args.cases:,} case files, {args.tenants} tenants, database {size}")
    for column in ("request", "p50 ms", "p95 ms", "max ms", f"p95 < {TARGET_MS:.0f} ms"):
        table.add_column(column, justify="left" if column == "request" else "right")
    failed = False
    for metric, times in results:
        quantiles = statistics.quantiles(times, n=100)
        p50, p95 = quantiles[49], quantiles[94]
        ok = p95 < TARGET_MS
        failed |= not ok
        table.add_row(
            metric, f"{p50:.1f}", f"{p95:.1f}", f"{max(times):.1f}", "yes" if ok else "NO"
        )
    Console().print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
