"""`eakte fsck` as a real process against the test database and store."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from eakte.audit.models import AuditEvent
from eakte.documents.fsck import parse_duration
from eakte.documents.models import DocumentVersion
from storage import FilesystemStore, ObjectStore
from storage.testing import corrupt_object
from support import TENANT_A, TENANT_B

EAKTE = [sys.executable, "-m", "eakte.cli"]


def fsck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EAKTE, "fsck", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def _versions(db) -> dict[str, DocumentVersion]:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        rows = (await session.scalars(select(DocumentVersion))).all()
    return {row.object_key: row for row in rows}


def _orphan(store: ObjectStore, tenant: str = TENANT_A, *, age_seconds: int = 0) -> str:
    key = f"{tenant}/{uuid.uuid4()}/{uuid.uuid4()}/{uuid.uuid4()}"
    store.put(key, io.BytesIO(b"%PDF-1.4 left behind by a crash"), None, "application/pdf")
    if age_seconds and isinstance(store, FilesystemStore):
        old = time.time() - age_seconds
        os.utime(store.root / key, (old, old))
    return key


@pytest.fixture
async def three_documents(new_case, upload, samples):  # type: ignore[no-untyped-def]
    case = await new_case()
    docs = []
    for i in range(3):
        response = await upload(case["id"], samples.pdf(f"Plan {i}"), title=f"Plan {i}")
        assert response.status_code == 201
        docs.append(response.json())
    return case, docs


async def test_clean_store_exits_0(store_env, three_documents) -> None:  # type: ignore[no-untyped-def]
    result = fsck(store_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 3 versions and 3 objects: 0 missing, 0 corrupt, 0 orphans" in result.stdout


async def test_finds_missing_corrupt_and_orphans_then_repairs(
    client: httpx.AsyncClient, auth, db, store, store_env, three_documents
) -> None:
    case, docs = three_documents
    keys = sorted(await _versions(db))
    by_doc = {row.document_id: key for key, row in (await _versions(db)).items()}
    missing_key = by_doc[uuid.UUID(docs[0]["id"])]
    corrupt_key = by_doc[uuid.UUID(docs[1]["id"])]
    store.delete(missing_key)
    corrupt_object(store, corrupt_key)
    orphan_key = _orphan(store, age_seconds=7200)
    young_key = _orphan(store)

    dry = fsck(store_env, "--grace", "0s")
    assert dry.returncode == 1, dry.stderr
    out = dry.stdout
    assert f"missing: {missing_key}" in out
    assert f"corrupt: {corrupt_key}" in out
    assert f"orphan: {orphan_key}" in out and f"orphan: {young_key}" in out
    assert "1 missing, 1 corrupt, 2 orphans" in out
    assert "dry run: nothing changed" in out
    assert store.head(orphan_key).size > 0
    assert {r.status for r in (await _versions(db)).values()} == {"ok"}
    assert len(keys) == 3

    if isinstance(store, FilesystemStore):
        graced = fsck(store_env)  # default grace 1h: only the old orphan counts
        assert f"orphan: {orphan_key}" in graced.stdout
        assert young_key not in graced.stdout
        assert "1 younger than the grace period ignored" in graced.stdout

    repaired = fsck(store_env, "--repair", "--grace", "0s")
    assert repaired.returncode == 1, repaired.stderr
    assert "deleted 2 orphans" in repaired.stdout
    assert "marked 2 versions broken" in repaired.stdout
    remaining = {entry.key for entry in store.iter_keys()}
    assert orphan_key not in remaining and young_key not in remaining
    assert corrupt_key in remaining
    rows = await _versions(db)
    assert rows[missing_key].status == "broken" and rows[corrupt_key].status == "broken"
    assert rows[missing_key].broken_at is not None
    assert "sha256" in (rows[corrupt_key].broken_reason or "")
    async with db.session(write=False) as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.action == "document.version_broken")
            )
        ).all()
    assert len(actions) == 2
    verify = await client.get("/api/v1/audit/verify", headers=auth("auditor"))
    assert verify.json()["valid"] is True

    again = fsck(store_env, "--grace", "0s")
    assert again.returncode == 1
    assert f"missing: {missing_key}" in again.stdout
    assert f"corrupt: {corrupt_key}" in again.stdout
    assert again.stdout.count("[marked broken]") == 2
    assert "orphan:" not in again.stdout
    assert "1 missing, 1 corrupt, 0 orphans" in again.stdout

    base = f"/api/v1/cases/{case['id']}/documents/{docs[1]['id']}"
    meta = await client.get(f"{base}/versions/1", headers=auth("clerk"))
    assert meta.json()["status"] == "broken"
    content = await client.get(f"{base}/content", headers=auth("clerk"))
    assert content.status_code == 503
    assert content.json()["type"] == "urn:eakte:problem:content-unavailable"
    intact = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{docs[2]['id']}/content", headers=auth("clerk")
    )
    assert intact.status_code == 200


async def test_restored_bytes_clear_the_mark(
    db, store, store_env, three_documents, samples
) -> None:  # type: ignore[no-untyped-def]
    _, docs = three_documents
    rows = await _versions(db)
    key = next(k for k, r in rows.items() if r.document_id == uuid.UUID(docs[0]["id"]))
    store.delete(key)
    assert fsck(store_env, "--repair").returncode == 1
    assert (await _versions(db))[key].status == "broken"
    store.put(key, io.BytesIO(samples.pdf("Plan 0")), None, "application/pdf")  # from backup
    restored = fsck(store_env, "--repair")
    assert restored.returncode == 0, restored.stdout
    assert f"recovered: {key}" in restored.stdout
    assert "cleared 1 marks" in restored.stdout
    assert (await _versions(db))[key].status == "ok"


async def test_tenant_filter(store, store_env, three_documents) -> None:  # type: ignore[no-untyped-def]
    other = _orphan(store, TENANT_B)
    only_a = fsck(store_env, "--tenant", TENANT_A, "--grace", "0s")
    assert only_a.returncode == 0, only_a.stdout
    assert "checked 3 versions and 3 objects" in only_a.stdout
    only_b = fsck(store_env, "--tenant", TENANT_B, "--grace", "0s")
    assert only_b.returncode == 1
    assert f"orphan: {other}" in only_b.stdout
    unknown = fsck(store_env, "--tenant", "atlantis")
    assert unknown.returncode == 2


async def test_repair_purges_old_temp_files(store, store_env) -> None:  # type: ignore[no-untyped-def]
    if not isinstance(store, FilesystemStore):
        pytest.skip("temp files of the filesystem store")
    leftover = store.root / ".tmp" / "deadbeef.data"
    leftover.write_bytes(b"half an upload")
    result = fsck(store_env, "--repair", "--grace", "0s")
    assert result.returncode == 0
    assert "1 temp files" in result.stdout
    assert not leftover.exists()


def test_bad_grace_is_a_usage_error(store_env) -> None:  # type: ignore[no-untyped-def]
    result = fsck(store_env, "--grace", "soon")
    assert result.returncode == 2
    assert "not a duration" in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("0", 0), ("90", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("1h30m", 5400)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds
