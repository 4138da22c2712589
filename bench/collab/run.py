"""Co-editing benchmark: our durable server vs. the in-memory y-websocket@2 reference server.

Runs the same workloads of real Yjs clients (Node, load.js) against both servers in one run
and prints delivered updates/s, p50/p99 latency from send to receipt at every other client,
the server's CPU time (utime + stime of all its processes, from /proc) per delivered update,
and the ratio ours/reference. Also reports memory per idle loaded room and per connection.

    .venv/bin/python bench/collab/run.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "tests" / "interop"
LOAD = Path(__file__).with_name("load.js")
REFERENCE = INTEROP / "node_modules" / "y-websocket" / "bin" / "server.cjs"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


SERVER_CPU: int | None = None  # --pin: both servers on one CPU, the load generator on the others


def on_cpus(cpus: set[int] | None):  # type: ignore[no-untyped-def]
    """A `preexec_fn` that keeps a child on `cpus` (None or empty: anywhere)."""
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def server_cpus() -> set[int] | None:
    return None if SERVER_CPU is None else {SERVER_CPU}


def load_cpus() -> set[int] | None:
    return None if SERVER_CPU is None else os.sched_getaffinity(0) - {SERVER_CPU}


@dataclass(frozen=True)
class Workload:
    name: str
    clients: int
    edits: int
    rate: float  # edits/s per client; 0 = as fast as possible


WORKLOADS = {
    "burst10": Workload("10 clients x 100 edits, burst", 10, 100, 0),
    "steady": Workload("20 clients @ 20 edits/s, steady", 20, 100, 20),
    "burst50": Workload("50 clients x 20 edits, burst", 50, 20, 0),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def rss_bytes(pid: int) -> int:
    total = 0
    for p in tree(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


async def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                await client.get(url, timeout=1)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


class Servers:
    """Our server (a temp SQLite database, every update persisted) and the reference."""

    def __init__(self, workdir: Path, launcher: str = "uvicorn") -> None:
        self.workdir = workdir
        self.launcher = launcher
        self.extra_env: dict[str, str] = {}
        self.secret = secrets.token_urlsafe(48)
        self.db_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        self.ours_port, self.ref_port = free_port(), free_port()
        self.procs: list[subprocess.Popen[bytes]] = []

    async def prepare(self, count: int) -> tuple[list[str], str]:
        """Migrate, create a tenant and `count` cases; return their ids and a clerk token."""
        os.environ["EAKTE_JWT_SECRET"] = self.secret
        from eakte.auth.principal import Principal, Role
        from eakte.auth.tokens import issue_token
        from eakte.cases.schemas import CaseCreate
        from eakte.config import Settings
        from eakte.db import Database
        from eakte.migrations import upgrade
        from eakte.process.service import open_case
        from eakte.tenants.service import ensure_tenant

        upgrade(self.db_url)
        db = Database(self.db_url)
        clerk = Principal(
            sub="bench@bench", tenant="bench", roles=frozenset({Role.clerk}), name="B"
        )
        ids = []
        async with db.session() as session:
            await ensure_tenant(session, slug="bench", name="Bench")
        for i in range(count):
            async with db.session() as session:
                case = await open_case(
                    session,
                    clerk,
                    CaseCreate.model_validate(
                        {
                            "title": f"Bench {i}",
                            "procedure": "baybo-59",
                            "site": {"address": "Rathausplatz 1, 86150 Augsburg"},
                            "applicant": {"name": "Bench"},
                        }
                    ),
                )
                ids.append(str(case.id))
        await db.dispose()
        settings = Settings(env="dev", database_url=self.db_url, jwt_secret=self.secret)
        token = issue_token(settings, tenant="bench", sub="bench@bench", roles=["clerk"])
        return ids, token

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
        ours_env = (
            env
            | {
                "EAKTE_ENV": "dev",
                "EAKTE_DATABASE_URL": self.db_url,
                "EAKTE_JWT_SECRET": self.secret,
                "EAKTE_DATA_DIR": str(self.workdir),
                "EAKTE_LOG_LEVEL": "warning",
                "EAKTE_TICK_INTERVAL_SECONDS": "0",
                # the service's background workers poll the database every 2 s; they are not
                # co-editing and would count in its CPU (the reference has nothing like them)
                "EAKTE_SEARCH_WORKER": "false",
                "EAKTE_OUTBOX_WORKER": "false",
                "EAKTE_COLLAB_IDLE_UNLOAD_SECONDS": "3600",
                "EAKTE_COLLAB_MAX_MESSAGES_PER_SECOND": "100000",
                "EAKTE_PORT": str(self.ours_port),
            }
            | self.extra_env
        )
        if self.launcher == "serve":
            command = [sys.executable, "-m", "eakte.cli", "serve"]
        else:  # the same app under uvicorn without permessage-deflate (see docs/collab.md)
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "eakte.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ours_port),
                "--log-level",
                "warning",
                "--ws-per-message-deflate",
                "false",
            ]
        self.ours = subprocess.Popen(
            command, cwd=ROOT, env=ours_env, preexec_fn=on_cpus(server_cpus())
        )
        self.ref = subprocess.Popen(
            ["node", str(REFERENCE)],
            cwd=INTEROP,
            env=env | {"HOST": "127.0.0.1", "PORT": str(self.ref_port)},
            stdout=subprocess.DEVNULL,
            preexec_fn=on_cpus(server_cpus()),
        )
        self.procs = [self.ours, self.ref]
        await wait_http(f"http://127.0.0.1:{self.ours_port}/healthz", self.ours)
        await wait_http(f"http://127.0.0.1:{self.ref_port}/", self.ref)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def run_load(url: str, room: str, token: str | None, w: Workload, pid: int) -> dict:
    config = {
        "url": url,
        "room": room,
        "token": token,
        "clients": w.clients,
        "edits": w.edits,
        "rate": w.rate,
        "timeoutMs": 120000,
    }
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(LOAD),
        json.dumps(config),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=on_cpus(load_cpus()),
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise RuntimeError(f"load generator: {line!r}")
    await asyncio.sleep(0.3)  # let connection set-up work settle
    cpu_before = cpu_seconds(pid)
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    result = json.loads(await asyncio.wait_for(proc.stdout.readline(), 180))
    result["cpu"] = cpu_seconds(pid) - cpu_before
    await proc.wait()
    return result


async def memory(servers: Servers, cases: list[str], token: str) -> dict[str, float]:
    """RSS growth per idle loaded room (ours) and per open connection (both)."""
    import websockets

    from eakte.collab import protocol

    async def touch(url: str) -> None:
        async with websockets.connect(url) as ws:
            await ws.send(protocol.sync_step1(b"\x00"))
            await ws.recv()

    out: dict[str, float] = {}
    for case_id in cases[:10]:  # warm-up: first-use code paths and caches are not per room
        await touch(f"ws://127.0.0.1:{servers.ours_port}/api/v1/collab/{case_id}?token={token}")
    await asyncio.sleep(0.5)
    base = rss_bytes(servers.ours.pid)
    rooms = cases[10:]
    for case_id in rooms:
        await touch(f"ws://127.0.0.1:{servers.ours_port}/api/v1/collab/{case_id}?token={token}")
    await asyncio.sleep(0.5)
    out["ours: RSS per idle loaded room (KiB)"] = (
        (rss_bytes(servers.ours.pid) - base) / len(rooms) / 1024
    )
    for name, pid, url in (
        (
            "ours",
            servers.ours.pid,
            f"ws://127.0.0.1:{servers.ours_port}/api/v1/collab/{cases[0]}?token={token}",
        ),
        ("reference", servers.ref.pid, f"ws://127.0.0.1:{servers.ref_port}/mem-{uuid.uuid4()}"),
    ):
        before = rss_bytes(pid)
        conns = []
        for _ in range(200):
            ws = await websockets.connect(url)
            await ws.send(protocol.sync_step1(b"\x00"))
            conns.append(ws)
        await asyncio.sleep(0.5)
        out[f"{name}: RSS per open connection (KiB)"] = (
            (rss_bytes(pid) - before) / len(conns) / 1024
        )
        for ws in conns:
            await ws.close()
    return out


def row(label: str, r: dict) -> str:
    per = r["cpu"] / r["delivered"] * 1e6 if r["delivered"] else float("nan")
    return (
        f"  {label:<10} {r['delivered']:>7}/{r['expected']:<7} {r['rate']:>10.0f}/s "
        f"p50 {r['p50']:>7.2f} ms  p99 {r['p99']:>7.2f} ms  cpu {r['cpu']:>6.2f} s "
        f"= {per:>6.1f} us/update"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each workload")
    parser.add_argument(
        "--launcher",
        choices=["uvicorn", "serve"],
        default="serve",
        help="serve: `eakte serve` as shipped (default, no permessage-deflate); "
        "uvicorn: the app under plain uvicorn without permessage-deflate",
    )
    parser.add_argument("--flush-ms", type=float, help="EAKTE_COLLAB_FLUSH_INTERVAL_MS")
    parser.add_argument("--busy-flush-ms", type=float, help="EAKTE_COLLAB_BUSY_FLUSH_INTERVAL_MS")
    parser.add_argument("--compact-every", type=int, help="EAKTE_COLLAB_COMPACT_EVERY_UPDATES")
    parser.add_argument(
        "--pin",
        type=int,
        metavar="CPU",
        help="run both servers on this CPU and the load generator on the others "
        "(steadier ratios on a small machine; default: the last CPU, if there are two or more)",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="let the scheduler place servers and load"
    )
    parser.add_argument(
        "--only", choices=["burst10", "steady", "burst50"], help="run one workload only"
    )
    args = parser.parse_args()
    global SERVER_CPU
    cpus = sorted(os.sched_getaffinity(0))
    SERVER_CPU = (
        None
        if args.no_pin
        else args.pin
        if args.pin is not None
        else (cpus[-1] if len(cpus) >= 2 else None)
    )
    if shutil.which("node") is None:
        print("bench/collab: Node.js is not installed; skipping")
        return 0
    if not REFERENCE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INTEROP, check=True)
    workloads = [WORKLOADS[args.only]] if args.only else list(WORKLOADS.values())
    if args.quick:
        workloads = [
            Workload(w.name + " (quick)", w.clients, max(5, w.edits // 5), w.rate)
            for w in workloads
        ]
    with tempfile.TemporaryDirectory(prefix="eakte-bench-") as tmp:
        servers = Servers(Path(tmp), args.launcher)
        if args.flush_ms is not None:
            servers.extra_env["EAKTE_COLLAB_FLUSH_INTERVAL_MS"] = str(args.flush_ms)
        if args.busy_flush_ms is not None:
            servers.extra_env["EAKTE_COLLAB_BUSY_FLUSH_INTERVAL_MS"] = str(args.busy_flush_ms)
        if args.compact_every is not None:
            servers.extra_env["EAKTE_COLLAB_COMPACT_EVERY_UPDATES"] = str(args.compact_every)
        cases, token = await servers.prepare(len(workloads) * args.rounds + 60)
        await servers.start()
        try:
            where = (
                "servers and load generator unpinned"
                if SERVER_CPU is None
                else f"both servers on CPU {SERVER_CPU}, the load generator on the others"
            )
            print(
                f"co-editing benchmark ({os.cpu_count()} CPUs, {where}); ours persists every "
                "update (SQLite WAL), the reference keeps them in memory"
            )
            # memory first, on a fresh process (later workloads leave a warm heap behind)
            mem = await memory(servers, cases[-60:], token)
            room = iter(cases[:-60])
            summary: dict[str, list[tuple[float, float, float]]] = {}
            for w in workloads:
                for round_no in range(args.rounds):
                    case_id = next(room)
                    targets = {
                        "ours": (
                            f"ws://127.0.0.1:{servers.ours_port}/api/v1/collab",
                            case_id,
                            token,
                            servers.ours.pid,
                        ),
                        "reference": (
                            f"ws://127.0.0.1:{servers.ref_port}",
                            f"ref-{case_id}",
                            None,
                            servers.ref.pid,
                        ),
                    }
                    # alternate who goes first: the machine's load drifts between the two
                    order = ["ours", "reference"][:: 1 if round_no % 2 == 0 else -1]
                    results = {}
                    for name in order:
                        url, room_name, auth, pid = targets[name]
                        results[name] = await run_load(url, room_name, auth, w, pid)
                    ours, ref = results["ours"], results["reference"]
                    print(f"\n{w.name}")
                    print(row("ours", ours))
                    print(row("reference", ref))
                    cpu_o = ours["cpu"] / max(1, ours["delivered"])
                    cpu_r = ref["cpu"] / max(1, ref["delivered"])
                    ratio = cpu_o / max(cpu_r, 1e-12)
                    summary.setdefault(w.name, []).append((ratio, ours["p99"], ref["p99"]))
                    print(
                        f"  ratio ours/ref: throughput {ours['rate'] / max(ref['rate'], 1e-9):.2f}x"
                        f"  p99 {ours['p99'] / max(ref['p99'], 1e-9):.2f}x"
                        f"  cpu/update {ratio:.2f}x"
                    )
            if args.rounds > 1:
                print(f"\nmedian of {args.rounds} rounds (cpu/update ours/ref, p99 ours, p99 ref)")
                for name, values in summary.items():
                    ratios, p99o, p99r = (sorted(v) for v in zip(*values, strict=True))
                    mid = len(ratios) // 2
                    print(
                        f"  {name:<34} {ratios[mid]:.2f}x  {p99o[mid]:7.2f} ms  {p99r[mid]:7.2f} ms"
                    )
            print()
            for key, value in mem.items():
                print(f"{key}: {value:.1f}")
        finally:
            servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
