"""Helpers for search tests: upload a document and run the extraction worker to the end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from eakte.search import worker
from support import TENANT_A


@pytest.fixture
def add_document(client: httpx.AsyncClient, auth):  # type: ignore[no-untyped-def]
    """POST a document: await add_document(case, content, filename=..., title=...) -> JSON."""

    async def _add(
        case: dict[str, object],
        content: bytes,
        *,
        filename: str = "konzept.pdf",
        title: str = "Brandschutzkonzept",
        kind: str = "sonstiges",
        tenant: str = TENANT_A,
        document_id: str | None = None,
    ) -> dict[str, object]:
        url = f"/api/v1/cases/{case['id']}/documents"
        data = {"title": title, "kind": kind}
        if document_id is not None:
            url += f"/{document_id}/versions"
            data = {}
        response = await client.post(
            url,
            data=data,
            files={"file": (filename, content, "application/octet-stream")},
            headers=auth("clerk", tenant=tenant),
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return _add


@pytest.fixture
def index_all(app, db, settings) -> Callable[[], Awaitable[int]]:  # type: ignore[no-untyped-def]
    """Run the extraction worker until the queue is empty; returns the number of jobs."""

    async def _run() -> int:
        return await worker.drain(db, app.state.store, settings)

    return _run
