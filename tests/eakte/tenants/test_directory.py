"""The tenant directory that every token check consults (issue 17: connection storms)."""

from __future__ import annotations

import asyncio

from support import TENANT_A


async def test_callers_that_find_the_cache_stale_together_load_it_once(app) -> None:  # type: ignore[no-untyped-def]
    """Twenty co-editing clients connecting at the same moment each reloaded the tenant list
    from the database; now one loads and the others use its result."""
    directory = app.state.tenants
    loads = 0
    load = directory._load

    async def counted() -> None:
        nonlocal loads
        loads += 1
        await load()

    directory._load = counted
    directory.forget()
    found = await asyncio.gather(*(directory.contains(TENANT_A) for _ in range(20)))
    assert found == [True] * 20
    assert loads == 1
    assert not await directory.contains("no-such-city")  # a miss still reloads (and is a miss)
    assert loads == 2
