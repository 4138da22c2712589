"""Stream helpers shared by the backends: the hashing reader and range resolution."""

from __future__ import annotations

import hashlib

from storage.base import CHUNK_SIZE, Readable
from storage.errors import IncompleteBody, InvalidRange, ObjectTooLarge


class HashingReader:
    """Wraps a body: hashes and counts it, and enforces ``length`` and ``max_size``, as read.

    ``read(n)`` fills up to ``n`` bytes (fewer only at the end of the body) and raises
    ``ObjectTooLarge`` or ``IncompleteBody`` as soon as the body breaks a limit; it never
    reads more than one byte past a limit. An exception raised by the source itself is
    re-raised unchanged and remembered in ``source_error``.
    """

    def __init__(self, source: Readable, *, length: int | None, max_size: int | None) -> None:
        if length is not None and length < 0:
            raise ValueError("length must be >= 0 or None")
        if max_size is not None and max_size < 0:
            raise ValueError("max_size must be >= 0 or None")
        if length is not None and max_size is not None and length > max_size:
            raise ObjectTooLarge(max_size)
        self._source = source
        self._length = length
        self._max_size = max_size
        limits = [x for x in (length, max_size) if x is not None]
        self._limit = min(limits) if limits else None
        self._sha256 = hashlib.sha256()
        self._eof = False
        self.size = 0
        self.source_error: BaseException | None = None

    def read(self, size: int = -1, /) -> bytes:
        """Return up to ``size`` bytes (a negative size means one chunk, never everything)."""
        want = size if size >= 0 else CHUNK_SIZE
        parts: list[bytes] = []
        while want > 0 and not self._eof:
            n = min(want, CHUNK_SIZE)
            if self._limit is not None:
                n = min(n, self._limit + 1 - self.size)
            chunk = self._read_source(n)
            if not chunk:
                self._eof = True
                if self._length is not None and self.size != self._length:
                    raise IncompleteBody(self._length, self.size)
                break
            self._account(chunk)
            parts.append(chunk)
            want -= len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def result(self) -> tuple[int, str]:
        """Return ``(size, sha256 hex)`` once the whole body has been read."""
        if not self._eof:
            raise RuntimeError("body not read to the end")
        return self.size, self._sha256.hexdigest()

    def _read_source(self, n: int) -> bytes:
        try:
            chunk = self._source.read(n)
        except BaseException as exc:
            self.source_error = exc
            raise
        return chunk if isinstance(chunk, bytes) else bytes(chunk)

    def _account(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._length is not None and self.size > self._length:
            raise IncompleteBody(self._length, self.size)
        if self._max_size is not None and self.size > self._max_size:
            raise ObjectTooLarge(self._max_size)
        self._sha256.update(chunk)


def check_range(byte_range: tuple[int, int]) -> tuple[int, int]:
    """Reject a malformed inclusive ``(start, end)`` range."""
    start, end = byte_range
    if start < 0 or end < start:
        raise InvalidRange(f"malformed byte range {byte_range!r}")
    return start, end


def resolve_range(byte_range: tuple[int, int], size: int) -> tuple[int, int]:
    """Clamp an inclusive range to an object of ``size`` bytes, like HTTP Range does."""
    start, end = check_range(byte_range)
    if start >= size:
        raise InvalidRange(f"byte range {byte_range!r} starts beyond the size {size}")
    return start, min(end, size - 1)
