"""Receive a multipart upload as a stream: sniff, check, and pipe the file into the store.

The body is parsed incrementally (python-multipart's callback parser) from the request's
byte stream; nothing is spooled to disk or held in memory beyond a small bounded buffer.
The file part's first bytes are sniffed by libmagic and checked against the tenant's
allow-list and the filename's extension before anything is written; then the bytes flow
through a `BytePipe` into `ObjectStore.put`, running in a worker thread, which hashes,
counts and size-limits them. On any failure the object under the new key is removed, so
a rejected upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from eakte.documents.content import TAIL_BYTES, check_content
from eakte.documents.errors import (
    EmptyUpload,
    MalformedUpload,
    NotMultipart,
    StorageUnavailable,
    UploadTooLarge,
    UploadTooSlow,
)
from eakte.documents.media import SNIFF_BYTES, check_type, detect, sanitize_filename
from eakte.documents.pipe import BytePipe, ReaderGone, WriterFailed
from eakte.errors import ValidationFailed
from storage import ObjectInfo, ObjectStore, ObjectTooLarge, StorageError

log = logging.getLogger("eakte.documents")

FILE_FIELD = "file"
MAX_FIELD_BYTES = 16 * 1024
MULTIPART_SLACK = 64 * 1024 + 4 * MAX_FIELD_BYTES


@dataclass(frozen=True)
class UploadPolicy:
    """What a tenant accepts: media types (as libmagic names them) and a size limit."""

    allowed_media_types: list[str]
    max_bytes: int


@dataclass(frozen=True)
class UploadPace:
    """How slowly a client may send (issue 18): a pause between chunks of at most
    `idle_seconds`, and after `grace_seconds` an average of `min_bytes_per_second`."""

    idle_seconds: float = 30.0
    min_bytes_per_second: int = 0
    grace_seconds: float = 20.0

    async def watch(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass `body` through; 408 when it stalls or trickles."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        received = 0
        iterator = aiter(body)
        while True:
            try:
                async with asyncio.timeout(self.idle_seconds):
                    chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise UploadTooSlow(
                    f"no data for {self.idle_seconds:g} s; the upload was cancelled"
                ) from exc
            received += len(chunk)
            elapsed = loop.time() - started
            if (
                self.min_bytes_per_second
                and elapsed > self.grace_seconds
                and received < self.min_bytes_per_second * elapsed
            ):
                raise UploadTooSlow(
                    f"the upload arrives slower than {self.min_bytes_per_second} bytes/s"
                )
            yield chunk


@dataclass(frozen=True)
class StoredFile:
    """The file part, written under `key`."""

    key: str
    info: ObjectInfo
    filename: str
    media_type: str


@dataclass
class Upload:
    """The outcome of a complete multipart body: its text fields and the stored file."""

    fields: dict[str, str]
    file: StoredFile


FieldCheck = Callable[[dict[str, str], bool], None]


def _upload_too_large(policy: UploadPolicy) -> UploadTooLarge:
    return UploadTooLarge(
        f"the file exceeds this authority's limit of {policy.max_bytes} bytes",
        detail_de=f"Die Datei ist größer als die Höchstgrenze dieser Behörde "
        f"({policy.max_bytes} Byte)",
        max_bytes=policy.max_bytes,
    )


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary of a Content-Type header (415/400 if there is none)."""
    media, params = parse_options_header(content_type or "")
    if media != b"multipart/form-data":
        raise NotMultipart("send the file as multipart/form-data (fields: file, title, kind)")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise MalformedUpload("the multipart Content-Type has no usable boundary")
    return boundary


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Part:
    def __init__(self, headers: dict[bytes, bytes]) -> None:
        disposition, params = parse_options_header(headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise MalformedUpload("a part lacks Content-Disposition: form-data; name=…")
        self.name = _decode(params[b"name"])
        raw_filename = params.get(b"filename")
        self.is_file = raw_filename is not None or self.name == FILE_FIELD
        self.filename = _decode(raw_filename or b"")
        self.data = bytearray()


class UploadReceiver:
    """Parses one multipart body; see the module docstring."""

    def __init__(
        self,
        *,
        store: ObjectStore,
        key: str,
        policy: UploadPolicy,
        field_names: frozenset[str],
        check_fields: FieldCheck,
        pace: UploadPace | None = None,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> None:
        self.pace = pace or UploadPace()
        self.limiter = limiter
        self.store = store
        self.key = key
        self.policy = policy
        self.field_names = field_names
        self.check_fields = check_fields
        self.fields: dict[str, str] = {}
        self.file: StoredFile | None = None
        self._events: list[tuple[str, object]] = []
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._part: _Part | None = None
        self._ended = False
        self._file_seen = False
        self._head: list[bytes] = []
        self._head_size = 0
        self._sniffed = b""
        self._tail = bytearray()
        self._file_size = 0
        self._media_type = ""
        self._filename = ""
        self._pipe: BytePipe | None = None
        self._put: asyncio.Future[ObjectInfo] | None = None

    async def receive(
        self, *, content_type: str | None, content_length: str | None, body: AsyncIterator[bytes]
    ) -> Upload:
        """Consume the whole body; return the fields and the stored file, or raise."""
        boundary = boundary_of(content_type)
        cap = self.policy.max_bytes + MULTIPART_SLACK
        if content_length and content_length.isdigit() and int(content_length) > cap:
            raise _upload_too_large(self.policy)
        parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )
        received = 0
        try:
            try:
                async for chunk in self.pace.watch(body):
                    received += len(chunk)
                    if received > cap:
                        raise _upload_too_large(self.policy)
                    try:
                        parser.write(chunk)
                    except MultipartParseError as exc:
                        raise MalformedUpload(f"the multipart body is malformed: {exc}") from exc
                    for event, payload in self._events:
                        await self._handle(event, payload)
                    self._events.clear()
                    if self._ended:
                        break
            except ClientDisconnect as exc:
                raise MalformedUpload("the client disconnected during the upload") from exc
            if not self._ended:
                raise MalformedUpload("the body ended before the closing multipart boundary")
            if self.file is None:
                raise ValidationFailed(
                    "the multipart body has no file part named 'file'",
                    errors=[{"loc": ["body", FILE_FIELD], "msg": "required", "type": "missing"}],
                )
            self.check_fields(self.fields, True)
            return Upload(fields=self.fields, file=self.file)
        except BaseException:
            await self.discard()
            raise

    async def discard(self) -> None:
        """Abort a running put and remove whatever was stored under the key (best effort)."""
        if self._pipe is not None:
            self._pipe.fail()
        put, self._put = self._put, None
        if put is None:
            return
        try:
            await asyncio.shield(put)
        except BaseException:
            return  # nothing reached the final key
        await remove_object(self.store, self.key)

    # -- parser callbacks (synchronous; they only record what they saw) -----------------

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        self._events.append(("headers", self._headers))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(("part_end", None))

    def _on_end(self) -> None:
        self._events.append(("end", None))

    # -- event handling (async: may wait for the store) ----------------------------------

    async def _handle(self, event: str, payload: object) -> None:
        if event == "headers":
            assert isinstance(payload, dict)
            self._begin_part(_Part(payload))
        elif event == "data":
            assert isinstance(payload, bytes) and self._part is not None
            if self._part.is_file:
                await self._file_data(payload)
            else:
                self._part.data += payload
                if len(self._part.data) > MAX_FIELD_BYTES:
                    raise ValidationFailed(f"field {self._part.name!r} is too long")
        elif event == "part_end":
            part, self._part = self._part, None
            assert part is not None
            if part.is_file:
                await self._file_end()
            else:
                self.fields[part.name] = _decode(bytes(part.data))
                self.check_fields(self.fields, False)
        elif event == "end":
            self._ended = True

    def _begin_part(self, part: _Part) -> None:
        if part.is_file:
            if part.name != FILE_FIELD:
                raise ValidationFailed(f"unexpected file field {part.name!r}; use 'file'")
            if self._file_seen:
                raise ValidationFailed("send exactly one file per request")
            self._file_seen = True
            self._filename = sanitize_filename(part.filename)
        else:
            if part.name not in self.field_names:
                allowed = ", ".join(sorted(self.field_names | {FILE_FIELD}))
                raise ValidationFailed(f"unknown field {part.name!r}; expected: {allowed}")
            if part.name in self.fields:
                raise ValidationFailed(f"field {part.name!r} was sent twice")
        self._part = part

    async def _file_data(self, data: bytes) -> None:
        self._file_size += len(data)
        if self._file_size > self.policy.max_bytes:
            raise _upload_too_large(self.policy)
        self._tail += data
        if len(self._tail) > TAIL_BYTES:
            del self._tail[: len(self._tail) - TAIL_BYTES]
        if self._pipe is None:
            self._head.append(data)
            self._head_size += len(data)
            if self._head_size >= SNIFF_BYTES:
                await self._start_put()
            return
        try:
            await self._pipe.write(data)
        except ReaderGone:
            await self._raise_put_error()

    async def _file_end(self) -> None:
        if self._pipe is None:
            if self._head_size == 0:
                raise EmptyUpload(
                    "the file is empty (0 bytes)", detail_de="Die Datei ist leer (0 Byte)"
                )
            await self._start_put()
        assert self._pipe is not None and self._put is not None
        self._pipe.close()
        info = await self._put_result()
        await anyio.to_thread.run_sync(
            check_content, self._media_type, self._sniffed, bytes(self._tail), info.size
        )
        self.file = StoredFile(
            key=self.key, info=info, filename=self._filename, media_type=self._media_type
        )

    async def _start_put(self) -> None:
        head = b"".join(self._head)
        self._head = []
        self._sniffed = head[:SNIFF_BYTES]
        self._media_type = await anyio.to_thread.run_sync(detect, self._sniffed)
        check_type(self._media_type, self._filename, self.policy.allowed_media_types)
        self.check_fields(self.fields, False)
        pipe = self._pipe = BytePipe()
        store, key, media_type, limit = (
            self.store,
            self.key,
            self._media_type,
            self.policy.max_bytes,
        )

        def _put() -> ObjectInfo:
            try:
                return store.put(key, pipe, None, media_type, max_size=limit)
            finally:
                pipe.reader_done()

        self._put = asyncio.ensure_future(anyio.to_thread.run_sync(_put, limiter=self.limiter))
        try:
            await pipe.write(head)
        except ReaderGone:
            await self._raise_put_error()

    async def _put_result(self) -> ObjectInfo:
        assert self._put is not None
        try:
            return await asyncio.shield(self._put)
        except ObjectTooLarge as exc:
            raise _upload_too_large(self.policy) from exc
        except WriterFailed as exc:
            raise MalformedUpload("the upload was aborted") from exc
        except StorageError as exc:
            log.error("storing %s failed: %s", self.key, exc)
            raise StorageUnavailable("the object store failed; retry later") from exc

    async def _raise_put_error(self) -> None:
        await self._put_result()
        raise StorageUnavailable("the object store stopped reading the upload")


async def remove_object(store: ObjectStore, key: str) -> None:
    """Delete an object that no row refers to; failures are logged (fsck finds leftovers)."""
    try:
        await anyio.to_thread.run_sync(store.delete, key)
    except (StorageError, OSError) as exc:
        log.warning("could not remove %s after a failed upload: %s (fsck will)", key, exc)
