"""kill -9 of a delivering worker or server loses nothing and re-sends at most once, same key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from receivers import WebhookReceiver
from sqlalchemy import create_engine, select

from eakte.db import Database, database_urls
from eakte.outbox import service
from eakte.outbox.models import DELIVERED, OutboxMessage, WebhookEndpoint
from support import TENANT_A, free_port

EAKTE = str(Path(sys.executable).with_name("eakte"))
MESSAGES = 6


async def _queue(db: Database, url: str, count: int) -> list[str]:
    async with db.session() as session:
        session.add(
            WebhookEndpoint(tenant_id=TENANT_A, url=url, secret="s" * 32, created_by="test")
        )
        await session.flush()
        keys = []
        for i in range(count):
            [m] = await service.enqueue_webhooks(
                session, tenant=TENANT_A, event="test", data={"n": i}
            )
            keys.append(m.idempotency_key)
    return keys


def _start(kind: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if kind == "worker":
        args = [EAKTE, "worker"]
    else:
        args = [EAKTE, "serve", "--port", str(free_port())]
    log = Path(env["EAKTE_DATA_DIR"]) / f"{kind}-{time.monotonic_ns()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stall the process
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


def _logs(env: dict[str, str]) -> str:
    return "\n".join(p.read_text()[-2000:] for p in Path(env["EAKTE_DATA_DIR"]).glob("*.log"))


def _wait_delivered(url: str, count: int, attempts: int = 600) -> None:
    engine = create_engine(database_urls(url).sync_url)
    try:
        for _ in range(attempts):
            with engine.connect() as conn:
                statuses = list(conn.execute(select(OutboxMessage.status)).scalars())
            if statuses.count(DELIVERED) == count:
                return
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(f"not all delivered: {statuses}")


def _env(cli_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = dict(cli_env)
    env.update(
        EAKTE_OUTBOX_LEASE_SECONDS="2",
        EAKTE_OUTBOX_POLL_SECONDS="0.2",
        EAKTE_OUTBOX_BATCH_SIZE="1",
        EAKTE_TICK_INTERVAL_SECONDS="0",
    )
    env.update(extra)
    return env


@pytest.mark.parametrize("kind", ["worker", "serve"])
async def test_kill9_during_delivery_loses_nothing(
    kind: str,
    db: Database,
    settings,
    cli_env: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    with WebhookReceiver() as receiver:
        keys = await _queue(db, receiver.url, MESSAGES)
        receiver.hold.clear()  # the first request hangs: the process is killed mid-delivery
        env = _env(cli_env)
        victim = _start(kind, env)
        try:
            arrived = receiver.wait_for(1, timeout=120)
        finally:
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
        assert arrived, _logs(env)
        first = arrived[0]
        assert victim.returncode == -signal.SIGKILL
        receiver.hold.set()
        survivor = _start("worker", env)
        try:
            _wait_delivered(settings.resolved_database_url(), MESSAGES)
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(timeout=60)
        seen = Counter(r.headers["Webhook-Id"] for r in receiver.requests)
    assert set(seen) == set(keys)  # nothing lost
    assert all(n <= 2 for n in seen.values())  # at most one re-send
    assert seen[first.headers["Webhook-Id"]] == 2  # the interrupted one, again with its key
    assert sum(seen.values()) == MESSAGES + 1


async def test_two_workers_never_deliver_one_message_twice(
    db: Database,
    settings,
    cli_env: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    count = 20
    with WebhookReceiver() as receiver:
        keys = await _queue(db, receiver.url, count)
        env = _env(cli_env, EAKTE_OUTBOX_LEASE_SECONDS="120")
        workers = [_start("worker", env) for _ in range(2)]
        try:
            _wait_delivered(settings.resolved_database_url(), count)
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                assert w.wait(timeout=60) == 0, _logs(env)
        print(_logs(env))
        seen = Counter(r.headers["Webhook-Id"] for r in receiver.requests)
    assert seen == Counter({k: 1 for k in keys})
