"""The ``ObjectStore`` protocol and the value types its backends share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

CHUNK_SIZE = 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class Readable(Protocol):
    """Anything with ``read(n) -> bytes`` (a file, a request body adapter, ...)."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """Metadata of a stored object; ``sha256`` is lower-case hex, ``etag`` has no quotes."""

    key: str
    size: int
    sha256: str
    etag: str
    content_type: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    """One listing row from ``iter_keys`` (cheap: no hash, no content type)."""

    key: str
    size: int
    last_modified: datetime


class ObjectReader:
    """The bytes of an object (or a range of it) as an iterable of chunks.

    Iterate once; the reader closes itself when exhausted. Call ``close()`` (or use
    ``with``) if you stop early. ``length`` is the number of bytes it will yield, e.g.
    for a ``Content-Length`` header.
    """

    def __init__(self, chunks: Iterable[bytes], length: int, close: Callable[[], None]) -> None:
        self.length = length
        self._chunks = chunks
        self._close = close
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def read_all(self) -> bytes:
        """Read the remaining bytes into memory (for small objects and tests)."""
        return b"".join(self)

    def close(self) -> None:
        """Release the underlying file or connection; safe to call twice."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class ObjectStore(Protocol):
    """A synchronous store of immutable blobs; call it from worker threads."""

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
        ...

    def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectReader:
        """Stream the object, or the inclusive ``(start, end)`` range of it."""
        ...

    def head(self, key: str) -> ObjectInfo:
        """Return the stored metadata without reading the body."""
        ...

    def hash(self, key: str) -> str:
        """Recompute the sha256 (hex) of the bytes actually stored."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        ...

    def iter_keys(self, prefix: str = "") -> Iterator[ObjectEntry]:
        """Yield the objects whose key starts with ``prefix``, in key order."""
        ...

    def purge_temp(self, older_than: timedelta) -> int:
        """Delete leftovers of interrupted writes older than ``older_than``; return the count."""
        ...
