"""What an upload is: libmagic's verdict, the tenant's allow-list, the filename's extension."""

from __future__ import annotations

import threading
import unicodedata
from pathlib import PurePosixPath

import magic

from eakte.documents.errors import ExtensionMismatch, MediaTypeNotAllowed

SNIFF_BYTES = 64 * 1024
MAX_FILENAME_BYTES = 200
FALLBACK_STEM = "dokument"

# Extensions a detected media type may carry. libmagic reports DXF as image/vnd.dxf (or
# text/plain for some exporters) and IFC/STEP as text/plain, so those extensions are also
# accepted for text/plain.
EXTENSIONS: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({".pdf"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg", ".jpe"}),
    "image/tiff": frozenset({".tif", ".tiff"}),
    "text/plain": frozenset({".txt", ".text", ".csv", ".asc", ".ifc", ".dxf", ".stp", ".step"}),
    "application/xml": frozenset({".xml", ".gml", ".xsd"}),
    "text/xml": frozenset({".xml", ".gml", ".xsd"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({".docx"}),
    "application/vnd.oasis.opendocument.text": frozenset({".odt"}),
    "image/vnd.dxf": frozenset({".dxf"}),
    "application/x-step": frozenset({".stp", ".step", ".ifc"}),
}
_KNOWN_EXTENSIONS = frozenset().union(*EXTENSIONS.values())

_local = threading.local()


def _magic() -> magic.Magic:
    # libmagic handles are not thread-safe: one per thread.
    handle = getattr(_local, "magic", None)
    if handle is None:
        handle = _local.magic = magic.Magic(mime=True)
    return handle


def detect(head: bytes) -> str:
    """The media type libmagic sees in the first bytes of a file (CPU-bound: call in a thread)."""
    return str(_magic().from_buffer(head)).strip().lower()


def check_type(media_type: str, filename: str, allowed: list[str]) -> None:
    """Raise unless the type is on the allow-list and agrees with the filename's extension."""
    if media_type not in {a.lower() for a in allowed}:
        raise MediaTypeNotAllowed(
            f"the file's content is {media_type}, which is not accepted here; "
            f"accepted: {', '.join(sorted(allowed))}",
            detail_de=f"Die Datei ist ihrem Inhalt nach {media_type}; das nimmt diese Behörde "
            f"nicht an (angenommen: {', '.join(sorted(allowed))})",
            detected_media_type=media_type,
        )
    suffix = PurePosixPath(filename).suffix.lower()
    if not suffix:
        return
    expected = EXTENSIONS.get(media_type)
    if expected is None:
        mismatch = suffix in _KNOWN_EXTENSIONS
    else:
        mismatch = suffix not in expected
    if mismatch:
        raise ExtensionMismatch(
            f"the file is named *{suffix} but its content is {media_type}",
            detail_de=f"Die Datei heißt *{suffix}, ihr Inhalt ist aber {media_type}",
            detected_media_type=media_type,
        )


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "C"  # Cc, Cf (bidi overrides), Cs, Co, Cn


def sanitize_filename(raw: str) -> str:
    """A filename safe to store and to send back: no path, no control characters, bounded."""
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if ch.isspace() else ch for ch in name if ch.isspace() or not _is_control(ch)
    )
    name = " ".join(name.split()).strip(". ")
    if not name:
        return FALLBACK_STEM
    path = PurePosixPath(name)
    stem, suffix = path.stem, path.suffix if len(path.suffix) <= 16 else ""
    if not suffix:
        stem = name
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip(". ") or FALLBACK_STEM
    return stem + suffix
