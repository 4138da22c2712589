"""``S3Store`` specifics: sha256 user metadata, temp objects, aborted uploads, config."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest

from storage import ObjectNotFound, ObjectTooLarge, S3Store, StorageError
from storage.s3 import SHA256_META, TEMP_PREFIX
from storage.testing import PatternStream

MiB = 1024 * 1024
KEY = "nuernberg/c-9/d-1/7a0c2d4e-6f81-4b3a-9c5d-e7f1a2b3c4d5"


def test_sha256_and_content_type_are_object_metadata(s3_store: S3Store) -> None:
    info = s3_store.put(KEY, io.BytesIO(b"%PDF-1.7"), None, "application/pdf")

    stat = s3_store.client.stat_object(s3_store.bucket, KEY)
    assert stat.metadata is not None
    assert stat.metadata[SHA256_META] == info.sha256
    assert stat.content_type == "application/pdf"
    assert stat.etag == info.etag
    assert [
        o.object_name for o in s3_store.client.list_objects(s3_store.bucket, recursive=True)
    ] == [KEY]


def test_object_written_behind_our_back_gets_hashed_by_head(s3_store: S3Store) -> None:
    info = s3_store.put(KEY, io.BytesIO(b"abc"), 3, "text/plain")
    s3_store.client.put_object(s3_store.bucket, KEY, io.BytesIO(b"abc"), 3)

    assert s3_store.head(KEY).sha256 == info.sha256


def test_aborted_multipart_upload_leaves_no_parts(s3_store: S3Store) -> None:
    with pytest.raises(ObjectTooLarge):
        s3_store.put(KEY, PatternStream(None), None, "application/pdf", max_size=12 * MiB)

    uploads = s3_store.client._list_multipart_uploads(s3_store.bucket)
    assert uploads.uploads == []


def test_temp_objects_are_not_listed_and_can_be_purged(s3_store: S3Store) -> None:
    s3_store.put(KEY, io.BytesIO(b"abc"), 3, "text/plain")
    s3_store.client.put_object(s3_store.bucket, f"{TEMP_PREFIX}leftover", io.BytesIO(b"x"), 1)

    assert [entry.key for entry in s3_store.iter_keys("")] == [KEY]
    assert s3_store.purge_temp(timedelta(hours=1)) == 0
    # A cutoff in the future counts everything as old, whatever the server's clock says.
    assert s3_store.purge_temp(timedelta(seconds=-5)) == 1
    assert [entry.key for entry in s3_store.iter_keys("")] == [KEY]


def test_endpoint_as_host_port(s3_endpoint: str, s3_credentials: tuple[str, str]) -> None:
    host_port = s3_endpoint.split("://", 1)[1]
    secure = s3_endpoint.startswith("https://")
    bucket = f"eakte-test-{uuid.uuid4().hex[:16]}"
    store = S3Store(host_port, *s3_credentials, bucket, region="us-east-1", secure=secure)
    try:
        store.put(KEY, io.BytesIO(b"abc"), 3, "text/plain")
        assert store.open(KEY).read_all() == b"abc"
    finally:
        store.delete(KEY)
        store.client.remove_bucket(bucket)


def test_missing_bucket_is_a_storage_error(
    s3_endpoint: str, s3_credentials: tuple[str, str]
) -> None:
    store = S3Store(
        s3_endpoint, *s3_credentials, "eakte-test-absent", region="us-east-1", create_bucket=False
    )

    with pytest.raises(StorageError) as excinfo:
        store.head(KEY)
    assert not isinstance(excinfo.value, ObjectNotFound)
    with pytest.raises(StorageError):
        store.put(KEY, io.BytesIO(b"abc"), 3, "text/plain")


@pytest.mark.parametrize(
    ("endpoint", "part_size"),
    [("ftp://127.0.0.1:9000", 5 * MiB), ("http://h:1/path", 5 * MiB), ("h:1", MiB)],
)
def test_bad_configuration(endpoint: str, part_size: int) -> None:
    with pytest.raises(ValueError):
        S3Store(endpoint, "k", "s", "bucket", create_bucket=False, part_size=part_size)
