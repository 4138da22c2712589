"""The ``ObjectStore`` contract, run against every backend (fixture ``store``)."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    IncompleteBody,
    InvalidKey,
    InvalidRange,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
)
from storage.testing import PatternStream, corrupt_object, raw_names

MiB = 1024 * 1024
KEY = "augsburg/c-2024-0001/d-17/0b7e8f0e-9a49-4c55-a4cf-a2e0a8ffb0d4"
BODY = bytes(range(256)) * 40 + b"tail"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_bytes(store: ObjectStore, key: str, data: bytes, ctype: str = "application/pdf") -> None:
    store.put(key, io.BytesIO(data), len(data), ctype)


def test_backends_implement_the_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


@pytest.mark.parametrize("known_length", [True, False], ids=["length", "no-length"])
def test_round_trip(store: ObjectStore, known_length: bool) -> None:
    length = len(BODY) if known_length else None
    info = store.put(KEY, io.BytesIO(BODY), length, "application/pdf")

    assert (info.key, info.size, info.sha256) == (KEY, len(BODY), sha(BODY))
    assert info.content_type == "application/pdf"
    assert info.etag and '"' not in info.etag
    assert info.last_modified.tzinfo is not None
    assert abs(info.last_modified - datetime.now(UTC)) < timedelta(minutes=5)
    assert store.head(KEY) == info
    with store.open(KEY) as reader:
        assert reader.length == len(BODY)
        assert reader.read_all() == BODY


def test_empty_body(store: ObjectStore) -> None:
    info = store.put(KEY, io.BytesIO(b""), 0, "text/plain")

    assert (info.size, info.sha256) == (0, sha(b""))
    assert store.open(KEY).read_all() == b""
    with pytest.raises(InvalidRange):
        store.open(KEY, (0, 0))


def test_overwrite_replaces_the_object(store: ObjectStore) -> None:
    put_bytes(store, KEY, b"first version")
    info = store.put(KEY, io.BytesIO(b"second"), None, "text/plain")

    assert store.head(KEY) == info
    assert store.open(KEY).read_all() == b"second"


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [
        ((0, 0), BODY[:1]),
        ((0, 99), BODY[:100]),
        ((1000, 5000), BODY[1000:5001]),
        ((len(BODY) - 4, len(BODY) - 1), b"tail"),
        ((len(BODY) - 1, len(BODY) - 1), b"l"),
        ((len(BODY) - 2, len(BODY) + 100), b"il"),
    ],
    ids=["first-byte", "start", "middle", "end", "last-byte", "end-clamped"],
)
def test_byte_ranges(store: ObjectStore, byte_range: tuple[int, int], expected: bytes) -> None:
    put_bytes(store, KEY, BODY)

    with store.open(KEY, byte_range) as reader:
        assert reader.length == len(expected)
        assert reader.read_all() == expected


@pytest.mark.parametrize("byte_range", [(len(BODY), len(BODY) + 5), (5, 4), (-1, 3)])
def test_bad_ranges(store: ObjectStore, byte_range: tuple[int, int]) -> None:
    put_bytes(store, KEY, BODY)

    with pytest.raises(InvalidRange):
        store.open(KEY, byte_range)


def test_reader_can_be_closed_early(store: ObjectStore) -> None:
    put_bytes(store, KEY, bytes(3 * MiB))

    reader = store.open(KEY)
    first = next(iter(reader))
    reader.close()
    reader.close()

    assert 0 < len(first) <= 3 * MiB
    assert store.open(KEY, (0, 9)).read_all() == bytes(10)


@pytest.mark.parametrize("sent", [len(BODY) - 1, len(BODY) + 1], ids=["short", "long"])
def test_length_mismatch_stores_nothing(store: ObjectStore, sent: int) -> None:
    body = (BODY * 2)[:sent]

    with pytest.raises(IncompleteBody):
        store.put(KEY, io.BytesIO(body), len(BODY), "application/pdf")

    assert raw_names(store) == []
    with pytest.raises(ObjectNotFound):
        store.head(KEY)


@pytest.mark.parametrize("max_size", [3 * MiB + 7, 12 * MiB], ids=["one-part", "multipart"])
def test_too_large_stream_stores_nothing(store: ObjectStore, max_size: int) -> None:
    endless = PatternStream(None)

    with pytest.raises(ObjectTooLarge):
        store.put(KEY, endless, None, "application/pdf", max_size=max_size)

    assert endless.consumed == max_size + 1
    assert raw_names(store) == []


def test_declared_length_over_max_size_is_rejected_before_reading(store: ObjectStore) -> None:
    stream = PatternStream(10 * MiB)

    with pytest.raises(ObjectTooLarge):
        store.put(KEY, stream, 10 * MiB, "application/pdf", max_size=MiB)

    assert stream.consumed == 0
    assert raw_names(store) == []


def test_body_of_exactly_max_size_is_accepted(store: ObjectStore) -> None:
    info = store.put(KEY, io.BytesIO(BODY), None, "application/pdf", max_size=len(BODY))

    assert info.size == len(BODY)


def test_source_error_propagates_and_stores_nothing(store: ObjectStore) -> None:
    stream = PatternStream(8 * MiB, fail_after=6 * MiB)

    with pytest.raises(ConnectionResetError):
        store.put(KEY, stream, 8 * MiB, "application/pdf")

    assert raw_names(store) == []


def test_missing_key(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.head(KEY)
    with pytest.raises(ObjectNotFound):
        store.open(KEY)
    with pytest.raises(ObjectNotFound):
        store.open(KEY, (0, 1))
    with pytest.raises(ObjectNotFound):
        store.hash(KEY)
    store.delete(KEY)


def test_delete_is_idempotent(store: ObjectStore) -> None:
    put_bytes(store, KEY, BODY)

    store.delete(KEY)
    store.delete(KEY)

    with pytest.raises(ObjectNotFound):
        store.head(KEY)
    assert raw_names(store) == []


def test_iter_keys_by_prefix(store: ObjectStore) -> None:
    keys = ["t1/c1/d1/v1", "t1/c1/d2/v1", "t1/c2/d1/v1", "t1-x/c/d/v", "t10/c1/d1/v1", "t2/c/d/v"]
    for i, key in enumerate(reversed(keys)):
        put_bytes(store, key, b"x" * i)

    def listed(prefix: str) -> list[str]:
        return [entry.key for entry in store.iter_keys(prefix)]

    assert listed("") == sorted(keys)
    assert listed("t1/") == ["t1/c1/d1/v1", "t1/c1/d2/v1", "t1/c2/d1/v1"]
    assert listed("t1/c1/") == ["t1/c1/d1/v1", "t1/c1/d2/v1"]
    assert listed("t1/c1/d1/v1") == ["t1/c1/d1/v1"]
    assert listed("t1") == [
        "t1-x/c/d/v",
        "t1/c1/d1/v1",
        "t1/c1/d2/v1",
        "t1/c2/d1/v1",
        "t10/c1/d1/v1",
    ]
    assert listed("t3/") == []
    entry = next(store.iter_keys("t2/"))
    assert entry.size == 0 and entry.last_modified.tzinfo is not None


BAD_KEYS = [
    "",
    "/abs/key",
    "a//b",
    "a/b/",
    "../a",
    "a/../b",
    "a/./b",
    "a\\b",
    "a\x00b",
    "a\nb",
    ".tmp/x",
    "a/.hidden",
    "a b",
    "ümlaut/x",
    "x" * 1025,
    "a/" + "y" * 256,
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=range(len(BAD_KEYS)))
def test_invalid_keys_are_rejected(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, io.BytesIO(b"x"), 1, "text/plain")
    for call in (store.head, store.open, store.hash, store.delete):
        with pytest.raises(InvalidKey):
            call(key)
    assert raw_names(store) == []


@pytest.mark.parametrize("prefix", ["/a", "../", "a//", ".tmp/", "a/.x", "a\\"])
def test_invalid_prefixes_are_rejected(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(store.iter_keys(prefix))


def test_multipart_sized_body_streams_with_bounded_memory(store: ObjectStore) -> None:
    size = 40 * MiB
    stream = PatternStream(size, seed=7)
    tracemalloc.start()
    try:
        info = store.put(KEY, stream, None, "application/pdf")
        digest = store.hash(KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    expected = PatternStream(size, seed=7).sha256()
    assert (info.size, info.sha256, digest) == (size, expected, expected)
    assert store.head(KEY).sha256 == expected
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB"
    tail = store.open(KEY, (size - 10, size - 1)).read_all()
    assert tail == PatternStream(size, seed=7).read(size)[-10:]


def test_hash_detects_a_flipped_byte(store: ObjectStore) -> None:
    info = store.put(KEY, io.BytesIO(BODY), len(BODY), "application/pdf")
    assert store.hash(KEY) == info.sha256

    corrupt_object(store, KEY)

    assert store.head(KEY).sha256 == info.sha256
    assert store.hash(KEY) != info.sha256
