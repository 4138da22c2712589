"""The streaming multipart receiver on its own: chunking, bounded memory, early limits."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.requests import ClientDisconnect

from eakte.documents.errors import MalformedUpload, StorageUnavailable, UploadTooLarge
from eakte.documents.pipe import PIPE_BYTES
from eakte.documents.schemas import DocumentFields
from eakte.documents.service import field_check
from eakte.documents.streaming import UploadPolicy, UploadReceiver
from storage import FilesystemStore, ObjectInfo, StorageError
from storage.testing import raw_names

KEY = "augsburg/c/d/v1"
POLICY = UploadPolicy(allowed_media_types=["application/pdf"], max_bytes=8 * 1024 * 1024)
BOUNDARY = "b0und4ry"
CT = f"multipart/form-data; boundary={BOUNDARY}"


def _receiver(store, policy: UploadPolicy = POLICY) -> UploadReceiver:  # type: ignore[no-untyped-def]
    return UploadReceiver(
        store=store,
        key=KEY,
        policy=policy,
        field_names=frozenset(DocumentFields.model_fields),
        check_fields=field_check(DocumentFields),
    )


def _pdf_body(size: int) -> tuple[bytes, bytes]:
    head = b"%PDF-1.4\n"
    content = head + bytes(range(256)) * ((size - len(head)) // 256 + 1)
    content = content[:size]
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nPlan\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlageplan\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return body + content + f"\r\n--{BOUNDARY}--\r\n".encode(), content


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.fixture
def fs(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "objects")


@pytest.mark.parametrize("chunk", [1, 7, 65536, 10**9])
async def test_any_chunking_gives_the_same_object(fs: FilesystemStore, chunk: int) -> None:
    body, content = _pdf_body(100_000 if chunk > 1 else 5000)
    upload = await _receiver(fs).receive(
        content_type=CT, content_length=None, body=_chunks(body, chunk)
    )
    assert upload.fields == {"title": "Plan", "kind": "lageplan"}
    assert upload.file.info.sha256 == hashlib.sha256(content).hexdigest()
    assert upload.file.info.size == len(content)
    assert upload.file.media_type == "application/pdf"
    assert fs.open(KEY).read_all() == content


async def test_over_limit_stops_reading_the_body(fs: FilesystemStore) -> None:
    limit = 1024 * 1024
    head, _ = _pdf_body(10)
    head = head[: head.index(b"%PDF")] + b"%PDF-1.4\n"
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += len(head)
        yield head
        while True:
            pulled += 65536
            yield b"\x00" * 65536

    policy = UploadPolicy(allowed_media_types=["application/pdf"], max_bytes=limit)
    with pytest.raises(UploadTooLarge):
        await _receiver(fs, policy).receive(content_type=CT, content_length=None, body=endless())
    assert pulled <= limit + 2 * 65536 + len(head)
    assert raw_names(fs) == []


class SlowStore:
    """Reads its body slowly and records how far the producer ran ahead."""

    def __init__(self) -> None:
        self.consumed = 0

    def put(self, key, stream, length, content_type, *, max_size=None) -> ObjectInfo:  # type: ignore[no-untyped-def]
        digest = hashlib.sha256()
        while chunk := stream.read(256 * 1024):
            digest.update(chunk)
            self.consumed += len(chunk)
            time.sleep(0.002)
        return ObjectInfo(key, self.consumed, digest.hexdigest(), "", content_type, None)  # type: ignore[arg-type]

    def delete(self, key: str) -> None:
        pass


async def test_memory_stays_bounded_while_the_store_lags() -> None:
    store = SlowStore()
    body, content = _pdf_body(24 * 1024 * 1024)
    produced = 0
    ahead = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal produced, ahead
        for i in range(0, len(body), 65536):
            produced += min(65536, len(body) - i)
            ahead = max(ahead, produced - store.consumed)
            yield body[i : i + 65536]

    policy = UploadPolicy(allowed_media_types=["application/pdf"], max_bytes=32 * 1024 * 1024)
    upload = await _receiver(store, policy).receive(
        content_type=CT, content_length=None, body=counted()
    )
    assert upload.file.info.sha256 == hashlib.sha256(content).hexdigest()
    # the pipe buffer, the sniffed head, one read in flight, one chunk in the parser
    assert ahead <= PIPE_BYTES + 64 * 1024 + 256 * 1024 + 2 * 65536


async def test_client_disconnect_mid_file_leaves_nothing(fs: FilesystemStore) -> None:
    body, _ = _pdf_body(2 * 1024 * 1024)

    async def broken() -> AsyncIterator[bytes]:
        async for chunk in _chunks(body[: len(body) // 2], 65536):
            yield chunk
        raise ClientDisconnect

    with pytest.raises(MalformedUpload):
        await _receiver(fs).receive(content_type=CT, content_length=None, body=broken())
    assert raw_names(fs) == []


class FailingStore:
    """An object store whose backend dies after the first megabyte."""

    def put(self, key, stream, length, content_type, *, max_size=None) -> ObjectInfo:  # type: ignore[no-untyped-def]
        stream.read(1024 * 1024)
        raise StorageError("backend exploded")

    def delete(self, key: str) -> None:
        raise AssertionError("nothing was stored, nothing to delete")


async def test_store_failure_is_503_and_stops_the_upload() -> None:
    body, _ = _pdf_body(8 * 1024 * 1024 - 1)
    pulled = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for chunk in _chunks(body, 65536):
            pulled += len(chunk)
            yield chunk

    with pytest.raises(StorageUnavailable):
        await _receiver(FailingStore()).receive(
            content_type=CT, content_length=None, body=counted()
        )
    assert pulled < 4 * 1024 * 1024
