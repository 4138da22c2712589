"""The per-tenant audit hash chain: appended on every write, tampering is caught."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text

from support import TENANT_A, TENANT_B

EAKTE = [sys.executable, "-m", "eakte.cli"]


async def _make_history(client: httpx.AsyncClient, auth, new_case) -> dict:  # type: ignore[no-untyped-def]
    case = await new_case()
    for rev, title in enumerate(["Zwei", "Drei"], start=1):
        response = await client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"title": title},
            headers=auth("clerk") | {"If-Match": f'"{rev}"'},
        )
        assert response.status_code == 200
    await new_case(tenant=TENANT_B)
    return case


async def test_every_write_is_chained(client: httpx.AsyncClient, auth, new_case, db) -> None:  # type: ignore[no-untyped-def]
    await _make_history(client, auth, new_case)
    report = (await client.get("/api/v1/audit/verify", headers=auth("auditor"))).json()
    assert report == {"valid": True, "events": 4, "first_broken": None}
    async with db.session(write=False) as session:
        rows = (
            await session.execute(
                text(
                    "SELECT seq, prev_hash, hash FROM audit_events"
                    " WHERE tenant_id = :t ORDER BY seq"
                ),
                {"t": TENANT_A},
            )
        ).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == "0" * 64
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2", "hash does not match"),
        (
            "UPDATE audit_events SET payload = '{\"revision\": 99}' WHERE seq = 2",
            "payload does not match",
        ),
        ("DELETE FROM audit_events WHERE seq = 2", "sequence gap"),
        ("DELETE FROM audit_events WHERE seq = 4", "chain ends before its recorded head"),
    ],
)
async def test_tampering_is_caught(
    client: httpx.AsyncClient, auth, new_case, db, cli_env, sql: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    await _make_history(client, auth, new_case)
    async with db.session() as session:
        await session.execute(text(sql + " AND tenant_id = :t"), {"t": TENANT_A})
    report = (await client.get("/api/v1/audit/verify", headers=auth("auditor"))).json()
    assert report["valid"] is False
    assert reason in report["first_broken"]["reason"]
    other = (
        await client.get("/api/v1/audit/verify", headers=auth("auditor", tenant=TENANT_B))
    ).json()
    assert other["valid"] is True

    cli = subprocess.run([*EAKTE, "audit", "verify"], env=cli_env, capture_output=True, text=True)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert f"{TENANT_A}: BROKEN" in cli.stdout
    assert f"{TENANT_B}: valid" in cli.stdout
    only_b = subprocess.run(
        [*EAKTE, "audit", "verify", "--tenant", TENANT_B], env=cli_env, capture_output=True
    )
    assert only_b.returncode == 0


async def test_cli_verify_passes_on_intact_chain(
    client: httpx.AsyncClient, auth, new_case, cli_env
) -> None:  # type: ignore[no-untyped-def]
    await _make_history(client, auth, new_case)
    cli = subprocess.run([*EAKTE, "audit", "verify"], env=cli_env, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert f"{TENANT_A}: valid (4 events)" in cli.stdout
    unknown = subprocess.run(
        [*EAKTE, "audit", "verify", "--tenant", "atlantis"], env=cli_env, capture_output=True
    )
    assert unknown.returncode == 1


@pytest.mark.parametrize("role", ["clerk", "approver", "agency", "applicant"])
async def test_verify_endpoint_is_for_auditors(client: httpx.AsyncClient, auth, role: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/audit/verify", headers=auth(role))
    assert response.status_code == 403
