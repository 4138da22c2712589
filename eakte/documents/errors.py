"""Problem types of the documents API (subclasses of the shared error family)."""

from __future__ import annotations

from typing import Any

from eakte.errors import (
    BadRequest,
    DomainError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)


class DocumentNotFound(NotFound):
    slug, title = "document-not-found", "Document not found"


class VersionNotFound(NotFound):
    slug, title = "version-not-found", "Document version not found"


class MediaTypeNotAllowed(UnsupportedMediaType):
    slug, title = "media-type-not-allowed", "This file type is not accepted"


class ExtensionMismatch(UnsupportedMediaType):
    slug, title = "extension-mismatch", "The file's content does not match its extension"


class NotMultipart(UnsupportedMediaType):
    slug, title = "multipart-required", "Send the upload as multipart/form-data"


class UploadTooSlow(DomainError):
    slug, title, status = "upload-too-slow", "The upload was sent too slowly", 408


class UploadTooLarge(PayloadTooLarge):
    slug, title = "upload-too-large", "The file exceeds the upload size limit"


class EmptyUpload(ValidationFailed):
    slug, title = "empty-upload", "The uploaded file is empty"


class MalformedUpload(BadRequest):
    slug, title = "malformed-upload", "The multipart body is malformed or incomplete"


class RangeNotSatisfiable(DomainError):
    slug, title, status = "range-not-satisfiable", "Range not satisfiable", 416

    def __init__(self, detail: str | None = None, *, size: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Content-Range"] = f"bytes */{size}"


class ContentUnavailable(ServiceUnavailable):
    slug, title = "content-unavailable", "The stored content of this version is unavailable"


class StorageUnavailable(ServiceUnavailable):
    slug, title = "storage-unavailable", "The object store is not reachable"


class PolyglotFile(UnsupportedMediaType):
    slug, title = "polyglot-file", "The file is also an archive (a polyglot)"


class ActiveContent(UnsupportedMediaType):
    slug, title = "active-content", "The file carries HTML or script content"


class ArchiveBomb(UnsupportedMediaType):
    slug, title = "archive-bomb", "The document's archive would inflate far beyond its size"


class DownloadLinkInvalid(NotFound):
    slug, title = "download-link-invalid", "The download link is malformed"


class DownloadLinkForged(DomainError):
    slug, title, status = "download-link-forged", "The download link is not genuine", 403


class DownloadLinkExpired(DomainError):
    slug, title, status = "download-link-expired", "The download link has expired", 403


class DownloadLinksUnavailable(ServiceUnavailable):
    slug, title = "download-links-unavailable", "Download links are not configured"
