"""Quotas (issue 18): applications per address and hour, uploaded files per application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from eakte.app import create_app
from eakte.config import Settings
from support import TENANT_A, TENANT_B, TINY_PDF

APPS = f"/api/v1/authorities/{TENANT_A}/applications"
APPLICATION = {
    "procedure": "baybo-59",
    "site": {
        "address": "Hauptstraße 5, 86150 Augsburg",
        "gemarkung": "Augsburg",
        "flurstueck": "1",
    },
    "description": "Neubau eines Einfamilienhauses",
    "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
    "designer": {"name": "Architekturbüro Beispiel", "email": "buero@example.org"},
    "housing": True,
}


@asynccontextmanager
async def _from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 9000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_applications_per_address_and_hour_are_capped(
    settings: Settings, db: object, auth: Callable[..., dict[str, str]]
) -> None:
    app = create_app(settings.model_copy(update={"submissions_per_address_per_hour": 3}))
    maria = auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)
    async with _from(app, "203.0.113.5") as spammer, _from(app, "198.51.100.5") as neighbour:
        statuses = [
            (await spammer.post(APPS, json=APPLICATION, headers=maria)).status_code
            for _ in range(5)
        ]
        assert statuses == [201, 201, 201, 429, 429]
        blocked = await spammer.post(APPS, json=APPLICATION, headers=maria)
        assert blocked.json()["type"] == "urn:eakte:problem:quota-exceeded"
        assert int(blocked.headers["retry-after"]) > 0
        assert (await neighbour.post(APPS, json=APPLICATION, headers=maria)).status_code == 201
        mine = await neighbour.get("/api/v1/applications", headers=maria)
        assert mine.status_code == 200 and len(mine.json()["items"]) == 4
    await app.state.db.dispose()


async def test_uploaded_files_per_application_are_capped(
    settings: Settings, db: object, auth: Callable[..., dict[str, str]]
) -> None:
    app = create_app(settings.model_copy(update={"uploads_per_application": 2}))
    maria = auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)
    async with _from(app, "198.51.100.5") as client:
        receipt = (await client.post(APPS, json=APPLICATION, headers=maria)).json()
        url = receipt["status_url"] + "/documents"
        statuses = []
        for i in range(3):
            response = await client.post(
                url,
                files={"file": (f"plan{i}.pdf", TINY_PDF, "application/pdf")},
                data={"title": f"Plan {i}", "kind": "lageplan"},
                headers=maria,
            )
            statuses.append(response.status_code)
        assert statuses == [201, 201, 429], response.text
        assert response.json()["type"] == "urn:eakte:problem:quota-exceeded"
        status = await client.get(receipt["status_url"], headers=maria)
        assert status.status_code == 200
    await app.state.db.dispose()
