"""Text extraction, run in a child process with hard limits (`python -m eakte.search.extract`).

A hostile PDF (a decompression bomb, a page tree that loops, a parser bug) must not hang or
exhaust the service: the parent (`extractor.py`) starts this module per document with an
address-space and CPU-time limit (setrlimit), kills it when its wall-clock time is up, and
reads at most `max_chars` of text. This module reads the document from stdin and writes one
JSON object to stdout: {"text": "...", "pages": n}.
"""

from __future__ import annotations

import io
import json
import sys

TEXT_TYPES = {"text/plain", "text/csv", "text/markdown", "application/xml", "text/xml"}
PDF_TYPES = {"application/pdf"}


def extract(data: bytes, media_type: str, max_chars: int) -> tuple[str, int]:
    """(text, pages) of a document; ValueError for a type without a text layer."""
    if media_type in PDF_TYPES:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            chunk = page.extract_text() or ""
            parts.append(chunk)
            size += len(chunk)
            if size >= max_chars:
                break
        return "\n".join(parts)[:max_chars], len(reader.pages)
    if media_type in TEXT_TYPES or media_type.startswith("text/"):
        return data.decode("utf-8", errors="replace")[:max_chars], 1
    raise ValueError(f"no text layer in {media_type}")


def main() -> int:
    media_type, max_chars = sys.argv[1], int(sys.argv[2])
    data = sys.stdin.buffer.read()
    try:
        text, pages = extract(data, media_type, max_chars)
    except ValueError as exc:
        json.dump({"unsupported": str(exc)}, sys.stdout)
        return 0
    # NUL cannot be stored in PostgreSQL text; control characters carry no words
    clean = "".join(ch if ch >= " " or ch in "\n\t" else " " for ch in text)
    json.dump({"text": clean, "pages": pages}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
