"""A bounded byte pipe from the event loop to one worker thread that calls `read(n)`."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

PIPE_BYTES = 1024 * 1024


class ReaderGone(Exception):  # noqa: N818
    """The reading thread stopped (it failed or finished); writing is pointless."""


class WriterFailed(Exception):  # noqa: N818
    """The writing side gave up (bad body, client gone); the reader must abort."""


class BytePipe:
    """At most `limit` bytes in flight; `write` waits (asynchronously) while the reader lags.

    The reader is a synchronous `read(n)` (the `Readable` an `ObjectStore.put` pulls from),
    run in a worker thread. `close()` signals the end of the body, `fail()` an aborted one.
    """

    def __init__(self, limit: int = PIPE_BYTES) -> None:
        self._loop = asyncio.get_running_loop()
        self._cond = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._limit = limit
        self._eof = False
        self._failed = False
        self._reader_gone = False
        self._writer_waiting = False
        self._space = asyncio.Event()

    async def write(self, data: bytes) -> None:
        """Queue `data` for the reader, waiting while the buffer is full."""
        if not data:
            return
        while True:
            with self._cond:
                if self._reader_gone:
                    raise ReaderGone
                if self._buffered < self._limit:
                    self._chunks.append(data)
                    self._buffered += len(data)
                    self._cond.notify()
                    return
                self._space.clear()
                self._writer_waiting = True
            await self._space.wait()

    def close(self) -> None:
        """The body is complete: the reader gets b"" once the buffer is drained."""
        with self._cond:
            self._eof = True
            self._cond.notify()

    def fail(self) -> None:
        """Abort: the reader's next `read` raises `WriterFailed`."""
        with self._cond:
            self._failed = True
            self._chunks.clear()
            self._buffered = 0
            self._cond.notify()

    def reader_done(self) -> None:
        """Called by the reading thread when it stops; wakes a waiting writer."""
        with self._cond:
            self._reader_gone = True
        self._wake_writer()

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes (at least one unless the body ended); blocks the calling thread."""
        with self._cond:
            while not self._chunks and not self._eof and not self._failed:
                self._cond.wait()
            if self._failed:
                raise WriterFailed("the upload was aborted")
            if not self._chunks:
                return b""
            parts: list[bytes] = []
            got = 0
            while self._chunks and (size < 0 or got < size):
                chunk = self._chunks.popleft()
                if size >= 0 and got + len(chunk) > size:
                    keep = size - got
                    self._chunks.appendleft(chunk[keep:])
                    chunk = chunk[:keep]
                parts.append(chunk)
                got += len(chunk)
            self._buffered -= got
            wake = self._writer_waiting
            self._writer_waiting = False
        if wake:
            self._wake_writer()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _wake_writer(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._space.set)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass
