"""Build the process's object store from the settings."""

from __future__ import annotations

from eakte.config import ConfigError, Settings
from storage import FilesystemStore, ObjectStore, S3Store, StorageError


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
