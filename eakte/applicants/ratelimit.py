"""Throttle access-code attempts: atomic check-and-count over several sliding windows.

`attempt` checks every key against its limit and, in the same atomic step, counts the
attempt under all of them; concurrent requests therefore cannot all pass a check that only
one of them should (100 parallel wrong codes against a limit of 10 get 10 evaluations). A
successful attempt is taken back with `succeeded`, so only failures use up a budget.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import deque
from typing import Protocol

from redis.asyncio import Redis

from eakte.config import Settings


class Throttled(Exception):  # noqa: N818
    """A key reached its limit; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


class FailureLimiter(Protocol):
    """Counts attempts in a sliding window, atomically with the check."""

    async def attempt(self, keys: list[tuple[str, int]]) -> str:
        """Count one attempt under every key (name, limit) or raise Throttled; returns its id."""

    async def succeeded(self, keys: list[str], attempt_id: str) -> None:
        """Take a counted attempt back (it was not a failure)."""


def _wait(oldest: float, window: float, now: float) -> int:
    return max(1, math.ceil(oldest + window - now))


class MemoryLimiter:
    """In-process sliding window (one instance; the embedded default)."""

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self._events: dict[str, deque[tuple[float, str]]] = {}
        self._lock = asyncio.Lock()
        self._since_sweep = 0

    def _sweep(self, now: float) -> None:
        """Forget keys whose newest attempt left the window (bounded memory)."""
        self._since_sweep += 1
        if self._since_sweep < 1024:
            return
        self._since_sweep = 0
        for key in [k for k, e in self._events.items() if not e or e[-1][0] <= now - self.window]:
            del self._events[key]

    def _prune(self, key: str, now: float) -> deque[tuple[float, str]]:
        events = self._events.setdefault(key, deque())
        while events and events[0][0] <= now - self.window:
            events.popleft()
        return events

    async def attempt(self, keys: list[tuple[str, int]]) -> str:
        now = time.monotonic()
        attempt_id = uuid.uuid4().hex
        async with self._lock:  # no await inside: check and count are one step
            self._sweep(now)
            waits = []
            for key, limit in keys:
                events = self._prune(key, now)
                if len(events) >= limit:
                    waits.append(_wait(events[len(events) - limit][0], self.window, now))
            if waits:
                raise Throttled(max(waits))
            for key, _ in keys:
                self._events[key].append((now, attempt_id))
        return attempt_id

    async def succeeded(self, keys: list[str], attempt_id: str) -> None:
        async with self._lock:
            for key in keys:
                events = self._events.get(key)
                if events is None:
                    continue
                kept = deque(e for e in events if e[1] != attempt_id)
                if kept:
                    self._events[key] = kept
                else:
                    del self._events[key]


# KEYS: the sorted sets; ARGV: now, window, member, limit per key. Returns 0 when counted,
# else the seconds to wait. One script, so Redis runs check and count without interleaving.
_ATTEMPT = """
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
  local limit = tonumber(ARGV[3 + i])
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, -limit, -limit, 'WITHSCORES')
    local w = math.ceil(tonumber(oldest[2]) + window - now)
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(window) + 1)
end
return 0
"""


class RedisLimiter:
    """Sliding windows in Redis sorted sets, shared by every service instance."""

    def __init__(self, redis: Redis, window_seconds: float, prefix: str = "eakte:fail:") -> None:
        self.redis = redis
        self.window = window_seconds
        self.prefix = prefix
        self._script = redis.register_script(_ATTEMPT)

    async def attempt(self, keys: list[tuple[str, int]]) -> str:
        attempt_id = uuid.uuid4().hex
        wait = await self._script(
            keys=[self.prefix + key for key, _ in keys],
            args=[time.time(), self.window, attempt_id, *[limit for _, limit in keys]],
        )
        if int(wait) > 0:
            raise Throttled(int(wait))
        return attempt_id

    async def succeeded(self, keys: list[str], attempt_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zrem(self.prefix + key, attempt_id)
            await pipe.execute()


def build_limiter(settings: Settings, window_seconds: float | None = None) -> FailureLimiter:
    """Redis-backed when `EAKTE_REDIS_URL` is set (shared by instances), else in-process."""
    window = window_seconds or settings.access_failure_window_seconds
    if settings.redis_url:
        prefix = "eakte:fail:" if window_seconds is None else f"eakte:quota:{int(window)}:"
        return RedisLimiter(Redis.from_url(settings.redis_url), window, prefix)
    return MemoryLimiter(window)
