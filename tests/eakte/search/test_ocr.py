"""OCR of scanned PDFs, switched on by EAKTE_SEARCH_OCR (issue 15); off by default."""

from __future__ import annotations

import io
import shutil

import httpx
import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from eakte.search import worker
from eakte.search.models import DONE, UNSUPPORTED, DocumentText

WORDS = "Baugenehmigung Flurstück Tiefgarage"
needs_ocr = pytest.mark.skipif(
    shutil.which("tesseract") is None or shutil.which("pdftoppm") is None,
    reason="tesseract (with tesseract-ocr-deu) and pdftoppm (poppler-utils) are not installed",
)


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:  # a font with umlauts (Pillow's built-in one has none)
        return ImageFont.truetype("DejaVuSans.ttf", 90)
    except OSError:
        pytest.skip("no DejaVuSans.ttf (fonts-dejavu-core) to draw the scan with")


def _scan(text: str, *, kind: str = "PDF") -> bytes:
    """A page as a scanner delivers it: an image of the text, no text layer (300 dpi)."""
    page = Image.new("L", (2480, 1000), 255)
    ImageDraw.Draw(page).text((150, 400), text, fill=0, font=_font())
    out = io.BytesIO()
    page.save(out, kind, resolution=300)
    return out.getvalue()


async def _texts(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(DocumentText.status, DocumentText.content).order_by(DocumentText.id)
        )
        return [(s, c) for s, c in rows.all()]


async def _hits(client: httpx.AsyncClient, auth, q: str) -> int:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/search", params={"q": q}, headers=auth("clerk"))
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


async def test_with_ocr_off_a_scan_has_no_text_and_an_image_is_unsupported(
    client: httpx.AsyncClient, auth, app, db, settings, new_case, add_document
) -> None:
    assert settings.search_ocr is False  # the default
    case = await new_case()
    await add_document(case, _scan(WORDS), filename="scan.pdf", title="Scan")
    await add_document(case, _scan(WORDS, kind="PNG"), filename="scan.png", title="Foto")
    await worker.drain(db, app.state.store, settings)
    assert await _texts(db) == [(DONE, ""), (UNSUPPORTED, "")]
    assert await _hits(client, auth, "Tiefgarage") == 0


@needs_ocr
async def test_with_ocr_on_a_scanned_pdf_and_an_image_are_found(
    client: httpx.AsyncClient, auth, app, db, settings, new_case, add_document
) -> None:
    case = await new_case()
    await add_document(case, _scan(WORDS), filename="scan.pdf", title="Scan")
    await add_document(case, _scan(WORDS, kind="PNG"), filename="scan.png", title="Foto")
    ocr = settings.model_copy(update={"search_ocr": True, "search_ocr_languages": "deu"})
    await worker.drain(db, app.state.store, ocr)
    [(pdf_status, pdf_text), (png_status, png_text)] = await _texts(db)
    assert pdf_status == png_status == DONE
    assert "Tiefgarage" in pdf_text and "Tiefgarage" in png_text
    assert "Flurstück" in pdf_text  # the German language pack reads the umlaut
    assert await _hits(client, auth, "Tiefgarage") == 2


@needs_ocr
async def test_ocr_keeps_the_time_limit(
    app, db, settings, new_case, add_document
) -> None:
    case = await new_case()
    pages = [Image.new("L", (2480, 3508), 255) for _ in range(30)]
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=300, save_all=True, append_images=pages[1:])
    await add_document(case, out.getvalue(), filename="stapel.pdf", title="Stapel")
    capped = settings.model_copy(update={"search_ocr": True, "search_max_seconds": 1.0})
    await worker.drain(db, app.state.store, capped)
    async with db.session(write=False) as session:
        status, error = (
            await session.execute(select(DocumentText.status, DocumentText.error))
        ).one()
    assert status == "failed" and error is not None and "longer than" in error
