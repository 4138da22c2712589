"""The one exception family raised by object stores."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every error an object store raises (backend failures included)."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object not found: {key!r}")
        self.key = key


class ObjectTooLarge(StorageError):
    """The body is larger than the allowed maximum; nothing was stored."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"body exceeds the maximum size of {max_size} bytes")
        self.max_size = max_size


class IncompleteBody(StorageError):
    """The body was shorter or longer than its declared length; nothing was stored."""

    def __init__(self, expected: int, received: int) -> None:
        more = "at least " if received > expected else ""
        super().__init__(f"expected {expected} bytes, received {more}{received}")
        self.expected = expected
        self.received = received


class InvalidKey(StorageError, ValueError):
    """The key (or prefix) is not a well-formed object key."""

    def __init__(self, key: object, reason: str) -> None:
        super().__init__(f"invalid key {key!r}: {reason}")
        self.key = key
        self.reason = reason


class InvalidRange(StorageError, ValueError):
    """The byte range is malformed or cannot be satisfied for the object's size."""
