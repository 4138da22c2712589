"""Serve a version's bytes: ETag/If-None-Match, a single Range, RFC 6266 filenames."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Mapping
from email.utils import format_datetime
from urllib.parse import quote

import anyio
from starlette.responses import Response, StreamingResponse

from eakte.documents.errors import ContentUnavailable, RangeNotSatisfiable
from eakte.documents.models import VERSION_OK, DocumentVersion
from storage import ObjectNotFound, ObjectReader, ObjectStore, StorageError

log = logging.getLogger("eakte.documents")

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_RFC5987_SAFE = "!#$&+-.^_`|~"


def etag_of(version: DocumentVersion) -> str:
    """The strong ETag of a version: its quoted sha256."""
    return f'"{version.sha256}"'


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r'["%;\\]', "_", folded)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 8187)."""
    clean = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C")
    clean = clean.replace("/", "_").replace("\\", "_").strip() or "dokument"
    stem, dot, suffix = clean.rpartition(".")
    if not dot:
        stem, suffix = clean, ""
    ascii_stem = " ".join(_ascii(stem).split()).strip(". ") or "dokument"
    ascii_suffix = _ascii(suffix).replace(" ", "")
    ascii_name = f"{ascii_stem}.{ascii_suffix}" if ascii_suffix else ascii_stem
    encoded = quote(clean, safe=_RFC5987_SAFE)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def none_match(header: str | None, etag: str) -> bool:
    """True if `If-None-Match` names this ETag (weak comparison) or is `*`."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


MAX_RANGE_HEADER = 200
_MAX_DIGITS = 18  # larger positions lie beyond any object we store


def _position(digits: str) -> int:
    """A byte position; absurdly long numbers are clamped instead of parsed (no 4,300-digit int)."""
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def parse_range(
    header: str | None, size: int, *, if_range: str | None, etag: str
) -> tuple[int, int] | None:
    """The inclusive byte range to send, None for the whole body; 416 if unusable.

    Several ranges and non-byte units are answered with the whole body (RFC 9110 allows
    ignoring Range); a malformed or unsatisfiable single range is a 416.
    """
    if header is None:
        return None
    if len(header) > MAX_RANGE_HEADER:
        raise RangeNotSatisfiable("the Range header is too long", size=size)
    if if_range is not None and if_range.strip() != etag:
        return None  # the client's copy is outdated: send everything
    unit = header.split("=", 1)[0].strip().lower()
    if unit != "bytes" or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        raise RangeNotSatisfiable(f"malformed Range header {header!r}", size=size)
    first, last = match.groups()
    if first == "" and last == "":
        raise RangeNotSatisfiable(f"malformed Range header {header!r}", size=size)
    if first == "":
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable("an empty suffix range cannot be satisfied", size=size)
        return max(0, size - suffix), size - 1
    start = _position(first)
    end = size - 1 if last == "" else _position(last)
    if end < start:
        raise RangeNotSatisfiable(f"malformed Range header {header!r}", size=size)
    if start >= size:
        raise RangeNotSatisfiable(f"the range starts beyond the size {size}", size=size)
    return start, min(end, size - 1)


async def _stream(reader: ObjectReader, key: str) -> AsyncIterator[bytes]:
    iterator = iter(reader)
    try:
        while True:
            try:
                chunk = await anyio.to_thread.run_sync(next, iterator, None)
            except StorageError as exc:
                log.error("reading %s failed mid-response: %s", key, exc)
                raise
            if chunk is None:
                return
            yield chunk
    finally:
        reader.close()


def _open(store: ObjectStore, version: DocumentVersion, byte_range: tuple[int, int] | None):  # type: ignore[no-untyped-def]
    try:
        return store.open(version.object_key, byte_range)
    except ObjectNotFound as exc:
        log.error("object %s of a version row is missing (run eakte fsck)", version.object_key)
        raise ContentUnavailable("the stored content of this version is missing") from exc
    except StorageError as exc:
        log.error("cannot open %s: %s", version.object_key, exc)
        raise ContentUnavailable("the object store cannot deliver this content now") from exc


SMALL_OBJECT_BYTES = 512 * 1024  # read whole into memory: bounded by workers × this


def _check_length(reader: ObjectReader, version: DocumentVersion, length: int) -> None:
    if reader.length != length:
        reader.close()
        log.error(
            "object %s has %d bytes, its row says %d", version.object_key, reader.length, length
        )
        raise ContentUnavailable("the stored content does not match its record (run eakte fsck)")


def _read_small(
    store: ObjectStore, version: DocumentVersion, byte_range: tuple[int, int] | None, length: int
) -> bytes:
    reader = _open(store, version, byte_range)
    _check_length(reader, version, length)
    try:
        with reader:
            body = reader.read_all()
    except StorageError as exc:
        log.error("reading %s failed: %s", version.object_key, exc)
        raise ContentUnavailable("the object store cannot deliver this content now") from exc
    if len(body) != length:
        log.error("object %s ended after %d of %d bytes", version.object_key, len(body), length)
        raise ContentUnavailable("the stored content does not match its record (run eakte fsck)")
    return body


async def content_response(
    store: ObjectStore,
    version: DocumentVersion,
    *,
    method: str,
    headers: Mapping[str, str],
) -> Response:
    """A 200/206/304 response for a version's content (no body for HEAD and 304)."""
    if version.status != VERSION_OK:
        raise ContentUnavailable(
            "this version's stored content failed the integrity check "
            f"(marked {version.status} at {version.broken_at}); restore it from backup"
        )
    etag = etag_of(version)
    size = version.size
    common = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "Last-Modified": format_datetime(version.created_at, usegmt=True),
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": content_disposition(version.filename),
    }
    if none_match(headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=common)
    byte_range = parse_range(
        headers.get("range"), size, if_range=headers.get("if-range"), etag=etag
    )
    status, length = 200, size
    if byte_range is not None:
        start, end = byte_range
        status, length = 206, end - start + 1
        common["Content-Range"] = f"bytes {start}-{end}/{size}"
    common["Content-Length"] = str(length)
    if method == "HEAD":
        return Response(status_code=status, headers=common, media_type=version.media_type)
    if length <= SMALL_OBJECT_BYTES:
        # one trip to a worker thread for open and read (most plans and letters are small):
        # per-chunk streaming costs more thread hops than the bytes take to send
        body = await anyio.to_thread.run_sync(_read_small, store, version, byte_range, length)
        return Response(body, status_code=status, headers=common, media_type=version.media_type)
    reader = await anyio.to_thread.run_sync(_open, store, version, byte_range)
    _check_length(reader, version, length)
    return StreamingResponse(
        _stream(reader, version.object_key),
        status_code=status,
        headers=common,
        media_type=version.media_type,
    )
