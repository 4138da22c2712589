"""Fixtures: an ``ObjectStore`` per backend; S3 runs against moto or ``EAKTE_TEST_S3_*``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import FilesystemStore, ObjectStore, S3Store
from storage.testing import start_local_s3

MiB = 1024 * 1024


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``EAKTE_TEST_S3_ENDPOINT`` if set, else a moto server started for this session."""
    endpoint = os.environ.get("EAKTE_TEST_S3_ENDPOINT")
    if endpoint:
        yield endpoint
        return
    with start_local_s3() as url:
        yield url


@pytest.fixture(scope="session")
def s3_credentials() -> tuple[str, str]:
    """Access key and secret for the test S3 endpoint."""
    return (
        os.environ.get("EAKTE_TEST_S3_ACCESS_KEY", "testing"),
        os.environ.get("EAKTE_TEST_S3_SECRET_KEY", "testing"),
    )


@pytest.fixture
def s3_store(s3_endpoint: str, s3_credentials: tuple[str, str]) -> Iterator[S3Store]:
    """An ``S3Store`` on a fresh bucket (5 MiB parts), emptied and removed afterwards."""
    access_key, secret_key = s3_credentials
    bucket = f"eakte-test-{uuid.uuid4().hex[:16]}"
    store = S3Store(
        s3_endpoint, access_key, secret_key, bucket, region="us-east-1", part_size=5 * MiB
    )
    yield store
    for obj in store.client.list_objects(bucket, recursive=True):
        store.client.remove_object(bucket, obj.object_name or "")
    store.client.remove_bucket(bucket)


@pytest.fixture
def fs_store(tmp_path: Path) -> FilesystemStore:
    """A ``FilesystemStore`` under a fresh temporary directory."""
    return FilesystemStore(tmp_path / "objects")


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """The store under test: each contract test runs once per backend."""
    name = "fs_store" if request.param == "filesystem" else "s3_store"
    backend: ObjectStore = request.getfixturevalue(name)
    return backend
