"""Validation of object keys such as ``{tenant}/{case}/{document}/{version}``."""

from __future__ import annotations

import re

from storage.errors import InvalidKey

MAX_KEY_BYTES = 1024  # the S3 limit
MAX_SEGMENT_BYTES = 255  # NAME_MAX on common filesystems

# Segments starting with "." are reserved for the stores' own files (temp objects, sidecars).
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid object key, else raise ``InvalidKey``."""
    if not isinstance(key, str):
        raise InvalidKey(key, "must be a string")
    if not key:
        raise InvalidKey(key, "must not be empty")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"longer than {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        _check_segment(key, segment)
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` unchanged if it may start a valid key ("" lists all), else raise."""
    if not isinstance(prefix, str):
        raise InvalidKey(prefix, "must be a string")
    if not prefix:
        return prefix
    if len(prefix.encode()) > MAX_KEY_BYTES:
        raise InvalidKey(prefix, f"longer than {MAX_KEY_BYTES} bytes")
    *complete, last = prefix.split("/")
    for segment in complete:
        _check_segment(prefix, segment)
    if last:
        _check_segment(prefix, last)
    return prefix


def _check_segment(key: str, segment: str) -> None:
    if not segment:
        raise InvalidKey(key, "empty path segment (leading, trailing or double slash)")
    if segment in (".", ".."):
        raise InvalidKey(key, "'.' and '..' segments are not allowed")
    if len(segment.encode()) > MAX_SEGMENT_BYTES:
        raise InvalidKey(key, f"segment longer than {MAX_SEGMENT_BYTES} bytes")
    if _SEGMENT.fullmatch(segment) is None:
        raise InvalidKey(key, "segments use only A-Z a-z 0-9 . _ - and must not start with '.'")
