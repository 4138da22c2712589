"""Build the process's object store from the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from eakte.config import ConfigError, Settings
from storage import (
    FilesystemStore,
    IncompleteBody,
    InvalidKey,
    InvalidRange,
    ObjectEntry,
    ObjectInfo,
    ObjectNotFound,
    ObjectReader,
    ObjectStore,
    ObjectTooLarge,
    Readable,
    S3Store,
    StorageError,
)

# what a request causes, not the store: a missing object (existence checks, 404s), a body
# over the limit or cut off by the client, a bad key or range
NOT_STORE_FAILURES = (ObjectNotFound, ObjectTooLarge, IncompleteBody, InvalidKey, InvalidRange)


def build_store(settings: Settings) -> ObjectStore:
    """A `FilesystemStore` under `$EAKTE_DATA_DIR/objects`, or an `S3Store` (EAKTE_S3_*)."""
    if settings.storage == "filesystem":
        return FilesystemStore(settings.data_dir / "objects")
    if not settings.s3_endpoint:
        raise ConfigError("EAKTE_STORAGE=s3 needs EAKTE_S3_ENDPOINT (e.g. http://127.0.0.1:9000)")
    try:
        return S3Store(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            settings.s3_bucket,
            region=settings.s3_region,
            secure=settings.s3_secure,
            create_bucket=settings.s3_create_bucket,
            part_size=settings.s3_part_size_mib * 1024 * 1024,
        )
    except (StorageError, ValueError) as exc:
        raise ConfigError(
            f"cannot use the S3 bucket {settings.s3_bucket!r} at {settings.s3_endpoint}: {exc}"
        ) from exc


class CountingStore:
    """An `ObjectStore` that counts the failures and the bytes written of the store it wraps
    (issue 19: object-store errors on /metrics); see NOT_STORE_FAILURES for what is not."""

    def __init__(
        self,
        inner: ObjectStore,
        on_error: Callable[[str, str], None],
        on_written: Callable[[int], None],
    ) -> None:
        self.inner = inner
        self._on_error = on_error
        self._on_written = on_written

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.inner, operation)(*args, **kwargs)
        except NOT_STORE_FAILURES:
            raise
        except (StorageError, OSError) as exc:
            self._on_error(operation, exc.__class__.__name__)
            raise

    def put(
        self,
        key: str,
        stream: Readable,
        length: int | None,
        content_type: str,
        *,
        max_size: int | None = None,
    ) -> ObjectInfo:
        info: ObjectInfo = self._call("put", key, stream, length, content_type, max_size=max_size)
        self._on_written(info.size)
        return info

    def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectReader:
        return self._call("open", key, byte_range)  # type: ignore[no-any-return]

    def head(self, key: str) -> ObjectInfo:
        return self._call("head", key)  # type: ignore[no-any-return]

    def hash(self, key: str) -> str:
        return self._call("hash", key)  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def iter_keys(self, prefix: str = "") -> Iterator[ObjectEntry]:
        return self._call("iter_keys", prefix)  # type: ignore[no-any-return]

    def purge_temp(self, older_than: timedelta) -> int:
        return self._call("purge_temp", older_than)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:  # anything store-specific (bucket, close, …)
        return getattr(self.inner, name)
