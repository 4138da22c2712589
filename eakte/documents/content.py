"""Checks on a whole upload beyond its type: polyglots, hidden markup, archive bombs.

libmagic only names what the first bytes look like. A PDF with a ZIP appended, a PNG
whose comment chunk is an HTML page, or a Word file that inflates to gigabytes all pass
that test. These checks run on the first and last bytes of the file (kept while it
streams), never on the whole body.
"""

from __future__ import annotations

import re
import struct

from eakte.documents.errors import ActiveContent, ArchiveBomb, PolyglotFile

TAIL_BYTES = 256 * 1024
ZIP_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    }
)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff"})
MAX_ENTRIES = 10_000
MAX_INFLATED = 1024**3
MAX_RATIO = 100
RATIO_FLOOR = 16 * 1024**2

_EOCD = b"PK\x05\x06"
_CDH = b"PK\x01\x02"
_MARKUP = re.compile(
    rb"<\s*(script|html|iframe|svg|body|object|embed|meta|!doctype\s+html)\b|javascript:",
    re.IGNORECASE,
)


def _end_of_central_directory(tail: bytes) -> int | None:
    """Offset in `tail` of a ZIP end record that really ends the file, or None."""
    position = tail.rfind(_EOCD)
    while position >= 0:
        if position + 22 <= len(tail):
            (comment_length,) = struct.unpack_from("<H", tail, position + 20)
            if position + 22 + comment_length == len(tail):
                return position
        position = tail.rfind(_EOCD, 0, position)
    return None


def _check_archive(tail: bytes, size: int) -> None:
    end = _end_of_central_directory(tail)
    if end is None:
        raise ArchiveBomb("the document's ZIP directory is missing or unreadable")
    entries, cd_size, cd_offset = struct.unpack_from("<HII", tail, end + 10)
    if 0xFFFF in (entries,) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise ArchiveBomb("ZIP64 archives are not accepted as documents")
    if entries > MAX_ENTRIES:
        raise ArchiveBomb(f"the document's archive has {entries} entries")
    start = len(tail) - (size - cd_offset)
    if start < 0 or cd_offset + cd_size > size:
        raise ArchiveBomb("the document's ZIP directory is too large to check")
    inflated, position = 0, start
    for _ in range(entries):
        if tail[position : position + 4] != _CDH:
            raise ArchiveBomb("the document's ZIP directory is corrupt")
        compressed, uncompressed, name_len, extra_len, comment_len = struct.unpack_from(
            "<IIHHH", tail, position + 20
        )
        if 0xFFFFFFFF in (compressed, uncompressed):
            raise ArchiveBomb("ZIP64 archives are not accepted as documents")
        inflated += uncompressed
        position += 46 + name_len + extra_len + comment_len
    if inflated > MAX_INFLATED or (inflated > RATIO_FLOOR and inflated > MAX_RATIO * size):
        raise ArchiveBomb(
            f"the document's archive would inflate from {size} to {inflated} bytes",
            inflated_bytes=inflated,
        )


def check_content(media_type: str, head: bytes, tail: bytes, size: int) -> None:
    """Raise unless the file is only what its type says (CPU-bound: call in a thread)."""
    if media_type in ZIP_TYPES:
        _check_archive(tail, size)
        return
    if _end_of_central_directory(tail) is not None:
        raise PolyglotFile(
            f"the file is {media_type} but also ends in a ZIP archive; upload the parts separately",
            detail_de=f"Die Datei ist {media_type}, endet aber zugleich in einem ZIP-Archiv; "
            "bitte die Teile einzeln hochladen",
        )
    if media_type in IMAGE_TYPES and (_MARKUP.search(head) or _MARKUP.search(tail)):
        raise ActiveContent(
            f"the {media_type} image carries HTML or script markup",
            detail_de=f"Das Bild ({media_type}) enthält HTML- oder Skript-Auszeichnungen",
        )
