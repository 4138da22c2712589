"""Aussonderung messages leave through the outbox to the archive's intake (issue 15).

Nothing leaves the system except through the outbox: the 0501 offer, the 0505 receipt of the
appraisal and the 0503 package are queued in the transaction that records each step and pushed,
HMAC-signed, to a real HTTP receiver on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
from receivers import WebhookReceiver
from records_support import appraised, archive_message, close_on, run_cli
from sqlalchemy import select

from eakte.config import Settings
from eakte.db import Database
from eakte.outbox.channels import FILE
from eakte.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage
from eakte.outbox.worker import Worker
from eakte.records import aussonderung
from eakte.records.xdomea import messages, schema
from support import TENANT_A, TENANT_B

PROBLEM = "urn:eakte:problem:"
XML = {"Content-Type": "application/xml"}
ROUTE = "/api/v1/records/archive-endpoint"
SECRET = "archiv-geheimnis-" + "x" * 32


def _export_base(settings: Settings) -> Path:
    return settings.records_export_dir or settings.data_dir / "aussonderung"


def _signed_correctly(received, secret: str) -> bool:  # type: ignore[no-untyped-def]
    headers = {k.lower(): v for k, v in received.headers.items()}
    mac = hmac.new(
        secret.encode(), headers["webhook-timestamp"].encode() + b"." + received.body, "sha256"
    )
    return headers["webhook-signature"] == "v1=" + mac.hexdigest()


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.session(write=False) as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == FILE)
                .order_by(OutboxMessage.created_at)
            )
        )


async def _offer(client: httpx.AsyncClient, auth, db, ended_case) -> dict:  # type: ignore[no-untyped-def]
    case = await ended_case()
    await close_on(db, case, datetime(2015, 5, 5, tzinfo=UTC))
    created = await client.post(
        "/api/v1/records/offers", json={"today": "2030-01-01"}, headers=auth("admin")
    )
    assert created.status_code == 201, created.text
    return {"case": case, "offer": created.json()}


async def test_endpoint_route_checks_roles_input_and_tenant(
    client: httpx.AsyncClient, auth, receiver: WebhookReceiver
) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(ROUTE)).status_code == 401
    assert (
        await client.put(ROUTE, json={"url": receiver.url}, headers=auth("clerk"))
    ).status_code == 403
    missing = await client.get(ROUTE, headers=auth("admin"))
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEM + "archive-endpoint-not-found"
    for bad in (
        {"url": "ftp://archiv.example/"},
        {"url": "kein url"},
        {"url": receiver.url, "secret": "kurz"},
        {},
    ):
        refused = await client.put(ROUTE, json=bad, headers=auth("admin"))
        assert refused.status_code == 422, bad
    made = await client.put(ROUTE, json={"url": receiver.url}, headers=auth("admin"))
    assert made.status_code == 200, made.text
    assert len(made.json()["secret"]) >= 32  # generated, shown once
    shown = await client.get(ROUTE, headers=auth("admin"))
    assert shown.json()["url"] == receiver.url and shown.json()["secret"] is None
    # another tenant neither sees nor removes it
    assert (await client.get(ROUTE, headers=auth("admin", tenant=TENANT_B))).status_code == 404
    assert (await client.delete(ROUTE, headers=auth("admin", tenant=TENANT_B))).status_code == 404
    assert (await client.delete(ROUTE, headers=auth("admin"))).status_code == 204
    assert (await client.get(ROUTE, headers=auth("admin"))).status_code == 404


async def test_offer_receipt_and_package_reach_the_archive_signed_once_each(
    client: httpx.AsyncClient, app, auth, db, settings, ended_case, receiver: WebhookReceiver
) -> None:  # type: ignore[no-untyped-def]
    made = await client.put(
        ROUTE, json={"url": receiver.url, "secret": SECRET}, headers=auth("admin")
    )
    assert made.status_code == 200
    started = await _offer(client, auth, db, ended_case)
    process_id = started["offer"]["process_id"]
    worker = Worker(db, settings)
    await worker.run_once()
    [offer] = receiver.wait_for(1)
    with zipfile.ZipFile(io.BytesIO(offer.body)) as zf:
        schema.parse_valid(
            zf.read(f"{process_id}_{messages.ANBIETEVERZEICHNIS}.xml"), messages.ANBIETEVERZEICHNIS
        )
    assert _signed_correctly(offer, SECRET)
    headers = {k.lower(): v for k, v in offer.headers.items()}
    digest = base64.b64encode(hashlib.sha256(offer.body).digest()).decode()
    assert headers["content-digest"] == f"sha-256=:{digest}:"
    assert headers["content-type"] == "application/zip"
    assert headers["x-eakte-event"] == "xdomea.0501"

    appraisal = archive_message("0502", process_id, appraised(started["case"]["id"], "A"))
    answered = await client.post(
        f"/api/v1/records/offers/{process_id}/messages",
        content=appraisal,
        headers=auth("admin") | XML,
    )
    assert answered.status_code == 200, answered.text
    await worker.run_once()
    receipt = receiver.wait_for(2)[1]
    schema.parse_valid(receipt.body, messages.BEWERTUNG_EMPFANG)
    assert _signed_correctly(receipt, SECRET)

    package = await aussonderung.handover(
        db,
        app.state.store,
        _export_base(settings),
        TENANT_A,
        uuid.UUID(process_id),
        actor="registratur",
    )
    await worker.run_once()
    handed = receiver.wait_for(3)[2]
    assert handed.body == package.path.read_bytes()
    assert hashlib.sha256(handed.body).hexdigest() == package.sha256
    with zipfile.ZipFile(io.BytesIO(handed.body)) as zf:
        assert "SHA256SUMS" in zf.namelist()
    await worker.run_once()
    assert len(receiver.requests) == 3  # nothing is sent twice
    rows = await _outbox(db)
    assert [r.event for r in rows] == ["xdomea.0501", "xdomea.0505", "xdomea.0503"]
    assert {r.status for r in rows} == {DELIVERED}
    assert len({r.idempotency_key for r in rows}) == 3
    assert all("secret" not in r.payload for r in rows)  # the secret never sits in a row


async def test_without_an_endpoint_nothing_is_queued(
    client: httpx.AsyncClient, auth, db, settings, ended_case
) -> None:  # type: ignore[no-untyped-def]
    started = await _offer(client, auth, db, ended_case)
    written = _export_base(settings) / TENANT_A
    name = f"{started['offer']['process_id']}_{messages.ANBIETEVERZEICHNIS}.zip"
    assert (written / name).is_file()  # handed over by other means, as before
    assert await _outbox(db) == []


async def test_archive_down_is_retried_a_refusal_and_a_changed_file_are_dead_letters(
    client: httpx.AsyncClient, auth, db, settings, ended_case, receiver: WebhookReceiver
) -> None:  # type: ignore[no-untyped-def]
    await client.put(ROUTE, json={"url": receiver.url, "secret": SECRET}, headers=auth("admin"))
    started = await _offer(client, auth, db, ended_case)
    worker = Worker(db, settings.model_copy(update={"outbox_backoff_seconds": 0}))
    receiver.status = 503
    await worker.run_once()
    [row] = await _outbox(db)
    assert row.status == PENDING and row.failures == 1 and "503" in (row.last_error or "")
    receiver.status = 200
    await worker.run_once()
    [row] = await _outbox(db)
    assert row.status == DELIVERED
    assert receiver.wait_for(2)[0].body == receiver.wait_for(2)[1].body  # the same bytes again
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1

    process_id = started["offer"]["process_id"]
    appraisal = archive_message("0502", process_id, appraised(started["case"]["id"], "A"))
    await client.post(
        f"/api/v1/records/offers/{process_id}/messages",
        content=appraisal,
        headers=auth("admin") | XML,
    )
    receiver.status = 400  # the archive refuses: retrying will not help
    await worker.run_once()
    receipt_row = (await _outbox(db))[-1]
    assert receipt_row.event == "xdomea.0505"
    assert receipt_row.status == DEAD and "400" in (receipt_row.last_error or "")
    listed = await client.get("/api/v1/outbox", headers=auth("admin"))
    assert str(receipt_row.id) in listed.text  # visible to operators

    receiver.status = 200
    Path(receipt_row.payload["path"]).write_bytes(b"<verfaelscht/>")
    requeued = await client.post(f"/api/v1/outbox/{receipt_row.id}/requeue", headers=auth("admin"))
    assert requeued.status_code == 200
    await worker.run_once()
    receipt_row = (await _outbox(db))[-1]
    assert receipt_row.status == DEAD and "not the bytes" in (receipt_row.last_error or "")
    assert len(receiver.requests) == 3  # the changed file was not sent


async def test_cli_sets_shows_and_removes_the_endpoint(db, cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")
    url = "https://archiv.augsburg.example/xdomea"
    made = run_cli(
        cli_env,
        "archive",
        "endpoint",
        "--tenant",
        TENANT_A,
        "--url",
        url,
        "--secret-file",
        str(secret),
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == url and SECRET not in made.stdout
    shown = run_cli(cli_env, "archive", "endpoint", "--tenant", TENANT_A)
    assert shown.stdout.strip() == url
    bad = run_cli(cli_env, "archive", "endpoint", "--tenant", TENANT_A, "--url", "ftp://x")
    assert bad.returncode == 1 and "http(s)" in bad.stderr
    unknown = run_cli(cli_env, "archive", "endpoint", "--tenant", "atlantis", "--url", url)
    assert unknown.returncode == 1 and "atlantis" in unknown.stderr
    gone = run_cli(cli_env, "archive", "endpoint", "--tenant", TENANT_A, "--remove")
    assert gone.returncode == 0 and gone.stdout.strip() == "entfernt"
    assert "kein Endpunkt" in run_cli(cli_env, "archive", "endpoint", "--tenant", TENANT_A).stdout
