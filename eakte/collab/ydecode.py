"""Read the shape of a Yjs v1 update without applying it: whose structs, which deletions.

The room must decide *before* an update touches its document whether it may be applied:
a read-only client may add nothing, a writer may only add structs under its own client ids,
and nothing may be left waiting for dependencies inside the document (yrs keeps such
"pending" structs and delete sets and applies them later, when someone else's update fills
the gap). This module walks the binary format of yjs `encoding.js` (update v1): the struct
section (per client: count, client, first clock, structs) and the delete set. It never
builds content, so its cost is linear in the bytes and independent of the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# content refs of yjs (`info & 0x1f`)
_GC, _DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = range(11)
_XML_ELEMENT, _XML_HOOK = 3, 5  # type refs that carry a node name
_MAX_DEPTH = 64  # nesting of lib0 `any` values (objects in arrays in objects …)
# lib0 `readVarUint` refuses integers a JavaScript number cannot hold exactly, so no Yjs
# client can send a larger client id or clock; accepting one would also let an update claim
# a client id the database's 64-bit integer column cannot store (the whole batch's commit
# then fails, every writer's edits with it)
MAX_SAFE_INTEGER = 2**53 - 1


class UpdateFormatError(ValueError):
    """The bytes are not a Yjs v1 update."""


@dataclass(slots=True)
class ClientRun:
    """The structs of one client in an update: clocks [start, end), holes (Skip) or not."""

    client: int
    start: int
    end: int
    contiguous: bool = True


@dataclass(slots=True)
class UpdateShape:
    """What an update would add (struct runs), need (origins, parents) and delete."""

    runs: list[ClientRun] = field(default_factory=list)
    needs: list[tuple[int, int]] = field(default_factory=list)  # (client, clock) it refers to
    deletes: list[tuple[int, int, int]] = field(default_factory=list)  # (client, clock, length)

    @property
    def adds(self) -> bool:
        return any(run.end > run.start for run in self.runs)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0x80:  # most varints of an update are one byte
            self.pos = pos + 1
            return data[pos]
        value = 0
        shift = 0
        while True:
            if pos >= len(data):
                raise UpdateFormatError("truncated varint")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                if value > MAX_SAFE_INTEGER:
                    raise UpdateFormatError("integer out of range (more than 53 bits)")
                self.pos = pos
                return value
            shift += 7
            if shift > 56:
                raise UpdateFormatError("varint too long")

    def int(self) -> None:
        byte = self.byte()
        while byte & 0x80:
            byte = self.byte()

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise UpdateFormatError("truncated update")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def skip(self, count: int) -> None:
        if self.pos + count > len(self.data):
            raise UpdateFormatError("truncated update")
        self.pos += count

    def buffer(self) -> bytes:
        length = self.uint()
        start = self.pos
        self.skip(length)
        return self.data[start : self.pos]

    def string(self) -> str:
        try:
            return self.buffer().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UpdateFormatError("string is not UTF-8") from exc

    def any(self, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            raise UpdateFormatError("value nested too deeply")
        tag = self.byte()
        if tag in (127, 126, 121, 120):  # undefined, null, false, true
            return
        if tag == 125:
            self.int()
        elif tag == 124:
            self.skip(4)
        elif tag in (123, 122):
            self.skip(8)
        elif tag in (119, 116):
            self.buffer()
        elif tag == 118:
            for _ in range(self.uint()):
                self.buffer()
                self.any(depth + 1)
        elif tag == 117:
            for _ in range(self.uint()):
                self.any(depth + 1)
        else:
            raise UpdateFormatError(f"unknown value tag {tag}")


def _content_length(reader: _Reader, ref: int) -> int:
    if ref == _DELETED:
        return reader.uint()
    if ref == _JSON:
        count = reader.uint()
        for _ in range(count):
            reader.buffer()
        return count
    if ref == _BINARY:
        reader.buffer()
        return 1
    if ref == _STRING:
        return len(reader.string().encode("utf-16-le")) // 2  # clocks count UTF-16 units
    if ref == _EMBED:
        reader.buffer()
        return 1
    if ref == _FORMAT:
        reader.buffer()
        reader.buffer()
        return 1
    if ref == _TYPE:
        if reader.uint() in (_XML_ELEMENT, _XML_HOOK):
            reader.buffer()
        return 1
    if ref == _ANY:
        count = reader.uint()
        for _ in range(count):
            reader.any()
        return count
    if ref == _DOC:
        reader.buffer()
        reader.any()
        return 1
    raise UpdateFormatError(f"unknown content type {ref}")


def shape(update: bytes) -> UpdateShape:
    """Decode the struct headers and the delete set of a v1 update."""
    reader = _Reader(update)
    out = UpdateShape()
    for _ in range(reader.uint()):
        count = reader.uint()
        client = reader.uint()
        clock = reader.uint()
        run = ClientRun(client, clock, clock)
        for _ in range(count):
            info = reader.byte()
            ref = info & 0x1F
            if ref in (_GC, _SKIP):
                length = reader.uint()
                if ref == _SKIP:
                    run.contiguous = False
            else:
                if info & 0x80:
                    out.needs.append((reader.uint(), reader.uint()))
                if info & 0x40:
                    out.needs.append((reader.uint(), reader.uint()))
                if not info & 0xC0:
                    if reader.uint() == 1:
                        reader.buffer()  # a root type by name
                    else:
                        out.needs.append((reader.uint(), reader.uint()))
                    if info & 0x20:
                        reader.buffer()  # map key
                length = _content_length(reader, ref)
            clock += length
        run.end = clock
        out.runs.append(run)
    for _ in range(reader.uint()):
        client = reader.uint()
        for _ in range(reader.uint()):
            start = reader.uint()
            length = reader.uint()
            if length:
                out.deletes.append((client, start, length))
    if reader.pos != len(update):
        raise UpdateFormatError("trailing bytes after the update")
    return out


def decode_state_vector(data: bytes) -> dict[int, int]:
    """An encoded state vector as {client: clock}.

    Decoded once per applied update (the room's clocks), so the varints are read inline
    rather than through `_Reader` (a third of the cost).
    """
    values = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            values.append(value)
            value = shift = 0
        else:
            shift += 7
            if shift > 63:
                raise UpdateFormatError("varint too long")
    if shift or not values or len(values) != 1 + 2 * values[0]:
        raise UpdateFormatError("malformed state vector")
    return dict(zip(values[1::2], values[2::2], strict=True))


def covered(ranges: dict[int, list[tuple[int, int]]], client: int, start: int, end: int) -> bool:
    """True if [start, end) of `client` lies within the sorted, merged `ranges`."""
    for lo, hi in ranges.get(client, ()):
        if lo <= start < hi:
            if end <= hi:
                return True
            start = hi
        elif lo > start:
            return False
    return start >= end


def merged_ranges(deletes: list[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
    """Delete-set entries as sorted, merged [start, end) ranges per client."""
    by_client: dict[int, list[tuple[int, int]]] = {}
    for client, start, length in deletes:
        by_client.setdefault(client, []).append((start, start + length))
    for client, ranges in by_client.items():
        ranges.sort()
        merged: list[tuple[int, int]] = []
        for lo, hi in ranges:
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        by_client[client] = merged
    return by_client
