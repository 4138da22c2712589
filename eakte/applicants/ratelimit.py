"""Throttle failed access-code attempts per client address and per file number."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import deque
from typing import Protocol

from redis.asyncio import Redis

from eakte.config import Settings


class FailureLimiter(Protocol):
    """Counts failures in a sliding window."""

    async def retry_after(self, keys: list[tuple[str, int]]) -> int | None:
        """Seconds to wait if any key (name, limit) reached its limit, else None."""

    async def fail(self, keys: list[str]) -> None:
        """Record one failure under every key."""


class MemoryLimiter:
    """In-process sliding window (one instance; the embedded default)."""

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self._events: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            self._events.pop(key, None)
        return events

    async def retry_after(self, keys: list[tuple[str, int]]) -> int | None:
        now = time.monotonic()
        async with self._lock:
            waits = []
            for key, limit in keys:
                events = self._prune(key, now)
                if len(events) >= limit:
                    waits.append(events[len(events) - limit] + self.window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    async def fail(self, keys: list[str]) -> None:
        now = time.monotonic()
        async with self._lock:
            for key in keys:
                self._prune(key, now)
                self._events.setdefault(key, deque()).append(now)


class RedisLimiter:
    """Sliding window in Redis sorted sets, shared by every service instance."""

    def __init__(self, redis: Redis, window_seconds: float, prefix: str = "eakte:fail:") -> None:
        self.redis = redis
        self.window = window_seconds
        self.prefix = prefix

    async def retry_after(self, keys: list[tuple[str, int]]) -> int | None:
        now = time.time()
        waits = []
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, limit in keys:
                pipe.zremrangebyscore(self.prefix + key, 0, now - self.window)
                pipe.zrange(self.prefix + key, -limit, -limit, withscores=True)
            results = await pipe.execute()
        for (_, _limit), oldest in zip(keys, results[1::2], strict=True):
            if oldest:
                waits.append(oldest[0][1] + self.window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    async def fail(self, keys: list[str]) -> None:
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zadd(self.prefix + key, {f"{now}:{uuid.uuid4().hex[:8]}": now})
                pipe.expire(self.prefix + key, int(self.window) + 1)
            await pipe.execute()


def build_limiter(settings: Settings) -> FailureLimiter:
    """Redis-backed when `EAKTE_REDIS_URL` is set (shared by instances), else in-process."""
    window = settings.access_failure_window_seconds
    if settings.redis_url:
        return RedisLimiter(Redis.from_url(settings.redis_url), window)
    return MemoryLimiter(window)
