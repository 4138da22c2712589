"""The whole Aussonderung cycle with the archive's messages (xdomea 3.0.0, issue 15)."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree
from records_support import appraised, archive_message, close_on, imported, run_cli
from sqlalchemy import select

from eakte.audit.service import verify_tenant
from eakte.documents.fsck import check
from eakte.documents.models import VERSION_DESTROYED, DocumentVersion
from eakte.records import aussonderung, service
from eakte.records.errors import AussonderungConflict, InvalidMessage, OfferNotFound
from eakte.records.models import CaseRecord
from eakte.records.xdomea import messages, schema
from eakte.search import worker
from support import TENANT_A, TENANT_B, text_pdf

PDF = "application/pdf"
NS = {"x": schema.NS}
TODAY = date(2030, 1, 15)


async def _upload(
    client, auth, case, content, *, title="Lageplan", document_id=None, tenant=TENANT_A
):  # type: ignore[no-untyped-def]
    url = f"/api/v1/cases/{case['id']}/documents"
    data = {"title": title, "kind": "lageplan"}
    if document_id:
        url, data = f"{url}/{document_id}/versions", {}
    response = await client.post(
        url,
        data=data,
        files={"file": ("plan.pdf", content, PDF)},
        headers=auth("clerk", tenant=tenant),
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def files(client: httpx.AsyncClient, auth, db, ended_case):  # type: ignore[no-untyped-def]
    """Five closed cases: two due, one on hold, one too young, one of another tenant."""
    keep = await ended_case(title="Neubau Stadtbibliothek")
    drop = await ended_case(title="Gartenhaus")
    held = await ended_case(title="Streitfall Garage")
    young = await ended_case(title="Neubau 2029")
    foreign = await ended_case(tenant=TENANT_B, title="Fremde Akte")
    doc = await _upload(client, auth, keep, text_pdf("Tragwerksplanung Bibliothek"))
    await _upload(
        client, auth, keep, text_pdf("Tragwerksplanung Bibliothek, Tektur"), document_id=doc["id"]
    )
    withdrawn = await _upload(
        client, auth, keep, text_pdf("Irrläufer Nachbarakte"), title="Irrläufer"
    )
    response = await client.post(
        f"/api/v1/cases/{keep['id']}/documents/{withdrawn['id']}/withdrawal",
        json={"reason": "gehört zu einer anderen Akte"},
        headers=auth("clerk"),
    )
    assert response.status_code == 204
    await _upload(client, auth, drop, text_pdf("Gartenhaus Ansicht"))
    await _upload(client, auth, foreign, text_pdf("Fremde Ansicht"), tenant=TENANT_B)
    for case in (keep, drop, held):
        await close_on(db, case, datetime(2015, 3, 2, tzinfo=UTC))
    await close_on(db, young, datetime(2025, 1, 10, tzinfo=UTC))
    await close_on(db, foreign, datetime(2015, 3, 2, tzinfo=UTC), tenant=TENANT_B)
    hold = await client.post(
        f"/api/v1/cases/{held['id']}/record/legal-hold",
        json={"reason": "Nachbarklage anhängig"},
        headers=auth("admin"),
    )
    assert hold.status_code == 200
    return {
        "keep": keep,
        "drop": drop,
        "held": held,
        "young": young,
        "foreign": foreign,
        "withdrawn": withdrawn,
    }


def _xml_in(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        [name] = [n for n in zf.namelist() if n.endswith(".xml")]
        root = schema.parse_valid(zf.read(name), etree.QName(name.split("_", 1)[1][:-4]).localname)
    return root


def _ids(root: etree._Element) -> set[str]:
    return {
        e.text or "" for e in root.findall("x:Schriftgutobjekt/x:Akte/x:Identifikation/x:ID", NS)
    }


async def test_the_whole_cycle(app, db, settings, tmp_path, files) -> None:  # type: ignore[no-untyped-def]
    store, base = app.state.store, tmp_path / "out"
    keep, drop = files["keep"], files["drop"]
    await worker.drain(db, store, settings)

    offer = await aussonderung.make_offer(db, base, TENANT_A, today=TODAY, actor="registratur")
    offered = _xml_in(offer.path)
    # the case on hold, the one whose retention has not ended and B's are not offered
    assert _ids(offered) == {keep["id"], drop["id"]}
    assert offered.find("x:Schriftgutobjekt/x:Akte/x:Akteninhalt", NS) is None  # no content
    with pytest.raises(AussonderungConflict):  # offered cases are not offered twice
        await aussonderung.make_offer(db, base, TENANT_A, today=TODAY, actor="registratur")

    receipt = await aussonderung.receive_receipt(
        db, TENANT_A, archive_message("0504", offer.process_id), actor="registratur"
    )
    assert receipt == "0504"
    appraisal = archive_message(
        "0502", offer.process_id, appraised(keep["id"], "A") + appraised(drop["id"], "V")
    )
    reply = await aussonderung.import_appraisal(db, base, TENANT_A, appraisal, actor="registratur")
    schema.parse_valid(reply.path.read_bytes(), messages.BEWERTUNG_EMPFANG)

    package = await aussonderung.handover(
        db, store, base, TENANT_A, offer.process_id, actor="registratur"
    )
    with zipfile.ZipFile(package.path) as zf:
        names = set(zf.namelist())
        sums = dict(
            reversed(line.split("  ", 1)) for line in zf.read("SHA256SUMS").decode().splitlines()
        )
        for name, digest in sums.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest, name
        handed = schema.parse_valid(
            zf.read(f"{offer.process_id}_{messages.AUSSONDERUNG}.xml"), messages.AUSSONDERUNG
        )
    assert _ids(handed) == {keep["id"]}
    async with db.session(write=False) as session:
        versions = (
            await session.scalars(
                select(DocumentVersion).where(DocumentVersion.tenant_id == TENANT_A)
            )
        ).all()
    keep_versions = [v for v in versions if f"{v.id}_{v.filename}" in names]
    assert len(keep_versions) == 3  # every version, the withdrawn document's too
    documents = handed.findall(".//x:Akteninhalt/x:Dokument", NS)
    titles = {d.findtext("x:AllgemeineMetadaten/x:Betreff", namespaces=NS) for d in documents}
    assert titles == {"Lageplan", "Irrläufer"}
    remark = handed.findtext(".//x:Dokument/x:AllgemeineMetadaten/x:Bemerkung", namespaces=NS)
    assert remark == "zurückgezogen: gehört zu einer anderen Akte"
    actions = {
        h.findtext("x:Aktion", namespaces=NS)
        for h in handed.iter(f"{{{schema.NS}}}HistorienProtokollInformation")
    }
    assert {"case.created", "document.withdrawn", "case.closed"} <= actions

    destroyed = await aussonderung.destroy(
        db, store, TENANT_A, offer.process_id, actor="Amtsleitung Dr. Huber"
    )
    assert destroyed == 1
    await aussonderung.receive_receipt(
        db, TENANT_A, archive_message("0507", offer.process_id), actor="registratur"
    )
    result = await aussonderung.import_confirmation(
        db,
        store,
        TENANT_A,
        archive_message("0506", offer.process_id, imported(keep["id"])),
        actor="registratur",
    )
    assert result == {"imported": 1, "failed": 0, "cases_completed": 1}

    tenant_keys = {e.key for e in store.iter_keys(f"{TENANT_A}/")}
    assert tenant_keys == set()  # all content of both cases is gone from the store
    assert {e.key for e in store.iter_keys(f"{TENANT_B}/")}  # B's untouched
    records = {r.file_number: r for r in await aussonderung.destruction_records(db, TENANT_A)}
    assert set(records) == {keep["file_number"], drop["file_number"]}
    assert records[keep["file_number"]].grounds == "archiviert"
    assert "StAA Bauakten 2030/17" in records[keep["file_number"]].decision
    assert records[drop["file_number"]].grounds == "vernichten"
    assert records[drop["file_number"]].decided_by == "Amtsleitung Dr. Huber"
    assert len(records[keep["file_number"]].objects) == 3
    async with db.session(write=False) as session:
        statuses = {
            v.status
            for v in (
                await session.scalars(
                    select(DocumentVersion).where(DocumentVersion.tenant_id == TENANT_A)
                )
            ).all()
            if v.id in {k.id for k in keep_versions}
        }
        assert statuses == {VERSION_DESTROYED}
        for tenant in (TENANT_A, TENANT_B):
            assert (await verify_tenant(session, tenant)).valid
        held = await session.get(CaseRecord, uuid.UUID(str(files["held"]["id"])))
        assert held is not None and held.disposition is None
    report = await check(db, store, tenant=None, grace=__import__("datetime").timedelta(0))
    assert report.problems == 0


async def test_invalid_or_mismatched_messages_are_refused_with_reasons(
    app, db, tmp_path, files
) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path / "out"
    offer = await aussonderung.make_offer(db, base, TENANT_A, today=TODAY, actor="registratur")
    keep, drop = files["keep"], files["drop"]
    bad_code = archive_message("0502", offer.process_id, appraised(keep["id"], "X"))
    with pytest.raises(InvalidMessage) as exc:
        await aussonderung.import_appraisal(db, base, TENANT_A, bad_code, actor="r")
    assert any("Aussonderungsart" in e or "'X'" in e for e in exc.value.extra["errors"])
    only_one = archive_message("0502", offer.process_id, appraised(keep["id"], "A"))
    with pytest.raises(InvalidMessage) as exc:
        await aussonderung.import_appraisal(db, base, TENANT_A, only_one, actor="r")
    assert exc.value.extra["errors"] == [f"not appraised: {drop['id']}"]
    with pytest.raises(OfferNotFound):
        await aussonderung.import_appraisal(
            db,
            base,
            TENANT_B,
            archive_message("0502", offer.process_id, appraised(keep["id"], "A")),
            actor="r",
        )
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xdomea:Aussonderung.Bewertungsverzeichnis.0502 "
        b'xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0">&e;'
        b"</xdomea:Aussonderung.Bewertungsverzeichnis.0502>"
    )
    with pytest.raises(InvalidMessage) as exc:
        await aussonderung.import_appraisal(db, base, TENANT_A, entity, actor="r")
    assert "DOCTYPE" in exc.value.extra["errors"]  # refused before any entity could resolve
    with pytest.raises(InvalidMessage):
        await aussonderung.import_appraisal(db, base, TENANT_A, b"<not-xml", actor="r")
    # nothing changed: the offer still waits for its appraisal
    async with db.session(write=False) as session:
        record = await session.get(CaseRecord, uuid.UUID(str(keep["id"])))
        assert record is not None and record.disposition == "angeboten"


async def test_a_hold_set_after_the_appraisal_blocks_the_destruction(
    client: httpx.AsyncClient, app, auth, db, tmp_path, files
) -> None:  # type: ignore[no-untyped-def]
    store, base = app.state.store, tmp_path / "out"
    drop = files["drop"]
    offer = await aussonderung.make_offer(db, base, TENANT_A, today=TODAY, actor="r")
    await aussonderung.import_appraisal(
        db,
        base,
        TENANT_A,
        archive_message(
            "0502",
            offer.process_id,
            appraised(files["keep"]["id"], "A") + appraised(drop["id"], "V"),
        ),
        actor="r",
    )
    url = f"/api/v1/cases/{drop['id']}/record/legal-hold"
    await client.post(url, json={"reason": "Akteneinsicht beantragt"}, headers=auth("admin"))
    before = {e.key for e in store.iter_keys(f"{TENANT_A}/")}
    assert await aussonderung.destroy(db, store, TENANT_A, offer.process_id, actor="AL") == 0
    assert {e.key for e in store.iter_keys(f"{TENANT_A}/")} == before
    await client.post(url + "/lifting", json={"reason": "erledigt"}, headers=auth("admin"))
    assert await aussonderung.destroy(db, store, TENANT_A, offer.process_id, actor="AL") == 1


async def test_kill_9_between_handover_and_deletion_loses_nothing_and_resumes(
    client: httpx.AsyncClient, app, auth, db, cli_env, tmp_path, ended_case
) -> None:  # type: ignore[no-untyped-def]
    store = app.state.store
    case = await ended_case(title="Neubau Schule")
    doc = await _upload(client, auth, case, text_pdf("Schule Entwurf"))
    for n in range(3):
        await _upload(client, auth, case, text_pdf(f"Schule Tektur {n}"), document_id=doc["id"])
    await close_on(db, case, datetime(2012, 1, 9, tzinfo=UTC))
    env = cli_env | {"EAKTE_RECORDS_EXPORT_DIR": str(tmp_path / "out")}
    offered = run_cli(env, "archive", "offer", "--tenant", TENANT_A, "--today", "2030-01-02")
    assert offered.returncode == 0, offered.stderr
    process_id = Path(offered.stdout.strip()).name.split("_")[0]
    appraisal = tmp_path / "0502.xml"
    appraisal.write_bytes(archive_message("0502", process_id, appraised(case["id"], "A")))
    assert (
        run_cli(env, "archive", "import-appraisal", "--tenant", TENANT_A, str(appraisal)).returncode
        == 0
    )
    handed = run_cli(env, "archive", "handover", "--tenant", TENANT_A, "--process", process_id)
    assert handed.returncode == 0, handed.stderr
    package = Path(handed.stdout.strip())
    confirmation = tmp_path / "0506.xml"
    confirmation.write_bytes(archive_message("0506", process_id, imported(case["id"])))

    killed = run_cli(
        env,
        "archive",
        "import-confirmation",
        "--tenant",
        TENANT_A,
        str(confirmation),
        EAKTE_FAULT_KILL_AFTER_DELETES="2",
    )
    assert killed.returncode == -9  # SIGKILL after the second object was deleted
    left = {e.key for e in store.iter_keys(f"{TENANT_A}/")}
    assert len(left) == 2  # two of four deleted, two still there
    with zipfile.ZipFile(package) as zf:  # the package holds every version: nothing is lost
        assert zf.testzip() is None
        assert sum(1 for n in zf.namelist() if n.endswith("_plan.pdf")) == 4
    async with db.session(write=False) as session:
        record = await session.get(CaseRecord, uuid.UUID(str(case["id"])))
        assert record is not None and record.disposition == "loeschung"

    resumed = run_cli(env, "archive", "resume", "--tenant", TENANT_A)
    assert resumed.returncode == 0, resumed.stderr
    assert {e.key for e in store.iter_keys(f"{TENANT_A}/")} == set()
    assert run_cli(env, "fsck", "--grace", "0s").returncode == 0
    assert run_cli(env, "audit", "verify").returncode == 0
    listed = run_cli(env, "archive", "destructions", "--tenant", TENANT_A)
    assert case["file_number"] in listed.stdout and "archiviert" in listed.stdout
    assert "4 Objekte" in listed.stdout


async def test_closed_in_january_is_offered_only_after_its_retention_year(
    db, tmp_path, ended_case
) -> None:  # type: ignore[no-untyped-def]
    case = await ended_case()
    # 632.2: 10 years from the end of the closing year (closed 03.01.2013 → due 01.01.2024)
    await close_on(db, case, datetime(2013, 1, 3, 8, 0, tzinfo=UTC))
    with pytest.raises(AussonderungConflict):
        await aussonderung.make_offer(db, tmp_path, TENANT_A, today=date(2023, 12, 31), actor="r")
    built = await aussonderung.make_offer(db, tmp_path, TENANT_A, today=date(2024, 1, 1), actor="r")
    assert _ids(_xml_in(built.path)) == {case["id"]}
    assert service  # the retention rule itself: tests/eakte/records/test_records.py
