"""The y-websocket wire protocol (y-protocols sync and awareness), pure Python.

A message is `varUint type` followed by its body: sync (0) carries `varUint step`
(0 step 1, 1 step 2, 2 update) and a `varUint8Array`; awareness (1) carries a
`varUint8Array` awareness update; query-awareness (3) has no body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3
SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2
MAX_VARUINT_BYTES = 8  # lib0 reads at most 53 bits
MAX_SAFE_INTEGER = 2**53 - 1  # lib0 `readVarUint` refuses anything larger


class ProtocolError(ValueError):
    """The bytes are not a well-formed y-websocket message."""


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded message: its type, the sync step (or -1) and the payload."""

    kind: int
    step: int
    payload: bytes


def write_var_uint(value: int) -> bytes:
    """lib0 `writeVarUint`."""
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """lib0 `readVarUint`: (value, next position); ProtocolError if truncated or too long."""
    value = 0
    shift = 0
    for count in range(MAX_VARUINT_BYTES):
        if pos >= len(data):
            raise ProtocolError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if value > MAX_SAFE_INTEGER:
                raise ProtocolError("integer out of range (more than 53 bits)")
            return value, pos
        shift += 7
        if count == MAX_VARUINT_BYTES - 1:
            break
    raise ProtocolError("varint too long")


def read_var_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """lib0 `readVarUint8Array`."""
    length, pos = read_var_uint(data, pos)
    end = pos + length
    if end > len(data):
        raise ProtocolError("truncated payload")
    return data[pos:end], end


def write_var_bytes(payload: bytes) -> bytes:
    """lib0 `writeVarUint8Array`."""
    return write_var_uint(len(payload)) + payload


def parse(data: bytes) -> Message:
    """Decode one message; unknown types, steps and trailing bytes are errors."""
    if len(data) > 2 and data[0] == MESSAGE_SYNC and data[1] == SYNC_UPDATE and data[2] < 0x80:
        # the common message, an update shorter than 128 bytes: read without the general path
        if len(data) != 3 + data[2]:
            raise ProtocolError(
                "truncated payload"
                if len(data) < 3 + data[2]
                else "trailing bytes after the message"
            )
        return Message(MESSAGE_SYNC, SYNC_UPDATE, data[3:])
    kind, pos = read_var_uint(data, 0)
    if kind == MESSAGE_SYNC:
        step, pos = read_var_uint(data, pos)
        if step not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
            raise ProtocolError(f"unknown sync step {step}")
        payload, pos = read_var_bytes(data, pos)
    elif kind == MESSAGE_AWARENESS:
        step = -1
        payload, pos = read_var_bytes(data, pos)
    elif kind == MESSAGE_QUERY_AWARENESS:
        step, payload = -1, b""
    elif kind == MESSAGE_AUTH:  # y-protocols auth: step 0 = permission denied, then a reason
        step, pos = read_var_uint(data, pos)
        payload, pos = read_var_bytes(data, pos)
    else:
        raise ProtocolError(f"unsupported message type {kind}")
    if pos != len(data):
        raise ProtocolError("trailing bytes after the message")
    return Message(kind, step, payload)


def sync_step1(state_vector: bytes) -> bytes:
    return b"\x00\x00" + write_var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return b"\x00\x01" + write_var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return b"\x00\x02" + write_var_bytes(update)


def awareness_message(update: bytes) -> bytes:
    return b"\x01" + write_var_bytes(update)


def permission_denied(reason: str) -> bytes:
    """y-protocols auth message "permission denied" with a reason (clients log or show it)."""
    return b"\x02\x00" + write_var_bytes(reason.encode("utf-8"))


@dataclass(slots=True)
class AwarenessEntry:
    """One client's awareness state (`state` is None when the client left)."""

    client_id: int
    clock: int
    state: dict[str, Any] | None


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    """y-protocols awareness update: count, then (clientID, clock, JSON state) each."""
    count, pos = read_var_uint(payload, 0)
    entries = []
    for _ in range(count):
        client_id, pos = read_var_uint(payload, pos)
        clock, pos = read_var_uint(payload, pos)
        raw, pos = read_var_bytes(payload, pos)
        try:
            state = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError("awareness state is not JSON") from exc
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("awareness state must be an object or null")
        entries.append(AwarenessEntry(client_id, clock, state))
    if pos != len(payload):
        raise ProtocolError("trailing bytes after the awareness update")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    """The inverse of `decode_awareness`."""
    out = [write_var_uint(len(entries))]
    for entry in entries:
        raw = json.dumps(entry.state, separators=(",", ":"), ensure_ascii=False).encode()
        out += [write_var_uint(entry.client_id), write_var_uint(entry.clock), write_var_bytes(raw)]
    return b"".join(out)
