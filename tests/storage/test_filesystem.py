"""``FilesystemStore`` specifics: on-disk layout, crash safety, temp leftovers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from storage import FilesystemStore, ObjectNotFound
from storage.testing import PatternStream

MiB = 1024 * 1024
KEY = "muenchen/c-7/d-3/5f1c2b9e-0d7a-4c1e-9a4b-3d2f1e0c9b8a"


def sidecar(store: FilesystemStore, key: str) -> Path:
    path = store.root / key
    return path.with_name(f".{path.name}.meta.json")


def temp_files(store: FilesystemStore) -> list[str]:
    return sorted(p.name for p in (store.root / ".tmp").iterdir())


def test_object_and_sidecar_layout(fs_store: FilesystemStore) -> None:
    info = fs_store.put(KEY, io.BytesIO(b"%PDF-1.7"), 8, "application/pdf")

    assert (fs_store.root / KEY).read_bytes() == b"%PDF-1.7"
    meta = json.loads(sidecar(fs_store, KEY).read_text())
    assert meta == {"size": 8, "sha256": info.sha256, "content_type": "application/pdf"}
    assert info.etag == info.sha256
    assert temp_files(fs_store) == []


class Explodes:
    """A body that raises halfway, like a worker dying mid-request."""

    def __init__(self, good_bytes: int) -> None:
        self.inner = PatternStream(None)
        self.good_bytes = good_bytes

    def read(self, n: int, /) -> bytes:
        if self.inner.consumed >= self.good_bytes:
            raise RuntimeError("boom")
        return self.inner.read(min(n, self.good_bytes - self.inner.consumed))


def test_failed_write_leaves_no_object_no_sidecar_no_temp(fs_store: FilesystemStore) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        fs_store.put(KEY, Explodes(3 * MiB), None, "application/pdf")

    assert not (fs_store.root / KEY).exists()
    assert not sidecar(fs_store, KEY).exists()
    assert temp_files(fs_store) == []
    with pytest.raises(ObjectNotFound):
        fs_store.head(KEY)


def test_failed_overwrite_keeps_the_previous_object(fs_store: FilesystemStore) -> None:
    before = fs_store.put(KEY, io.BytesIO(b"old"), 3, "text/plain")

    with pytest.raises(RuntimeError):
        fs_store.put(KEY, Explodes(2 * MiB), None, "application/pdf")

    assert fs_store.head(KEY) == before
    assert fs_store.open(KEY).read_all() == b"old"


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from storage import FilesystemStore

    class DiesHalfway:
        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls == 4:
                os.kill(os.getpid(), signal.SIGKILL)
            return b"x" * min(n, 1 << 20)

    FilesystemStore(sys.argv[1]).put(sys.argv[2], DiesHalfway(), None, "text/plain")
    """
)


def test_killed_writer_leaves_only_an_unlisted_temp_file(fs_store: FilesystemStore) -> None:
    fs_store.put("muenchen/c-7/d-3/other", io.BytesIO(b"keep"), 4, "text/plain")

    proc = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(fs_store.root), KEY], timeout=30, check=False
    )

    assert proc.returncode == -9
    assert len(temp_files(fs_store)) == 1
    assert not (fs_store.root / KEY).exists()
    assert [e.key for e in fs_store.iter_keys("")] == ["muenchen/c-7/d-3/other"]
    with pytest.raises(ObjectNotFound):
        fs_store.head(KEY)
    assert fs_store.purge_temp(timedelta(0)) == 1
    assert temp_files(fs_store) == []


def test_purge_temp_spares_recent_files(fs_store: FilesystemStore) -> None:
    tmp = fs_store.root / ".tmp"
    (tmp / "old.data").write_bytes(b"x")
    (tmp / "new.data").write_bytes(b"y")
    hour_ago = time.time() - 3600
    os.utime(tmp / "old.data", (hour_ago, hour_ago))

    assert fs_store.purge_temp(timedelta(minutes=10)) == 1
    assert temp_files(fs_store) == ["new.data"]


def test_head_without_sidecar_hashes_the_bytes(fs_store: FilesystemStore) -> None:
    info = fs_store.put(KEY, io.BytesIO(b"abc"), 3, "text/plain")
    sidecar(fs_store, KEY).unlink()

    fallback = fs_store.head(KEY)

    assert fallback.sha256 == info.sha256
    assert fallback.content_type == "application/octet-stream"


def test_directories_are_not_objects(fs_store: FilesystemStore) -> None:
    fs_store.put(KEY, io.BytesIO(b"abc"), 3, "text/plain")

    with pytest.raises(ObjectNotFound):
        fs_store.head("muenchen/c-7")
    with pytest.raises(ObjectNotFound):
        fs_store.open("muenchen/c-7")
