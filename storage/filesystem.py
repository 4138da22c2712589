"""``FilesystemStore``: objects as files under a root directory (the embedded default).

Layout: the object ``a/b/c/d`` is the file ``root/a/b/c/d``; its metadata (sha256,
size, content type) is the JSON sidecar ``root/a/b/c/.d.meta.json``. Writes stream to
``root/.tmp/`` (same filesystem), fsync, rename the sidecar into place, then atomically
rename the data file over the final path and fsync the directory. A crash at any point
leaves the final key either absent or complete; leftovers stay in ``root/.tmp/`` (see
``purge_temp``) and at worst an orphan sidecar, which nothing lists. Names starting with
"." cannot be keys, so ``iter_keys`` skips temp files and sidecars by that rule.

Keys are meant to be written once. Two concurrent ``put`` calls to the same key may pair
one body with the other's sidecar; ``hash`` (used by fsck) would reveal it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from storage.base import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    ObjectEntry,
    ObjectInfo,
    ObjectReader,
    Readable,
)
from storage.errors import ObjectNotFound, StorageError
from storage.keys import validate_key, validate_prefix
from storage.streams import HashingReader, check_range, resolve_range

TEMP_DIR = ".tmp"
_SIDECAR_SUFFIX = ".meta.json"
# Objects and their directories are not world-readable, whatever the process umask is.
FILE_MODE = 0o640
DIR_MODE = 0o750


class FilesystemStore:
    """An ``ObjectStore`` on a local (or mounted) POSIX filesystem."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._tmp = self.root / TEMP_DIR
        for directory in (self.root, self._tmp):
            directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            directory.chmod(DIR_MODE)

    def put(
        self,
        key: str,
        stream: Readable,
        length: int | None,
        content_type: str,
        *,
        max_size: int | None = None,
    ) -> ObjectInfo:
        """Stream ``stream`` to ``key`` while hashing; all or nothing."""
        path = self._path(key)
        reader = HashingReader(stream, length=length, max_size=max_size)
        name = uuid.uuid4().hex
        tmp_data = self._tmp / f"{name}.data"
        tmp_meta = self._tmp / f"{name}.meta"
        try:
            with _create(tmp_data) as f:
                while chunk := reader.read(CHUNK_SIZE):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
                st = os.fstat(f.fileno())  # rename keeps the mtime
            size, sha256 = reader.result()
            meta = {"size": size, "sha256": sha256, "content_type": content_type}
            _write_durably(tmp_meta, json.dumps(meta).encode())
            self._make_dirs(path.parent)
            os.replace(tmp_meta, _sidecar(path))
            os.replace(tmp_data, path)
            _fsync_dir(path.parent)
        except BaseException as exc:
            tmp_data.unlink(missing_ok=True)
            tmp_meta.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc is not reader.source_error:
                raise StorageError(f"cannot store {key!r}: {exc}") from exc
            raise
        return ObjectInfo(key, size, sha256, sha256, content_type, _mtime(st))

    def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectReader:
        """Stream the object, or the inclusive ``(start, end)`` range of it."""
        path = self._path(key)
        if byte_range is not None:
            check_range(byte_range)
        try:
            f = open(path, "rb")  # closed by the reader
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        try:
            size = os.fstat(f.fileno()).st_size
            start, end = resolve_range(byte_range, size) if byte_range else (0, size - 1)
            f.seek(start)
        except BaseException:
            f.close()
            raise
        length = end - start + 1
        return ObjectReader(_read_chunks(f, length, key), length, f.close)

    def head(self, key: str) -> ObjectInfo:
        """Return the stored metadata (from the sidecar) without reading the body."""
        path = self._path(key)
        st = self._stat(key, path)
        try:
            meta = json.loads(_sidecar(path).read_bytes())
            sha256, content_type = str(meta["sha256"]), str(meta["content_type"])
        except (OSError, ValueError, KeyError, TypeError):
            sha256, content_type = self.hash(key), DEFAULT_CONTENT_TYPE
        return ObjectInfo(key, st.st_size, sha256, sha256, content_type, _mtime(st))

    def hash(self, key: str) -> str:
        """Recompute the sha256 (hex) of the bytes on disk."""
        digest = hashlib.sha256()
        with self.open(key) as reader:
            for chunk in reader:
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, key: str) -> None:
        """Remove the object and its sidecar; a missing key is not an error."""
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            _sidecar(path).unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r}: {exc}") from exc

    def iter_keys(self, prefix: str = "") -> Iterator[ObjectEntry]:
        """Yield the objects whose key starts with ``prefix``, in key order."""
        validate_prefix(prefix)
        base, _, name_prefix = prefix.rpartition("/")
        directory = self.root / base if base else self.root
        key_base = f"{base}/" if base else ""
        yield from _walk(directory, key_base, name_prefix)

    def purge_temp(self, older_than: timedelta) -> int:
        """Delete files in ``root/.tmp`` older than ``older_than``; return how many."""
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        with os.scandir(self._tmp) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and _mtime(entry.stat()) < cutoff:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _stat(self, key: str, path: Path) -> os.stat_result:
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        return st

    def _make_dirs(self, directory: Path) -> None:
        missing: list[Path] = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for d in reversed(missing):
            try:
                d.mkdir(mode=DIR_MODE)
                d.chmod(DIR_MODE)
            except FileExistsError:
                if not d.is_dir():
                    raise
            _fsync_dir(d.parent)


def _walk(directory: Path, key_base: str, name_prefix: str) -> Iterator[ObjectEntry]:
    try:
        with os.scandir(directory) as it:
            entries = [e for e in it if not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return
    # A directory's keys all start with "name/", so sorting on that yields key order.
    keyed = [(e.name + "/" if e.is_dir(follow_symlinks=False) else e.name, e) for e in entries]
    for sort_name, entry in sorted(keyed, key=lambda pair: pair[0]):
        if not entry.name.startswith(name_prefix):
            continue
        if sort_name.endswith("/"):
            yield from _walk(Path(entry.path), key_base + sort_name, "")
        elif entry.is_file(follow_symlinks=False):
            st = entry.stat(follow_symlinks=False)
            yield ObjectEntry(key_base + entry.name, st.st_size, _mtime(st))


def _read_chunks(f: BinaryIO, length: int, key: str) -> Iterator[bytes]:
    remaining = length
    while remaining > 0:
        chunk = f.read(min(CHUNK_SIZE, remaining))
        if not chunk:
            raise StorageError(f"object {key!r} shrank while being read")
        remaining -= len(chunk)
        yield chunk


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}{_SIDECAR_SUFFIX}")


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, tz=UTC)


def _create(path: Path) -> BinaryIO:
    """A new file opened for writing with FILE_MODE exactly (fchmod: the umask cannot widen it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "wb")


def _write_durably(path: Path, data: bytes) -> None:
    with _create(path) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
