"""Text extraction, run in a child process with hard limits (`python -m eakte.search.extract`).

A hostile PDF (a decompression bomb, a page tree that loops, a parser bug) must not hang or
exhaust the service: the parent (`extractor.py`) starts this module per document with an
address-space and CPU-time limit (setrlimit), kills it when its wall-clock time is up, and
reads at most `max_chars` of text. This module reads the document from stdin and writes one
JSON object to stdout: {"text": "...", "pages": n}.

OCR (`--ocr deu`, switched on by EAKTE_SEARCH_OCR): a PDF page without a text layer (a scan)
is rendered by `pdftoppm` (poppler-utils) and read by `tesseract` with the given language
packs; images (PNG, JPEG, TIFF) go to tesseract directly. Both run as children of this
process, so they inherit its memory and CPU limits and die with its process group.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile

TEXT_TYPES = {"text/plain", "text/csv", "text/markdown", "application/xml", "text/xml"}
PDF_TYPES = {"application/pdf"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/tiff"}
OCR_DPI = "300"  # tesseract reads scans best at 300 dpi


def _tesseract(image: str, languages: str) -> str:
    # one thread: the memory limit counts every thread's stack, and one page is small work
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        ["tesseract", image, "-", "-l", languages],
        capture_output=True,
        check=True,
        env=env,
    )
    return done.stdout.decode("utf-8", errors="replace")


def _ocr_page(pdf: str, number: int, languages: str, workdir: str) -> str:
    stem = os.path.join(workdir, f"page{number}")
    subprocess.run(
        ["pdftoppm", "-r", OCR_DPI, "-gray", "-png", "-singlefile"]
        + ["-f", str(number), "-l", str(number), pdf, stem],
        capture_output=True,
        check=True,
    )
    try:
        return _tesseract(stem + ".png", languages)
    finally:
        os.unlink(stem + ".png")


def _pdf(data: bytes, max_chars: int, ocr: str | None) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts: list[str] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="eakte-ocr-") as workdir:
        pdf = os.path.join(workdir, "document.pdf")
        if ocr:
            with open(pdf, "wb") as out:
                out.write(data)
        for number, page in enumerate(reader.pages, start=1):
            chunk = page.extract_text() or ""
            if ocr and not chunk.strip():  # no text layer: a scanned page
                chunk = _ocr_page(pdf, number, ocr, workdir)
            parts.append(chunk)
            size += len(chunk)
            if size >= max_chars:
                break
    return "\n".join(parts)[:max_chars], len(reader.pages)


def extract(
    data: bytes, media_type: str, max_chars: int, *, ocr: str | None = None
) -> tuple[str, int]:
    """(text, pages) of a document; ValueError for a type without a text layer.

    `ocr`: tesseract languages (e.g. "deu") to read scanned pages and images, or None.
    """
    if media_type in PDF_TYPES:
        return _pdf(data, max_chars, ocr)
    if media_type in TEXT_TYPES or media_type.startswith("text/"):
        return data.decode("utf-8", errors="replace")[:max_chars], 1
    if ocr and media_type in IMAGE_TYPES:
        with tempfile.NamedTemporaryFile(prefix="eakte-ocr-") as image:
            image.write(data)
            image.flush()
            return _tesseract(image.name, ocr)[:max_chars], 1
    raise ValueError(f"no text layer in {media_type}")


def main() -> int:
    media_type, max_chars = sys.argv[1], int(sys.argv[2])
    ocr = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--ocr" else None
    data = sys.stdin.buffer.read()
    try:
        text, pages = extract(data, media_type, max_chars, ocr=ocr)
    except ValueError as exc:
        json.dump({"unsupported": str(exc)}, sys.stdout)
        return 0
    # NUL cannot be stored in PostgreSQL text; control characters carry no words
    clean = "".join(ch if ch >= " " or ch in "\n\t" else " " for ch in text)
    json.dump({"text": clean, "pages": pages}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
