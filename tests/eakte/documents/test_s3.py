"""End-to-end runs on S3 even without EAKTE_TEST_S3_ENDPOINT (then on a local moto server).

With EAKTE_TEST_S3_ENDPOINT set, every documents test runs on S3 as well; these few
make sure the S3 path is exercised by a plain `make test` too.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import Any

import httpx
import pytest

from storage import S3Store
from storage.testing import corrupt_object, raw_names

MiB = 1024 * 1024


@pytest.fixture
def store_settings(s3_store_settings: dict[str, Any]) -> dict[str, Any]:
    """Only S3 in this module."""
    return s3_store_settings


async def test_large_upload_and_ranged_download_on_s3(
    client: httpx.AsyncClient, auth, new_case, upload, samples, store
) -> None:
    assert isinstance(store, S3Store)
    case = await new_case()
    content = samples.pdf(pad=17 * MiB)  # above the 16 MiB part size: a multipart upload
    response = await upload(case["id"], content)
    assert response.status_code == 201, response.text
    version = response.json()["latest_version"]
    assert version["sha256"] == hashlib.sha256(content).hexdigest()
    url = f"/api/v1/cases/{case['id']}/documents/{response.json()['id']}/content"
    full = await client.get(url, headers=auth("clerk"))
    assert full.content == content
    part = await client.get(url, headers=auth("clerk") | {"Range": "bytes=-100"})
    assert part.status_code == 206 and part.content == content[-100:]
    assert [n for n in raw_names(store) if n.startswith(".tmp/")] == []


async def test_rejection_leaves_nothing_in_the_bucket(new_case, upload, samples, store) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    assert (await upload(case["id"], samples.elf(), filename="a.pdf")).status_code == 415
    truncated_ok = await upload(case["id"], samples.pdf(pad=200_000), fields_last=True, kind="x")
    assert truncated_ok.status_code == 422
    assert raw_names(store) == []


async def test_fsck_on_s3(new_case, upload, samples, store, store_env) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    a = (await upload(case["id"], samples.pdf("a"))).json()["latest_version"]
    b = (await upload(case["id"], samples.pdf("b"))).json()["latest_version"]
    keys = sorted(k for k in raw_names(store))
    assert len(keys) == 2 and a["sha256"] != b["sha256"]
    store.delete(keys[0])
    corrupt_object(store, keys[1])
    result = subprocess.run(
        [sys.executable, "-m", "eakte.cli", "fsck", "--repair"],
        env=store_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "1 missing, 1 corrupt, 0 orphans" in result.stdout
    assert "marked 2 versions broken" in result.stdout
