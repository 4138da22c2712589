"""Helpers for records tests: a case whose procedure has ended (withdrawn, Art. 22 BayVwVfG)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from receivers import WebhookReceiver


@pytest.fixture
def ended_case(client: httpx.AsyncClient, auth, new_case):  # type: ignore[no-untyped-def]
    """Create a case and withdraw its application: its procedure is in a final state."""

    async def _make(tenant: str = "augsburg", **overrides: object) -> dict[str, object]:
        case = await new_case(tenant=tenant, **overrides)
        response = await client.post(
            f"/api/v1/cases/{case['id']}/process/actions",
            json={
                "action": "ruecknahme_erklaeren",
                "expected_state": "eingegangen",
                "input": {"erklaert_am": "2026-11-02"},
            },
            headers=auth("clerk", tenant=tenant),
        )
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "zurueckgenommen"
        return case

    return _make


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """The archive's intake: a real HTTP server on loopback recording what arrives."""
    with WebhookReceiver() as r:
        yield r
