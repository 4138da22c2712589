"""Crashes lose nothing: SIGKILL `eakte serve` at random points during uploads and actions.

Several server processes share one database and object store; concurrent clients upload
documents, add versions, create cases and move procedures back and forth while each server
is killed with SIGKILL at a random moment and started again. Afterwards `eakte fsck` and
`eakte audit verify` are clean, every request that got a 2xx is fully present, and no
half-written version or transition exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from eakte.audit.models import AuditEvent
from eakte.auth.tokens import issue_token
from eakte.cases.models import Case
from eakte.config import Settings
from eakte.documents.models import Document, DocumentVersion
from eakte.process.models import ProcessInstance
from eakte.process.models import ProcessTransition as Transition
from support import TENANT_A, case_payload

EAKTE = [sys.executable, "-m", "eakte.cli"]
SERVERS = 4
CLIENTS_PER_SERVER = 4
KILLS = int(os.environ.get("EAKTE_CRASH_KILLS", "50"))
# A restart whose kill landed while no request was in flight is not a kill point; bound the
# restarts by count (never by seconds: CI machines are busy) so a broken server cannot loop.
MAX_RESTARTS = 4 * KILLS
NACHFORDERN = {
    "maengel": ["Lageplan"],
    "frist_bis": "2030-01-31",
    "hinweis_ruecknahmefiktion": True,
}


def _pdf(seed: int, pad: int) -> bytes:
    body = f"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% seed {seed}\n".encode()
    return body + b"%" + os.urandom(pad // 2).hex().encode()[:pad] + b"\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ledger:
    """What the clients were told succeeded (2xx), to be checked after the crashes."""

    cases: dict[str, str] = field(default_factory=dict)  # id -> file number
    versions: dict[tuple[str, str, int], str] = field(default_factory=dict)  # -> sha256
    documents: dict[str, str] = field(default_factory=dict)  # document id -> case id
    transitions: dict[tuple[str, int], str] = field(default_factory=dict)  # (case, seq) -> action
    states: dict[str, str] = field(default_factory=dict)  # case id -> last known state
    in_flight: int = 0
    kill_points: int = 0
    restarts: int = 0
    requests: int = 0
    broken_connections: int = 0
    server_errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.kill_points} kill points, {self.requests} requests, "
            f"{self.broken_connections} cut by a kill; 2xx: {len(self.cases)} cases, "
            f"{len(self.versions)} versions, {len(self.transitions)} transitions"
        )


class Slot:
    """One server process that is killed and restarted over and over."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.env = env | {"EAKTE_PORT": str(self.port), "EAKTE_TICK_INTERVAL_SECONDS": "0"}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*EAKTE, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120  # a hang guard, not a speed check
        async with httpx.AsyncClient() as client:
            while True:
                assert self.proc.poll() is None, self.log.read_text()[-2000:]
                try:
                    if (await client.get(self.base + "/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


async def _client_loop(
    client: httpx.AsyncClient,
    base: str,
    headers: dict[str, str],
    ledger: Ledger,
    rng: random.Random,
    stop: asyncio.Event,
    warm: asyncio.Event,
) -> None:
    while not stop.is_set():
        op = rng.choice(["document", "document", "version", "action", "action", "case"])
        ledger.in_flight += 1
        ledger.requests += 1
        try:
            await _one(client, base, headers, ledger, rng, op)
            warm.set()
        except httpx.HTTPError:
            ledger.broken_connections += 1
            await asyncio.sleep(0.02)  # the server is gone; the slot restarts it
        finally:
            ledger.in_flight -= 1


async def _one(
    client: httpx.AsyncClient,
    base: str,
    headers: dict[str, str],
    ledger: Ledger,
    rng: random.Random,
    op: str,
) -> None:
    async def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, base + url, headers=headers, **kwargs)
        if response.status_code >= 500 and response.status_code != 503:
            ledger.server_errors.append(f"{method} {url}: {response.text[:300]}")
        return response

    case_id = rng.choice(sorted(ledger.cases))
    if op == "case":
        response = await request("POST", "/api/v1/cases", json=case_payload())
        if response.status_code == 201:
            body = response.json()
            ledger.cases[body["id"]] = body["file_number"]
            ledger.states[body["id"]] = "eingegangen"
        return
    if op == "document" or (op == "version" and not ledger.documents):
        content = _pdf(rng.randrange(1 << 30), rng.choice([100, 50_000, 400_000]))
        response = await request(
            "POST",
            f"/api/v1/cases/{case_id}/documents",
            files={"file": ("plan.pdf", content, "application/pdf")},
            data={"title": "Plan", "kind": "lageplan"},
        )
        if response.status_code == 201:
            body = response.json()
            ledger.documents[body["id"]] = case_id
            ledger.versions[(case_id, body["id"], 1)] = hashlib.sha256(content).hexdigest()
        return
    if op == "version":
        document_id = rng.choice(sorted(ledger.documents))
        case_id = ledger.documents[document_id]
        content = _pdf(rng.randrange(1 << 30), rng.choice([100, 50_000, 400_000]))
        response = await request(
            "POST",
            f"/api/v1/cases/{case_id}/documents/{document_id}/versions",
            files={"file": ("plan.pdf", content, "application/pdf")},
        )
        if response.status_code == 201:
            number = response.json()["number"]
            ledger.versions[(case_id, document_id, number)] = hashlib.sha256(content).hexdigest()
        return
    state = ledger.states.get(case_id, "eingegangen")
    if state == "eingegangen":
        body = {"action": "nachfordern", "expected_state": state, "input": NACHFORDERN}
    else:
        body = {
            "action": "unterlagen_nachreichen",
            "expected_state": state,
            "input": {"nachgereicht_am": "2026-02-16"},
        }
    response = await request("POST", f"/api/v1/cases/{case_id}/process/actions", json=body)
    if response.status_code == 200:
        view = response.json()
        ledger.states[case_id] = view["state"]
        last = view["transitions"][-1]
        ledger.transitions[(case_id, last["seq"])] = last["action"]
    elif response.status_code == 409:
        ledger.states[case_id] = (
            "nachforderung" if state == "eingegangen" else "eingegangen"
        )  # someone else moved it (or a killed request did): try the other way next time


async def _run_slot(slot: Slot, headers: dict[str, str], ledger: Ledger, seed: int) -> None:
    rng = random.Random(seed)
    while ledger.kill_points < KILLS and ledger.restarts < MAX_RESTARTS:
        ledger.restarts += 1
        await slot.start()
        stop = asyncio.Event()
        warm = asyncio.Event()
        async with httpx.AsyncClient(timeout=30) as client:
            tasks = [
                asyncio.create_task(
                    _client_loop(
                        client,
                        slot.base,
                        headers,
                        ledger,
                        random.Random(rng.random()),
                        stop,
                        warm,
                    )
                )
                for _ in range(CLIENTS_PER_SERVER)
            ]
            # let the fresh process answer something first (its first requests are slow
            # on a loaded machine), then kill it at a random moment
            await warm.wait()
            await asyncio.sleep(rng.uniform(0.05, 0.6))
            if ledger.in_flight:
                ledger.kill_points += 1
            slot.kill()
            stop.set()
            await asyncio.gather(*tasks)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EAKTE, *args], env=env, capture_output=True, text=True, timeout=120)


async def test_sigkill_during_uploads_and_actions_loses_nothing(
    settings: Settings, db: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env | {"EAKTE_LOG_LEVEL": "warning"}
    token = issue_token(settings, tenant=TENANT_A, sub="crash@augsburg", roles=["clerk"])
    headers = {"Authorization": f"Bearer {token}"}
    ledger = Ledger()
    setup = Slot(env, tmp_path / "setup.log")
    await setup.start()
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(6):
            response = await client.post(
                setup.base + "/api/v1/cases", json=case_payload(), headers=headers
            )
            assert response.status_code == 201, response.text
            ledger.cases[response.json()["id"]] = response.json()["file_number"]
            ledger.states[response.json()["id"]] = "eingegangen"
    setup.kill()

    slots = [Slot(env, tmp_path / f"server-{i}.log") for i in range(SERVERS)]
    try:
        await asyncio.gather(
            *[_run_slot(slot, headers, ledger, seed) for seed, slot in enumerate(slots)]
        )
    finally:
        for slot in slots:
            slot.kill()
    print(ledger.summary())
    assert ledger.kill_points >= KILLS, ledger.summary()
    assert ledger.versions and ledger.transitions, ledger.summary()
    assert not ledger.server_errors, ledger.server_errors[:10]

    fsck = _cli(env, "fsck")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    verify = _cli(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    await _check_nothing_half_written(db, ledger)

    final = Slot(env, tmp_path / "final.log")
    await final.start()
    try:
        async with httpx.AsyncClient(timeout=30, base_url=final.base, headers=headers) as client:
            await _check_every_2xx_is_present(client, ledger)
    finally:
        final.kill()


async def _check_nothing_half_written(db: Any, ledger: Ledger) -> None:
    async with db.session(write=False) as session:
        for document in (await session.scalars(select(Document))).all():
            numbers = sorted(
                (
                    await session.scalars(
                        select(DocumentVersion.number).where(
                            DocumentVersion.document_id == document.id
                        )
                    )
                ).all()
            )
            assert numbers == list(range(1, document.version_count + 1)), document.id
        version_events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "document.version_added")
        )
        assert version_events == await session.scalar(
            select(func.count()).select_from(DocumentVersion)
        )
        for instance in (await session.scalars(select(ProcessInstance))).all():
            transitions = (
                await session.scalars(
                    select(Transition)
                    .where(Transition.case_id == instance.case_id)
                    .order_by(Transition.seq)
                )
            ).all()
            assert transitions and transitions[-1].to_state == instance.state
            assert [t.seq for t in transitions] == list(range(1, len(transitions) + 1)), [
                t.seq for t in transitions
            ]
            case = await session.get(Case, instance.case_id)
            assert case is not None and case.state == instance.state
        transition_events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.in_(["process.transition", "process.deadline_fired"]))
        )
        assert transition_events == await session.scalar(
            select(func.count()).select_from(Transition)
        )


async def _check_every_2xx_is_present(client: httpx.AsyncClient, ledger: Ledger) -> None:
    for case_id, file_number in ledger.cases.items():
        response = await client.get(f"/api/v1/cases/{case_id}")
        assert response.status_code == 200 and response.json()["file_number"] == file_number
    for (case_id, document_id, number), sha in ledger.versions.items():
        url = f"/api/v1/cases/{case_id}/documents/{document_id}/versions/{number}"
        meta = await client.get(url)
        assert meta.status_code == 200, meta.text
        assert meta.json()["sha256"] == sha
        content = await client.get(url + "/content")
        assert hashlib.sha256(content.content).hexdigest() == sha
    views: dict[str, dict[str, Any]] = {}
    for (case_id, seq), action in ledger.transitions.items():
        if case_id not in views:
            views[case_id] = (await client.get(f"/api/v1/cases/{case_id}/process")).json()
        seen = {t["seq"]: t["action"] for t in views[case_id]["transitions"]}
        assert seen.get(seq) == action, (case_id, seq, action, seen)
