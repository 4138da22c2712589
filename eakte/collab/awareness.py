"""Awareness (cursors, presence) from clients: bounded decoding and server-set identity.

A y-websocket client re-sends the states it hears about (its `update` handler does not filter
by origin), so a message may carry other clients' entries; those are skipped without being
decoded. Only the connection's own entry is parsed, and only up to a size cap. The server
writes `user.name` and `user.role` from the token and keeps `user.color` only in `#rrggbb` form,
so nothing a client sends can become CSS or markup in another editor's page.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from eakte.auth.principal import Principal
from eakte.collab.protocol import AwarenessEntry, ProtocolError, read_var_uint

MAX_ENTRIES = 256  # a client echoes at most the states of its room; more is a flood
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


class TooMuch(ValueError):
    """The awareness message exceeds the limits (entries or state size)."""


def decode_own(
    payload: bytes, max_state_bytes: int, *, own: int | None = None
) -> list[AwarenessEntry]:
    """The first entry (or the entry of `own`), decoded; the others are skipped unread.

    Work is bounded by MAX_ENTRIES varint triples and one JSON parse of at most
    `max_state_bytes`, whatever the message holds.
    """
    count, pos = read_var_uint(payload, 0)
    if count > MAX_ENTRIES:
        raise TooMuch(f"more than {MAX_ENTRIES} awareness states in one message")
    found: list[AwarenessEntry] = []
    for _ in range(count):
        client_id, pos = read_var_uint(payload, pos)
        clock, pos = read_var_uint(payload, pos)
        length, pos = read_var_uint(payload, pos)
        end = pos + length
        if end > len(payload):
            raise ProtocolError("truncated payload")
        if not found and (own is None or client_id == own):
            if length > max_state_bytes:
                raise TooMuch(f"awareness state larger than {max_state_bytes} bytes")
            try:
                state = json.loads(payload[pos:end].decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise ProtocolError("awareness state is not JSON") from exc
            if state is not None and not isinstance(state, dict):
                raise ProtocolError("awareness state must be an object or null")
            found.append(AwarenessEntry(client_id, clock, state))
        pos = end
    if pos != len(payload):
        raise ProtocolError("trailing bytes after the awareness update")
    return found


def default_color(sub: str) -> str:
    """A stable colour per user for clients that send none (or an invalid one)."""
    return PALETTE[hashlib.sha256(sub.encode()).digest()[0] % len(PALETTE)]


def sanitise(state: dict[str, Any], principal: Principal, role: str) -> dict[str, Any]:
    """The state as relayed: identity from the token, colour only as #rrggbb."""
    user = state.get("user")
    color = user.get("color") if isinstance(user, dict) else None
    if not isinstance(color, str) or not COLOR.fullmatch(color):
        color = default_color(principal.sub)
    return {
        **state,
        "user": {
            "name": principal.name,
            "role": role,
            "color": color,
            "colorLight": color + "33",
        },
    }
