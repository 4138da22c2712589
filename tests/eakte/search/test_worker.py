"""The extraction worker: claims, leases, and its place in the app's lifespan (issue 15)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select

from eakte.search import queue
from eakte.search.models import DONE, RUNNING, DocumentText
from support import text_pdf


async def test_concurrent_claims_take_disjoint_jobs(db, new_case, add_document) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    for n in range(4):
        await add_document(case, text_pdf(f"Text {n}"), title=f"Dokument {n}")
    first, second = await asyncio.gather(
        queue.claim(db, limit=2, lease=timedelta(minutes=5)),
        queue.claim(db, limit=2, lease=timedelta(minutes=5)),
    )
    ids = [j.text_id for j in first + second]
    assert len(ids) == len(set(ids)) == 4
    assert await queue.claim(db, limit=2, lease=timedelta(minutes=5)) == []


async def test_a_job_of_a_killed_worker_is_claimed_again_after_its_lease(
    db, new_case, add_document
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    await add_document(case, text_pdf("Verwaist"))
    [job] = await queue.claim(db, limit=5, lease=timedelta(minutes=5))
    # the worker dies here (no finish); within the lease nobody else takes it
    assert await queue.claim(db, limit=5, lease=timedelta(minutes=5)) == []
    [again] = await queue.claim(db, limit=5, lease=timedelta(0))
    assert again.text_id == job.text_id
    async with db.session(write=False) as session:
        row = await session.scalar(select(DocumentText).where(DocumentText.id == job.text_id))
        assert row is not None and row.status == RUNNING and row.attempts == 2


async def test_the_app_lifespan_runs_the_worker_and_stops_it(
    app, client: httpx.AsyncClient, auth, db, new_case, add_document
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    await add_document(case, text_pdf("Lebenszyklus"))
    async with app.router.lifespan_context(app):  # what `eakte serve` runs at start and stop
        for _ in range(600):  # count rounds, not seconds: the worker finishes the one job
            async with db.session(write=False) as session:
                status = await session.scalar(select(DocumentText.status))
            if status == DONE:
                break
            await asyncio.sleep(0.05)
    assert status == DONE
    hits = await client.get("/api/v1/search", params={"q": "Lebenszyklus"}, headers=auth("clerk"))
    assert len(hits.json()["items"]) == 1
