"""Draft → signed → bekanntgegeben: PDF/A, seal, four eyes, applicant visibility, outbox."""

from __future__ import annotations

import io
import uuid
from datetime import date

import httpx
import pikepdf
import pypdf
import pytest
from receivers import SmtpServer
from sqlalchemy import select

from eakte.audit.models import AuditEvent
from eakte.config import Settings
from eakte.db import Database
from eakte.issuing import seal as seals
from eakte.outbox.models import OutboxMessage
from eakte.outbox.worker import Worker
from support import APPLICATION, LETTER_DATA, TENANT_A, TENANT_B, TINY_PDF, issue_letter

CLERK = {"sub": "clara@augsburg"}
APPROVER = {"sub": "anton@augsburg"}
CONDITIONS = [
    f"Nebenbestimmung Nr. {i}: Die Zufahrt ist bis Baubeginn herzustellen." for i in range(1, 31)
]


@pytest.fixture
def applicant(auth):  # type: ignore[no-untyped-def]
    return auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)


@pytest.fixture
def submit(client: httpx.AsyncClient, applicant):  # type: ignore[no-untyped-def]
    async def _submit(tenant: str = TENANT_A) -> dict:
        response = await client.post(
            f"/api/v1/authorities/{tenant}/applications",
            json=APPLICATION
            | {"site": APPLICATION["site"] | {"flurstueck": "1234/5"}, "housing": True},
            headers=applicant,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return _submit


async def _draft(client, auth, case_id: str, letter_type: str = "baugenehmigung", **data):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={"letter_type": letter_type, "data": data},
        headers=auth("clerk", **CLERK),
    )


def _text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


async def test_draft_preview_is_pdfa_with_embedded_fonts_and_the_clerks_text(
    client,
    auth,
    submit,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    reasons = "Das Vorhaben fügt sich nach § 34 BauGB ein; Stellplätze sind nachgewiesen."
    drafted = await _draft(client, auth, receipt["case_id"], conditions=CONDITIONS, reasons=reasons)
    assert drafted.status_code == 201, drafted.text
    issued = drafted.json()
    assert issued["state"] == "draft"
    preview = await client.get(issued["preview_url"], headers=auth("approver", **APPROVER))
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "application/pdf"
    pdf = preview.content
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert doc.open_metadata().pdfa_status == "2B"
        fonts = [f for page in doc.pages for f in page.Resources.Font.values()]
        assert fonts
        for font in fonts:
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            assert (
                "/FontFile2" in descendant.FontDescriptor
                or "/FontFile3" in descendant.FontDescriptor
            )
        assert any("DejaVuSans" in str(f.BaseFont) for f in fonts)
    pages = _text(pdf)
    assert len(pages) >= 2  # 30 conditions do not fit on one page
    whole = " ".join(" ".join(p.split()) for p in pages)
    assert "Nebenbestimmung Nr. 30: Die Zufahrt ist bis Baubeginn herzustellen." in whole
    assert reasons in whole
    assert "Rechtsbehelfsbelehrung" in whole
    for page in pages:  # file number, date, official and verification ref on every page
        flat = " ".join(page.split())
        assert receipt["file_number"] in flat
        assert issued["verification_ref"] in flat
        assert "Sachbearbeitung: Test clerk" in flat
        assert "Seite" in flat


async def test_drafts_and_tagged_files_are_never_shown_to_the_applicant(
    client,
    auth,
    submit,
    applicant,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    case_id = receipt["case_id"]
    tagged = await client.post(
        f"/api/v1/cases/{case_id}/documents",
        data={"title": "Entwurf Ablehnungsbescheid", "kind": "bescheid"},
        files={"file": ("e.pdf", TINY_PDF, "application/pdf")},
        headers=auth("clerk"),
    )
    assert tagged.status_code == 201
    drafted = (await _draft(client, auth, case_id, **LETTER_DATA["baugenehmigung"])).json()
    status = (await client.get(receipt["status_url"], headers=applicant)).json()
    assert status["documents"] == []
    for doc_id in (tagged.json()["id"], drafted["document_id"]):
        url = f"{receipt['status_url']}/documents/{doc_id}/content"
        assert (await client.get(url, headers=applicant)).status_code == 404
    # signed but not yet made known: still invisible
    signed = await client.post(
        f"/api/v1/cases/{case_id}/issued/{drafted['id']}/sign", headers=auth("approver", **APPROVER)
    )
    assert signed.status_code == 200
    assert (await client.get(receipt["status_url"], headers=applicant)).json()["documents"] == []


async def test_four_eyes_and_roles(client, auth, submit) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    drafted = (
        await _draft(client, auth, receipt["case_id"], **LETTER_DATA["baugenehmigung"])
    ).json()
    url = f"/api/v1/cases/{receipt['case_id']}/issued/{drafted['id']}/sign"
    own = await client.post(url, headers=auth("clerk", "approver", **CLERK))
    assert own.status_code == 403
    assert own.json()["type"] == "urn:eakte:problem:four-eyes"
    clerk = await client.post(url, headers=auth("clerk", sub="other@augsburg"))
    assert clerk.status_code == 403
    ok = await client.post(url, headers=auth("approver", **APPROVER))
    assert ok.status_code == 200 and ok.json()["state"] == "signed"
    again = await client.post(url, headers=auth("approver", **APPROVER))
    assert again.status_code == 409
    assert again.json()["type"] == "urn:eakte:problem:issued-document-state"


async def test_sealed_download_validates_and_a_flipped_byte_breaks_it(
    client,
    auth,
    submit,
    applicant,
    seal_dir,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    issued = await issue_letter(client, auth, receipt["case_id"])
    assert issued["state"] == "bekanntgegeben"
    status = (await client.get(receipt["status_url"], headers=applicant)).json()
    [doc] = status["documents"]
    assert doc["id"] == issued["document_id"] and doc["title"].startswith("Baugenehmigung")
    download = await client.get(
        doc["download_url"], headers={"X-Access-Code": receipt["access_code"]}
    )
    assert download.status_code == 200
    pdf = download.content
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == issued["signed_sha256"]
    roots = [seals.dev_ca_certificate(seal_dir)]
    check = await seals.averify_pdf(pdf, roots)
    assert check.intact and check.valid and check.trusted and check.covers_whole_file
    assert check.signer and "Stadt Augsburg" in check.signer
    with pikepdf.open(io.BytesIO(pdf)) as doc_pdf:
        assert doc_pdf.open_metadata().pdfa_status == "2B"  # sealing keeps PDF/A
    broken = bytearray(pdf)
    broken[len(pdf) // 3] ^= 0x01
    assert not (await seals.averify_pdf(bytes(broken), roots)).intact
    assert "ENTWURF" not in " ".join(_text(pdf))


async def test_bekanntgabe_emails_the_applicant_with_a_status_link_and_no_officials(
    client,
    auth,
    submit,
    db: Database,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    await issue_letter(client, auth, receipt["case_id"])
    with SmtpServer() as smtp:
        worker = Worker(
            db, settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port})
        )
        while await worker.run_once():
            pass
        mails = smtp.mailbox.messages
    mine = [m for m in mails if "Baugenehmigung" in m["Subject"]]
    assert len(mine) == 1
    body = mine[0].get_content()
    assert mine[0]["To"] == "maria@example.org"
    assert receipt["file_number"] in body
    assert f"/api/v1/authorities/{TENANT_A}/applications/{receipt['file_number']}" in body
    assert "Test clerk" not in body and "Test approver" not in body
    async with db.session(write=False) as session:
        actions = set(await session.scalars(select(AuditEvent.action)))
    assert {
        "issuing.drafted",
        "issuing.signed",
        "issuing.bekanntgegeben",
        "outbox.delivered",
    } <= actions


async def test_postal_bekanntgabe_dates_per_art_41_abs_2_bayvwvfg(
    client,
    auth,
    submit,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    case_id = receipt["case_id"]
    drafted = await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={
            "letter_type": "ablehnungsbescheid",
            "channel": "postal",
            "addressee": {"name": "Maria Muster", "address": "Hauptstraße 5\n86150 Augsburg"},
            "data": LETTER_DATA["ablehnungsbescheid"],
        },
        headers=auth("clerk", **CLERK),
    )
    assert drafted.status_code == 201, drafted.text
    issued = drafted.json()
    await client.post(
        f"/api/v1/cases/{case_id}/issued/{issued['id']}/sign", headers=auth("approver", **APPROVER)
    )
    url = f"/api/v1/cases/{case_id}/issued/{issued['id']}/bekanntgabe"
    missing = await client.post(url, json={}, headers=auth("clerk", **CLERK))
    assert missing.status_code == 409
    assert missing.json()["type"] == "urn:eakte:problem:issuing-blocked"
    assert missing.json()["reasons"][0]["de"].startswith("Für den Postversand")
    known = await client.post(url, json={"posted_on": "2026-03-02"}, headers=auth("clerk", **CLERK))
    assert known.status_code == 200
    body = known.json()
    # fourth day after posting: the dated rule of workflows.bekanntgabe for letters posted
    # from 01.01.2025 (third day before; [nv] for Bavaria, docs/legal-rules.md row 10)
    assert body["bekanntgabe_on"] == date(2026, 3, 6).isoformat()
    assert "Art. 41 Abs. 2 S. 1" in body["bekanntgabe_rule"]
    assert "vierten Tag" in body["bekanntgabe_rule"]


async def test_missing_placeholder_blocks_before_anything_exists(
    client,
    auth,
    submit,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    case_id = receipt["case_id"]
    before = (await client.get(f"/api/v1/cases/{case_id}/documents", headers=auth("clerk"))).json()
    blocked = await _draft(client, auth, case_id, conditions=["x"])  # no reasons
    assert blocked.status_code == 409
    problem = blocked.json()
    assert problem["type"] == "urn:eakte:problem:issuing-blocked"
    assert problem["missing"] == ["reasons"]
    assert "fehlen Angaben: reasons" in problem["reasons"][0]["de"]
    after = (await client.get(f"/api/v1/cases/{case_id}/documents", headers=auth("clerk"))).json()
    assert after == before
    listed = await client.get(f"/api/v1/cases/{case_id}/issued", headers=auth("clerk"))
    assert listed.json() == []


async def test_no_or_expired_seal_blocks_signing(
    client,
    auth,
    submit,
    app,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    drafted = (
        await _draft(client, auth, receipt["case_id"], **LETTER_DATA["baugenehmigung"])
    ).json()
    url = f"/api/v1/cases/{receipt['case_id']}/issued/{drafted['id']}/sign"
    app.state.settings = app.state.settings.model_copy(update={"seal_dir": tmp_path / "none"})
    missing = await client.post(url, headers=auth("approver", **APPROVER))
    assert missing.status_code == 409
    assert missing.json()["type"] == "urn:eakte:problem:seal-unavailable"
    assert "eakte seal dev-ca" in missing.json()["detail"]
    expired = tmp_path / "expired"
    seals.create_dev_ca(expired, {TENANT_A: "Stadt Augsburg"}, days=-1)
    app.state.settings = app.state.settings.model_copy(update={"seal_dir": expired})
    old = await client.post(url, headers=auth("approver", **APPROVER))
    assert old.status_code == 409
    assert "nicht gültig" in old.json()["reasons"][0]["de"]
    record = await client.get(
        f"/api/v1/cases/{receipt['case_id']}/issued/{drafted['id']}", headers=auth("clerk")
    )
    assert record.json()["state"] == "draft" and record.json()["signed_version"] is None
    docs = await client.get(
        f"/api/v1/cases/{receipt['case_id']}/documents/{drafted['document_id']}",
        headers=auth("clerk"),
    )
    assert docs.json()["version_count"] == 1  # nothing half-issued


def test_production_refuses_a_development_seal(seal_dir) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from eakte.issuing.errors import SealUnavailable

    with pytest.raises(SealUnavailable, match="development seal certificate is refused"):
        seals.load_seal(seal_dir, TENANT_A, production=True, now=datetime.now(UTC))


async def test_other_tenants_ids_are_404(client, auth, submit) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    issued = (
        await _draft(client, auth, receipt["case_id"], **LETTER_DATA["baugenehmigung"])
    ).json()
    base = f"/api/v1/cases/{receipt['case_id']}/issued"
    other = {"tenant": TENANT_B}
    calls = [
        ("GET", base, auth("clerk", **other), None),
        ("POST", base, auth("clerk", **other), {"letter_type": "baugenehmigung"}),
        ("GET", f"{base}/{issued['id']}", auth("clerk", **other), None),
        ("GET", f"{base}/{issued['id']}/preview", auth("clerk", **other), None),
        ("POST", f"{base}/{issued['id']}/sign", auth("approver", **other), None),
        ("POST", f"{base}/{issued['id']}/bekanntgabe", auth("clerk", **other), {}),
    ]
    for method, url, headers, body in calls:
        response = await client.request(method, url, headers=headers, json=body)
        assert response.status_code == 404, (method, url, response.text)
    unknown = await client.get(f"{base}/{uuid.uuid4()}", headers=auth("clerk"))
    assert unknown.json()["type"] == "urn:eakte:problem:issued-document-not-found"


async def test_bad_input(client, auth, submit) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    base = f"/api/v1/cases/{receipt['case_id']}/issued"
    for body in [
        {},
        {"letter_type": "liebesbrief"},
        {"letter_type": "baugenehmigung", "channel": "fax"},
        {"letter_type": "baugenehmigung", "addressee": {"email": "nope"}},
    ]:
        response = await client.post(base, json=body, headers=auth("clerk"))
        assert response.status_code == 422, body
        assert response.json()["type"] == "urn:eakte:problem:validation-failed"
    assert (await client.get(f"{base}/not-a-uuid", headers=auth("clerk"))).status_code == 422
    neighbour = await client.post(
        base,
        json={
            "letter_type": "nachbarbenachrichtigung",
            "addressee": {"kind": "neighbour", "name": "N. Nachbar"},
        },
        headers=auth("clerk"),
    )
    assert neighbour.status_code == 409  # neither an address nor an e-mail: no channel
    assert neighbour.json()["type"] == "urn:eakte:problem:issuing-blocked"


async def test_outbox_rows_are_written_with_the_bekanntgabe(
    client,
    auth,
    submit,
    db: Database,  # type: ignore[no-untyped-def]
) -> None:
    receipt = await submit()
    issued = await issue_letter(client, auth, receipt["case_id"])
    async with db.session(write=False) as session:
        events = list(
            await session.scalars(
                select(OutboxMessage.event).where(
                    OutboxMessage.case_id == uuid.UUID(str(issued["case_id"]))
                )
            )
        )
    assert "document.bekanntgegeben" in events


@pytest.mark.parametrize(
    ("posted", "known"),
    [(date(2024, 12, 27), date(2024, 12, 30)), (date(2025, 1, 2), date(2025, 1, 6))],
)
def test_letters_and_the_procedure_share_one_dated_bekanntgabe_rule(
    posted: date, known: date
) -> None:
    """Art. 41 Abs. 2 S. 1 BayVwVfG: third day for letters posted before 01.01.2025, fourth
    day from then ([nv] for Bavaria); issuing and the procedure compute the same day."""
    from eakte.issuing import bekanntgabe as issuing_rule
    from workflows import bekanntgabe as process_rule

    assert issuing_rule.postal(posted).on == known
    assert process_rule.compute_bekanntgabe("post", posted).on == known
