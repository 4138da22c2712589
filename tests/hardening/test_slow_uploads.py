"""Slow clients (issue 18): uploads that trickle or stall must not hold the service.

Uploads are held open by the test (an event gates the rest of each body), never timed: while
they are held, the limits per user and per address answer 429, a full upload pool answers 503
and `/readyz` says so, and JSON routes, downloads, the web app and other tenants still answer.
A stalled or trickling upload is cut off with 408 and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI

from eakte.app import create_app
from eakte.config import Settings
from support import TENANT_A, TENANT_B, TINY_PDF, case_payload

BOUNDARY = "slowclientboundary"
PROBLEM = "urn:eakte:problem:"


def _head(title: str = "Plan") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlageplan\r\n'
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        'name="file"; filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
PDF_HEAD = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%" + b"p" * (70 * 1024) + b"\n"
PDF_END = b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


class HeldUpload:
    """A multipart body that sends 70 KiB of file, then waits for `release` to finish."""

    def __init__(self, release: asyncio.Event) -> None:
        self.release = release
        self.reached = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield _head()
        yield PDF_HEAD
        self.reached.set()  # the server asked for more: it has read the first 70 KiB
        await self.release.wait()
        yield PDF_END + TAIL


class Trickle:
    """Sends the first 70 KiB, then one byte at a time with pauses between."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield _head()
        yield PDF_HEAD
        for _ in range(100_000):
            await asyncio.sleep(0.01)
            yield b"%"


@asynccontextmanager
async def _from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 7000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=60
    ) as client:
        yield client


async def _app(settings: Settings, **limits: object) -> FastAPI:
    return create_app(settings.model_copy(update=limits))


def _multipart(content: object, headers: dict[str, str]) -> dict[str, object]:
    return {
        "content": content,
        "headers": {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **headers},
    }


async def test_held_uploads_are_bounded_and_the_rest_stays_responsive(
    settings: Settings, db: object, auth: Callable[..., dict[str, str]]
) -> None:
    app = await _app(settings, upload_workers=3, uploads_per_principal=2, uploads_per_address=3)
    anna, bernd = auth("clerk", sub="anna@augsburg"), auth("clerk", sub="bernd@augsburg")
    munich = auth("clerk", tenant=TENANT_B, sub="carla@muenchen")
    release = asyncio.Event()
    async with AsyncExitStack() as stack:
        home = await stack.enter_async_context(_from(app, "198.51.100.10"))
        office = await stack.enter_async_context(_from(app, "192.0.2.20"))
        case = (await home.post("/api/v1/cases", json=case_payload(), headers=anna)).json()
        documents = f"/api/v1/cases/{case['id']}/documents"
        small = {"files": {"file": ("p.pdf", TINY_PDF, "application/pdf")}}
        small["data"] = {"title": "Klein", "kind": "lageplan"}
        existing = await office.post(documents, headers=auth("clerk", sub="erik@augsburg"), **small)  # type: ignore[arg-type]
        assert existing.status_code == 201, existing.text
        content_url = f"{documents}/{existing.json()['id']}/versions/1/content"
        other_case = await office.post("/api/v1/cases", json=case_payload(), headers=munich)
        assert other_case.status_code == 201

        bodies = [HeldUpload(release) for _ in range(3)]
        who = [anna, anna, bernd]
        held = [
            asyncio.ensure_future(home.post(documents, **_multipart(b, h)))
            for h, b in zip(who, bodies, strict=True)
        ]
        try:
            for body in bodies:
                await asyncio.wait_for(body.reached.wait(), timeout=30)

            # per user: Anna already holds two
            third = await home.post(documents, headers=anna, **small)  # type: ignore[arg-type]
            assert third.status_code == 429, third.text
            assert third.json()["type"] == PROBLEM + "too-many-uploads"
            # per address: three from this address are running
            fourth = await home.post(
                documents,
                headers=auth("clerk", sub="dora@augsburg"),
                **small,  # type: ignore[arg-type]
            )
            assert fourth.status_code == 429
            # the pool (3 workers) is full: another address gets 503, and /readyz says so
            elsewhere = await office.post(
                documents, headers=auth("clerk", sub="erik@augsburg"), **small
            )  # type: ignore[arg-type]
            assert elsewhere.status_code == 503
            assert elsewhere.json()["type"] == PROBLEM + "upload-capacity-exhausted"
            assert "retry-after" in elsewhere.headers
            ready = await office.get("/readyz")
            assert ready.status_code == 503 and "upload" in ready.json()["detail"]

            # everything else answers while the uploads are held
            listing = await office.get("/api/v1/cases", headers=anna)
            assert listing.status_code == 200
            download = await office.get(content_url, headers=anna)
            assert download.status_code == 200 and download.content == TINY_PDF
            assert (await office.get("/app/")).status_code == 200
            theirs = await office.get(f"/api/v1/cases/{other_case.json()['id']}", headers=munich)
            assert theirs.status_code == 200
            assert all(not task.done() for task in held)
        finally:
            release.set()
        results = await asyncio.gather(*held)
        assert [r.status_code for r in results] == [201, 201, 201], [r.text for r in results]
        assert (await office.get("/readyz")).status_code == 200
        after = await office.post(documents, headers=anna, **small)  # type: ignore[arg-type]
        assert after.status_code == 201
    await app.state.db.dispose()


async def _no_documents(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
    listing = await client.get(url, headers=headers)
    assert listing.status_code == 200 and listing.json()["items"] == []


async def test_a_stalled_upload_is_cut_off_with_408(
    settings: Settings, db: object, auth: Callable[..., dict[str, str]]
) -> None:
    app = await _app(settings, upload_idle_timeout_seconds=0.5, uploads_per_principal=1)
    clerk = auth("clerk", sub="anna@augsburg")
    release = asyncio.Event()
    async with _from(app, "198.51.100.10") as client:
        case = (await client.post("/api/v1/cases", json=case_payload(), headers=clerk)).json()
        documents = f"/api/v1/cases/{case['id']}/documents"
        try:
            stalled = await client.post(documents, **_multipart(HeldUpload(release), clerk))
        finally:
            release.set()
        assert stalled.status_code == 408, stalled.text
        assert stalled.json()["type"] == PROBLEM + "upload-too-slow"
        await _no_documents(client, documents, clerk)
        # the slot was given back: the same user may upload again
        ok = await client.post(
            documents,
            headers=clerk,
            files={"file": ("p.pdf", TINY_PDF, "application/pdf")},
            data={"title": "Plan", "kind": "lageplan"},
        )
        assert ok.status_code == 201
    await app.state.db.dispose()


async def test_a_trickling_upload_is_cut_off_with_408(
    settings: Settings, db: object, auth: Callable[..., dict[str, str]]
) -> None:
    # any machine sends one byte per 10 ms far below 1 MB/s
    app = await _app(
        settings, upload_min_bytes_per_second=1024 * 1024, upload_rate_grace_seconds=0.2
    )
    clerk = auth("clerk", tenant=TENANT_A)
    async with _from(app, "198.51.100.10") as client:
        case = (await client.post("/api/v1/cases", json=case_payload(), headers=clerk)).json()
        documents = f"/api/v1/cases/{case['id']}/documents"
        response = await client.post(documents, **_multipart(Trickle(), clerk))
        assert response.status_code == 408, response.text
        await _no_documents(client, documents, clerk)
    await app.state.db.dispose()
