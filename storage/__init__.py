"""Object storage for E-Akte Bau: the ``ObjectStore`` protocol and its backends."""

from storage.base import ObjectEntry, ObjectInfo, ObjectReader, ObjectStore, Readable
from storage.errors import (
    IncompleteBody,
    InvalidKey,
    InvalidRange,
    ObjectNotFound,
    ObjectTooLarge,
    StorageError,
)
from storage.filesystem import FilesystemStore
from storage.keys import validate_key, validate_prefix
from storage.s3 import S3Store

__all__ = [
    "FilesystemStore",
    "IncompleteBody",
    "InvalidKey",
    "InvalidRange",
    "ObjectEntry",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStore",
    "ObjectTooLarge",
    "Readable",
    "S3Store",
    "StorageError",
    "validate_key",
    "validate_prefix",
]
