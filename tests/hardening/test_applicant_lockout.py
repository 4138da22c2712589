"""Applicant access codes (issue 18): a stranger's wrong codes must not lock out the owner,
check-and-count is atomic (in-process and Redis), and X-Forwarded-For is trusted only from
configured proxies."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from eakte.applicants.ratelimit import MemoryLimiter, RedisLimiter, Throttled
from support import TENANT_A, TENANT_B, TINY_PDF

APPS = "/api/v1/authorities/{tenant}/applications"
REDIS_URL = os.environ.get("EAKTE_TEST_REDIS_URL")
APPLICATION = {
    "procedure": "baybo-59",
    "site": {
        "address": "Hauptstraße 5, 86150 Augsburg",
        "gemarkung": "Augsburg",
        "flurstueck": "1234/5",
    },
    "description": "Neubau eines Einfamilienhauses",
    "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
    "designer": {"name": "Architekturbüro Beispiel", "email": "buero@example.org"},
    "housing": True,
}


@asynccontextmanager
async def from_address(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address`."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _submit(client: httpx.AsyncClient, owner: dict[str, str]) -> dict[str, str]:
    response = await client.post(APPS.format(tenant=TENANT_A), json=APPLICATION, headers=owner)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_strangers_wrong_codes_do_not_lock_out_the_owner(
    app: FastAPI, auth: Callable[..., dict[str, str]]
) -> None:
    owner = auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)
    async with (
        from_address(app, "198.51.100.1") as home,
        from_address(app, "203.0.113.66") as stranger,
        from_address(app, "192.0.2.44") as phone,
    ):
        receipt = await _submit(home, owner)
        url = receipt["status_url"]
        for i in range(25):  # well past the per-file-number limit of 10
            wrong = await stranger.get(url, headers={"X-Access-Code": f"WRONG-{i:04d}"})
            assert wrong.status_code in {404, 429}
        assert wrong.status_code == 429  # the stranger is stopped ...
        # ... the owner is not: the token, uploads, and the right code from another device
        assert (await home.get(url, headers=owner)).status_code == 200
        upload = await home.post(
            url + "/documents",
            files={"file": ("lageplan.pdf", TINY_PDF, "application/pdf")},
            data={"title": "Lageplan", "kind": "lageplan"},
            headers=owner,
        )
        assert upload.status_code == 201, upload.text
        by_code = await phone.get(url, headers={"X-Access-Code": receipt["access_code"]})
        assert by_code.status_code == 200


async def test_concurrent_wrong_codes_are_counted_atomically(
    app: FastAPI, auth: Callable[..., dict[str, str]]
) -> None:
    owner = auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)
    async with from_address(app, "203.0.113.9") as stranger:
        receipt = await _submit(stranger, owner)
        answers = await asyncio.gather(
            *[
                stranger.get(receipt["status_url"], headers={"X-Access-Code": f"BAD-{i:04d}"})
                for i in range(100)
            ]
        )
    statuses = [a.status_code for a in answers]
    assert statuses.count(404) == 10  # evaluated: exactly the limit
    assert statuses.count(429) == 90


async def _race(limiter: MemoryLimiter | RedisLimiter, key: str) -> tuple[int, int]:
    async def one() -> bool:
        try:
            await limiter.attempt([(key, 10)])
        except Throttled:
            return False
        return True

    results = await asyncio.gather(*[one() for _ in range(100)])
    return results.count(True), results.count(False)


async def test_memory_limiter_check_and_count_is_atomic() -> None:
    assert await _race(MemoryLimiter(60), "k") == (10, 90)


@pytest.mark.skipif(not REDIS_URL, reason="needs EAKTE_TEST_REDIS_URL")
async def test_redis_limiter_check_and_count_is_atomic() -> None:
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    try:
        key = f"test-{uuid.uuid4().hex}"
        limiter = RedisLimiter(redis, 60)
        assert await _race(limiter, key) == (10, 90)
        # two service instances share the budget
        other = RedisLimiter(Redis.from_url(REDIS_URL), 60)
        with pytest.raises(Throttled):
            await other.attempt([(key, 10)])
        await other.redis.aclose()
        # a success is taken back: it does not use up the budget
        fresh = f"test-{uuid.uuid4().hex}"
        for _ in range(20):
            attempt = await limiter.attempt([(fresh, 10)])
            await limiter.succeeded([fresh], attempt)
    finally:
        await redis.aclose()


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    serve: Callable[..., str],
) -> None:
    def guesses(base: str) -> list[int]:
        statuses = []
        for i in range(6):
            response = httpx.get(
                f"{base}{APPS.format(tenant=TENANT_A)}/BA-2026-{i:05d}",
                headers={"X-Access-Code": "NOPE", "X-Forwarded-For": f"10.9.{i}.1"},
            )
            statuses.append(response.status_code)
        return statuses

    limits = {"EAKTE_ACCESS_FAILURES_PER_ADDRESS": "3"}
    # the client rotates X-Forwarded-For; it is not a proxy, so its own address counts
    assert guesses(serve(**limits)) == [404, 404, 404, 429, 429, 429]
    # behind a configured proxy the forwarded address is the client's
    trusted = serve(**limits, EAKTE_TRUSTED_PROXIES="127.0.0.1")
    assert guesses(trusted) == [404] * 6
