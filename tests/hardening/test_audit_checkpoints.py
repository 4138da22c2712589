"""Audit trail tampering that a plain hash chain cannot see (issue 18): truncation together
with the head row, rewriting with recomputed hashes, a wiped trail, a forged witness line.
Each is done directly in the database after `eakte audit checkpoint`; `eakte audit verify`
must report it (exit 1) and name what happened."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from eakte.audit.models import AuditChainHead, AuditEvent
from eakte.audit.service import canonical_json, compute_hash, event_body
from eakte.db import Database
from support import TENANT_A, TENANT_B

EAKTE = [sys.executable, "-m", "eakte.cli"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EAKTE, *args], env=env, capture_output=True, text=True, timeout=120)


async def _events(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """Six audit events in Augsburg, one in München."""
    from support import case_payload

    for tenant, count in ((TENANT_A, 6), (TENANT_B, 1)):
        for _ in range(count):
            response = await client.post(
                "/api/v1/cases", json=case_payload(), headers=auth("clerk", tenant=tenant)
            )
            assert response.status_code == 201


async def _truncate_with_head(db: Database, keep: int) -> None:
    async with db.session(write=True) as session:
        await session.execute(
            delete(AuditEvent).where(AuditEvent.tenant_id == TENANT_A, AuditEvent.seq > keep)
        )
        await session.execute(delete(AuditChainHead).where(AuditChainHead.tenant_id == TENANT_A))


async def _truncate_and_rewrite_head(db: Database, keep: int) -> None:
    async with db.session(write=True) as session:
        await session.execute(
            delete(AuditEvent).where(AuditEvent.tenant_id == TENANT_A, AuditEvent.seq > keep)
        )
        last = await session.get(AuditEvent, (TENANT_A, keep))
        head = await session.get(AuditChainHead, TENANT_A)
        assert last is not None and head is not None
        head.last_seq, head.last_hash = keep, last.hash


async def _rewrite_and_rehash(db: Database, seq: int) -> None:
    async with db.session(write=True) as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.tenant_id == TENANT_A).order_by(AuditEvent.seq)
            )
        ).all()
        target = events[seq - 1]
        payload: dict[str, Any] = dict(target.payload) | {"title": "Abriss statt Neubau"}
        target.payload = payload
        target.payload_digest = hashlib.sha256(canonical_json(payload)).hexdigest()
        prev = events[seq - 2].hash if seq > 1 else "0" * 64
        for event in events[seq - 1 :]:
            event.prev_hash = prev
            event.hash = compute_hash(prev, event_body(event))
            prev = event.hash
        head = await session.get(AuditChainHead, TENANT_A)
        assert head is not None
        head.last_hash = prev


async def _wipe(db: Database, _: int) -> None:
    async with db.session(write=True) as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.tenant_id == TENANT_A))
        await session.execute(delete(AuditChainHead).where(AuditChainHead.tenant_id == TENANT_A))


@pytest.mark.parametrize(
    ("tamper", "arg", "reported"),
    [
        (_truncate_with_head, 3, "truncated"),
        (_truncate_and_rewrite_head, 4, "truncated"),
        (_rewrite_and_rehash, 2, "rewritten"),
        (_wipe, 0, "trail wiped"),
    ],
    ids=["truncate-with-head", "truncate-rewrite-head", "rewrite-rehash", "wipe"],
)
async def test_tampering_after_a_checkpoint_is_reported(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    db: Database,
    cli_env: dict[str, str],
    tamper: Callable[[Database, int], Any],
    arg: int,
    reported: str,
) -> None:
    await _events(client, auth)
    made = _cli(cli_env, "audit", "checkpoint")
    assert made.returncode == 0, made.stderr
    assert "2 checkpoints written" in made.stdout
    clean = _cli(cli_env, "audit", "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    await tamper(db, arg)

    result = _cli(cli_env, "audit", "verify")
    assert result.returncode == 1, result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith(f"{TENANT_A}:"))
    assert "BROKEN" in line and reported in line, result.stdout
    other = next(x for x in result.stdout.splitlines() if x.startswith(f"{TENANT_B}:"))
    assert "valid" in other  # the other tenant's trail is untouched


async def test_a_forged_witness_line_is_reported(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    cli_env: dict[str, str],
) -> None:
    await _events(client, auth)
    assert _cli(cli_env, "audit", "checkpoint").returncode == 0
    witness = Path(cli_env["EAKTE_DATA_DIR"]) / "audit-witness" / f"{TENANT_A}.jsonl"
    line = json.loads(witness.read_text().splitlines()[-1])
    line["seq"] = 2  # someone who truncated the chain "fixes" the witness without the key
    witness.write_text(json.dumps(line) + "\n")
    result = _cli(cli_env, "audit", "verify")
    assert result.returncode == 1
    assert "no valid signature" in result.stdout


async def test_checkpoints_follow_new_events_and_stay_valid(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    cli_env: dict[str, str],
) -> None:
    await _events(client, auth)
    assert "2 checkpoints written" in _cli(cli_env, "audit", "checkpoint").stdout
    assert "0 checkpoints written" in _cli(cli_env, "audit", "checkpoint").stdout  # no change
    await _events(client, auth)
    assert "2 checkpoints written" in _cli(cli_env, "audit", "checkpoint").stdout
    result = _cli(cli_env, "audit", "verify")
    assert result.returncode == 0, result.stdout
    assert "4 signed checkpoints" in result.stdout
    key = Path(cli_env["EAKTE_DATA_DIR"]) / "audit-signing.key"
    assert key.stat().st_mode & 0o077 == 0
