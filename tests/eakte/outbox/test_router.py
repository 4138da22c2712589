"""Operator and webhook routes: roles, bad input, other tenants' ids."""

from __future__ import annotations

import uuid

from eakte.db import Database
from eakte.outbox import service
from eakte.outbox.models import DEAD, OutboxMessage
from support import TENANT_A, TENANT_B


async def test_roles(client, auth) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/outbox")).status_code == 401
    response = await client.get("/api/v1/outbox", headers=auth("clerk"))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:eakte:problem:forbidden"
    hooks = await client.get("/api/v1/outbox/webhooks", headers=auth("auditor"))
    assert hooks.status_code == 403


async def test_bad_webhook_urls_are_refused(client, auth) -> None:  # type: ignore[no-untyped-def]
    for url in ["not a url", "ftp://example.org/x", "", 5]:
        response = await client.post(
            "/api/v1/outbox/webhooks", json={"url": url}, headers=auth("admin")
        )
        assert response.status_code == 422, url
        assert response.json()["type"] == "urn:eakte:problem:validation-failed"
    response = await client.post(
        "/api/v1/outbox/webhooks",
        content=b"{",
        headers={**auth("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_other_tenants_ids_are_404(client, auth, db: Database) -> None:  # type: ignore[no-untyped-def]
    created = await client.post(
        "/api/v1/outbox/webhooks",
        json={"url": "https://portal.example/hook"},
        headers=auth("admin"),
    )
    endpoint_id = created.json()["id"]
    gone = await client.delete(
        f"/api/v1/outbox/webhooks/{endpoint_id}", headers=auth("admin", tenant=TENANT_B)
    )
    assert gone.status_code == 404
    assert gone.json()["type"] == "urn:eakte:problem:webhook-not-found"
    listed = await client.get("/api/v1/outbox/webhooks", headers=auth("admin", tenant=TENANT_B))
    assert listed.json() == []
    async with db.session() as session:
        message = await service.enqueue_email(
            session, tenant=TENANT_A, event="e", to="a@example.org", subject="s", body="b"
        )
        row = await session.get(OutboxMessage, message.id)
        assert row is not None
        row.status = DEAD
    foreign = await client.post(
        f"/api/v1/outbox/{message.id}/requeue", headers=auth("admin", tenant=TENANT_B)
    )
    assert foreign.status_code == 404
    assert foreign.json()["type"] == "urn:eakte:problem:outbox-message-not-found"
    unknown = await client.post(f"/api/v1/outbox/{uuid.uuid4()}/requeue", headers=auth("admin"))
    assert unknown.status_code == 404
    own = await client.post(f"/api/v1/outbox/{message.id}/requeue", headers=auth("admin"))
    assert own.status_code == 200 and own.json()["status"] == "pending"
    again = await client.post(f"/api/v1/outbox/{message.id}/requeue", headers=auth("admin"))
    assert again.status_code == 409
    deleted = await client.delete(f"/api/v1/outbox/webhooks/{endpoint_id}", headers=auth("admin"))
    assert deleted.status_code == 204
    bad_id = await client.post("/api/v1/outbox/not-a-uuid/requeue", headers=auth("admin"))
    assert bad_id.status_code == 422
