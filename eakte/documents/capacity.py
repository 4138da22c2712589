"""Admission of uploads (issue 18): per principal, per address, and a pool of their own.

An upload holds a worker thread (the store's `put` pulls the body through a pipe) for as
long as the client takes to send it. Uploads therefore run on a bounded pool of their own
(`limiter`), never on the thread pool that downloads and everything else use, and are
admitted only while that pool has room and the principal and the client address are under
their limits: a slow client can hold at most its own few uploads, never the service.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import anyio

from eakte.errors import DomainError, ServiceUnavailable


class TooManyUploads(DomainError):
    slug, title, status = "too-many-uploads", "Too many uploads at the same time", 429


class UploadCapacityExhausted(ServiceUnavailable):
    slug, title = "upload-capacity-exhausted", "All upload workers are busy"


class UploadCapacity:
    """Counts running uploads; see the module docstring."""

    def __init__(self, *, workers: int, per_principal: int, per_address: int) -> None:
        self.workers = workers
        self.per_principal = per_principal
        self.per_address = per_address
        self.limiter = anyio.CapacityLimiter(workers)
        self.running = 0
        self._principals: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()

    @property
    def saturated(self) -> bool:
        """No upload could be admitted now."""
        return self.running >= self.workers

    @contextmanager
    def admit(self, principal: str, address: str) -> Iterator[None]:
        """Hold one upload slot for the duration, or raise 429/503 at once (never queue)."""
        if self._principals[principal] >= self.per_principal:
            raise _retry(TooManyUploads(f"at most {self.per_principal} uploads at once per user"))
        if self._addresses[address] >= self.per_address:
            raise _retry(TooManyUploads(f"at most {self.per_address} uploads at once per address"))
        if self.saturated:
            raise _retry(UploadCapacityExhausted("all upload workers are busy; retry shortly"))
        self.running += 1
        self._principals[principal] += 1
        self._addresses[address] += 1
        try:
            yield
        finally:
            self.running -= 1
            for counter, key in ((self._principals, principal), (self._addresses, address)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]


def _retry(error: DomainError, seconds: int = 5) -> DomainError:
    error.headers["Retry-After"] = str(seconds)
    return error
