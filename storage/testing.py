"""Test helpers that other test suites may reuse: a local S3 server and synthetic bodies."""

from __future__ import annotations

import hashlib
import http.client
import io
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from storage.base import ObjectStore
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store

_BLOCK = 64 * 1024


@contextmanager
def start_local_s3(*, host: str = "127.0.0.1", timeout: float = 30.0) -> Iterator[str]:
    """Run a moto S3 server (``moto[server]``) on loopback; yield its ``http://`` URL."""
    port = _free_port(host)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_until_serving(proc, host, port, timeout, log)
            yield f"http://{host}:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(
    proc: subprocess.Popen[bytes], host: str, port: int, timeout: float, log: IO[bytes]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode}: {_tail(log)}")
        conn = http.client.HTTPConnection(host, port, timeout=1)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
        finally:
            conn.close()
    raise RuntimeError(f"moto server not answering on {host}:{port} in {timeout} s: {_tail(log)}")


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read()[-2000:].decode(errors="replace")


class PatternStream:
    """A deterministic body of ``size`` bytes (``None``: endless) generated on demand.

    Nothing is held in memory beyond one block. ``consumed`` counts the bytes handed
    out; with ``fail_after`` the stream raises ``ConnectionResetError`` once that many
    bytes have been handed out, like a client that disconnects mid-upload.
    """

    def __init__(self, size: int | None, *, seed: int = 0, fail_after: int | None = None) -> None:
        self.size = size
        self.seed = seed
        self.fail_after = fail_after
        self.consumed = 0

    def read(self, n: int = -1, /) -> bytes:
        """Return the next up-to-``n`` bytes (one block for a negative ``n``)."""
        if self.fail_after is not None and self.consumed >= self.fail_after:
            raise ConnectionResetError("simulated client disconnect")
        n = _BLOCK if n < 0 else n
        if self.size is not None:
            n = min(n, self.size - self.consumed)
        if self.fail_after is not None:
            n = min(n, self.fail_after - self.consumed)
        data = _pattern(self.seed, self.consumed, n)
        self.consumed += len(data)
        return data

    def sha256(self) -> str:
        """Return the sha256 (hex) of the whole (finite) body, generated again."""
        if self.size is None:
            raise ValueError("an endless stream has no digest")
        digest = hashlib.sha256()
        copy = PatternStream(self.size, seed=self.seed)
        while chunk := copy.read(1024 * 1024):
            digest.update(chunk)
        return digest.hexdigest()


def _pattern(seed: int, offset: int, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        index, skip = divmod(offset, _BLOCK)
        block = _block(seed, index)[skip : skip + n]
        parts.append(block)
        offset += len(block)
        n -= len(block)
    return b"".join(parts)


def _block(seed: int, index: int) -> bytes:
    return hashlib.sha256(f"{seed}:{index}".encode()).digest() * (_BLOCK // 32)


def raw_names(store: ObjectStore) -> list[str]:
    """Every name a backend holds, temp files and sidecars included (to find leftovers)."""
    store = getattr(store, "inner", store)  # the backend under eakte's CountingStore
    if isinstance(store, FilesystemStore):
        files = (p for p in store.root.rglob("*") if not p.is_dir())
        return sorted(p.relative_to(store.root).as_posix() for p in files)
    if isinstance(store, S3Store):
        objects = store.client.list_objects(store.bucket, recursive=True)
        return sorted(obj.object_name or "" for obj in objects)
    raise TypeError(f"unsupported store {store!r}")


def corrupt_object(store: ObjectStore, key: str) -> None:
    """Flip one bit of the stored bytes behind the store's back, keeping its metadata."""
    if isinstance(store, FilesystemStore):
        with open(store.root / key, "r+b") as f:
            first = f.read(1)
            f.seek(0)
            f.write(bytes([first[0] ^ 0x01]))
        return
    if isinstance(store, S3Store):
        info = store.head(key)
        response = store.client.get_object(store.bucket, key)
        try:
            data = bytearray(response.read())
        finally:
            response.close()
            response.release_conn()
        data[0] ^= 0x01
        store.client.put_object(
            store.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=info.content_type,
            metadata={"sha256": info.sha256},
        )
        return
    raise TypeError(f"unsupported store {store!r}")
