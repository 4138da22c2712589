"""``S3Store``: objects in one bucket of any S3 service (MinIO, Ceph RGW, SeaweedFS, AWS).

How sha256 gets into the metadata: the digest is known only after the whole body has
streamed, but S3 user metadata must be sent before it. So ``put`` uploads the body to a
temporary key ``.tmp/<uuid>`` (``put_object`` with unknown length: a single PUT below
``part_size``, multipart above), hashing, counting and size-limiting it in a reader that
minio pulls from; then it server-side copies the temp object to the final key with
``x-amz-meta-sha256`` and the content type (metadata directive REPLACE) and deletes the
temp object. The final key therefore appears only complete and with its sha256; an
oversized, truncated or failed body never touches it (minio aborts the multipart upload).

Limits: one upload holds about ``part_size`` bytes in memory at a time (parts go up one
after another); at most 10,000 parts, i.e. 156 GiB with the default 16 MiB parts. A
single S3 CopyObject handles up to 5 GiB; minio switches to a multipart copy
(UploadPartCopy) above that, so that is no limit for our 200 MiB default uploads.

A crashed process can leave objects under ``.tmp/`` (see ``purge_temp``) and
incomplete multipart uploads; a bucket lifecycle rule that aborts incomplete multipart
uploads after a day is recommended in production.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.datatypes import Object
from minio.error import MinioException, S3Error
from minio.helpers import MAX_PART_SIZE, MIN_PART_SIZE

from storage.base import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    ObjectEntry,
    ObjectInfo,
    ObjectReader,
    Readable,
)
from storage.errors import InvalidRange, ObjectNotFound, StorageError
from storage.keys import validate_key, validate_prefix
from storage.streams import HashingReader, check_range

TEMP_PREFIX = ".tmp/"
SHA256_META = "x-amz-meta-sha256"
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EPOCH = datetime.fromtimestamp(0, tz=UTC)


class S3Store:
    """An ``ObjectStore`` on one S3 bucket, through the ``minio`` client."""

    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        bucket: str,
        *,
        region: str | None = None,
        secure: bool = False,
        create_bucket: bool = True,
        part_size: int = 16 * 1024 * 1024,
    ) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE}")
        host, secure = _split_endpoint(endpoint, secure)
        self.client = Minio(host, access_key, secret_key, secure=secure, region=region)
        self.bucket = bucket
        self.part_size = part_size
        if create_bucket:
            self._create_bucket(region)

    def put(
        self,
        key: str,
        stream: Readable,
        length: int | None,
        content_type: str,
        *,
        max_size: int | None = None,
    ) -> ObjectInfo:
        """Stream ``stream`` to ``key`` via a temp object while hashing; all or nothing."""
        validate_key(key)
        reader = HashingReader(stream, length=length, max_size=max_size)
        temp = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            try:
                self.client.put_object(
                    self.bucket,
                    temp,
                    reader,  # type: ignore[arg-type]  # minio only calls read(n)
                    length=-1,
                    content_type=content_type,
                    part_size=self.part_size,
                    num_parallel_uploads=1,
                )
            except (MinioException, urllib3.exceptions.HTTPError) as exc:
                if exc is reader.source_error:
                    raise
                raise _storage_error(exc, key) from exc
            size, sha256 = reader.result()
            with _translated(key):
                self.client.copy_object(
                    self.bucket,
                    key,
                    CopySource(self.bucket, temp),
                    metadata={"Content-Type": content_type, SHA256_META: sha256},
                    metadata_directive=REPLACE,
                )
                stat = self.client.stat_object(self.bucket, key)
        finally:
            self._remove_quietly(temp)
        return ObjectInfo(
            key, size, sha256, stat.etag or "", content_type, stat.last_modified or _EPOCH
        )

    def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectReader:
        """Stream the object, or the inclusive ``(start, end)`` range of it."""
        validate_key(key)
        offset = length = 0
        if byte_range is not None:
            start, end = check_range(byte_range)
            offset, length = start, end - start + 1
        with _translated(key):
            response = self.client.get_object(self.bucket, key, offset=offset, length=length)
        if byte_range is not None and response.status != 206:
            _release(response)
            raise StorageError(f"the S3 server ignored the Range request for {key!r}")
        size = int(response.headers.get("content-length", "0"))
        return ObjectReader(_chunks(response, key), size, lambda: _release(response))

    def presigned_get(
        self, key: str, expires: timedelta, *, content_type: str, content_disposition: str
    ) -> str:
        """A presigned GET URL of ``key`` valid for ``expires``; the store answers it with
        these response headers (signed too). Made locally (the region is configured or
        asked once and cached by the client)."""
        validate_key(key)
        with _translated(key):
            return self.client.presigned_get_object(
                self.bucket,
                key,
                expires=expires,
                response_headers={
                    "response-content-type": content_type,
                    "response-content-disposition": content_disposition,
                    "response-cache-control": "private, no-cache",
                },
            )

    def head(self, key: str) -> ObjectInfo:
        """Return the stored metadata (sha256 from ``x-amz-meta-sha256``) with one HEAD."""
        validate_key(key)
        try:
            with _translated(key):
                stat = self.client.stat_object(self.bucket, key)
        except ObjectNotFound:
            # A HEAD response has no body, so a missing bucket also looks like NoSuchKey.
            with _translated(self.bucket):
                if not self.client.bucket_exists(self.bucket):
                    raise StorageError(f"bucket {self.bucket!r} does not exist") from None
            raise
        sha256 = _user_meta(stat, SHA256_META)
        if sha256 is None or _HEX64.fullmatch(sha256) is None:
            sha256 = self.hash(key)  # written behind our back: compute it
        return ObjectInfo(
            key,
            stat.size or 0,
            sha256,
            stat.etag or "",
            stat.content_type or DEFAULT_CONTENT_TYPE,
            stat.last_modified or _EPOCH,
        )

    def hash(self, key: str) -> str:
        """Recompute the sha256 (hex) of the stored bytes by streaming them."""
        digest = hashlib.sha256()
        with self.open(key) as reader:
            for chunk in reader:
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        validate_key(key)
        try:
            self.client.remove_object(self.bucket, key)
        except S3Error as exc:
            if exc.code not in _NOT_FOUND:
                raise _storage_error(exc, key) from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise _storage_error(exc, key) from exc

    def iter_keys(self, prefix: str = "") -> Iterator[ObjectEntry]:
        """Yield the objects whose key starts with ``prefix``, in key order (no temp objects)."""
        validate_prefix(prefix)
        for obj in self._list(prefix):
            name = obj.object_name or ""
            if not name.startswith(TEMP_PREFIX):
                yield ObjectEntry(name, obj.size or 0, obj.last_modified or _EPOCH)

    def purge_temp(self, older_than: timedelta) -> int:
        """Delete ``.tmp/`` objects older than ``older_than``; return how many."""
        cutoff = datetime.now(UTC) - older_than
        old = [
            obj.object_name
            for obj in self._list(TEMP_PREFIX)
            if obj.object_name and obj.last_modified and obj.last_modified < cutoff
        ]
        for name in old:
            with _translated(name):
                self.client.remove_object(self.bucket, name)
        return len(old)

    def _list(self, prefix: str) -> Iterator[Object]:
        try:
            yield from self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise _storage_error(exc, prefix) from exc

    def _create_bucket(self, region: str | None) -> None:
        with _translated(self.bucket):
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket, location=region)
            except S3Error as exc:
                if exc.code != "BucketAlreadyOwnedByYou":
                    raise

    def _remove_quietly(self, name: str) -> None:
        try:
            self.client.remove_object(self.bucket, name)
        except (MinioException, urllib3.exceptions.HTTPError):
            pass  # purge_temp removes it later


def _split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """Accept ``host:port`` (TLS per ``secure``) or ``http(s)://host:port`` (TLS per scheme)."""
    if "://" not in endpoint:
        return endpoint, secure
    url = urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.netloc or url.path not in ("", "/"):
        raise ValueError(f"endpoint must be host:port or http(s)://host:port, not {endpoint!r}")
    return url.netloc, url.scheme == "https"


def _user_meta(stat: Object, name: str) -> str | None:
    for header, value in (stat.metadata or {}).items():
        if str(header).lower() == name:
            return str(value)
    return None


def _chunks(response: urllib3.BaseHTTPResponse, key: str) -> Iterator[bytes]:
    try:
        yield from response.stream(CHUNK_SIZE)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise StorageError(f"reading {key!r} from S3 failed: {exc}") from exc


def _release(response: urllib3.BaseHTTPResponse) -> None:
    response.close()
    response.release_conn()


def _storage_error(exc: Exception, key: str) -> StorageError:
    if isinstance(exc, S3Error):
        if exc.code in _NOT_FOUND:
            return ObjectNotFound(key)
        if exc.code == "InvalidRange":
            return InvalidRange(f"byte range not satisfiable for {key!r}")
        return StorageError(f"S3 error for {key!r}: {exc.code}: {exc.message}")
    return StorageError(f"S3 request for {key!r} failed: {exc}")


@contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except (MinioException, urllib3.exceptions.HTTPError) as exc:
        raise _storage_error(exc, key) from exc
