"""One WebSocket client of a room: who it is, its limits, and one sender behind a send lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketState

from eakte.auth.principal import CASE_WRITE_ROLES, Principal, Role
from eakte.collab.wsprotocol import frame_closer, frame_writer

log = logging.getLogger("eakte.collab")

# Close codes (RFC 6455 and the 4000-4999 application range)
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003  # a text frame
CLOSE_INVALID = 1007  # malformed message or an update the CRDT engine rejects
CLOSE_POLICY = 1008  # message flood, or a client too slow to read its updates
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011  # the update log could not be written
CLOSE_RESTART = 1012  # the server shuts down; reconnect
CASE_CLOSED_REASON = "case closed (abgeschlossen): read-only, changes are not accepted"
CLOSE_UNAUTHENTICATED = 4401  # no valid token, or the token expired while connected
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_WORKSPACE_FULL = 4413  # the workspace would exceed EAKTE_COLLAB_MAX_WORKSPACE_BYTES

WRITE_ROLES = frozenset({Role.clerk, Role.approver, Role.admin})
READ_ROLES = frozenset({Role.clerk, Role.approver, Role.admin, Role.agency, Role.auditor})
FIELD_ROLES = CASE_WRITE_ROLES  # `fields` project into the case: the roles of PATCH /cases/{id}
ROLE_ORDER = (Role.clerk, Role.approver, Role.admin, Role.agency, Role.auditor)
CLOSE_FLUSH_SECONDS = 1.0  # on close, queued frames get this long before the close frame


class CloseConnection(Exception):
    """End this one connection with `code` and `reason`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def display_role(principal: Principal) -> str:
    """The role shown to the other editors."""
    return next((r.value for r in ROLE_ORDER if r in principal.roles), "")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection limits (from the settings)."""

    max_messages_per_second: int = 2000
    max_updates_per_second: int = 500
    max_outbox_bytes: int = 64 * 1024 * 1024
    max_pending_bytes: int = 1024 * 1024
    pending_seconds: float = 10.0
    query_awareness_per_second: float = 2.0


class _Window:
    """Counts events per one-second window."""

    __slots__ = ("start", "count")

    def __init__(self) -> None:
        self.start = 0.0
        self.count = 0

    def hit(self, now: float) -> int:
        if now - self.start >= 1.0:
            self.start = now
            self.count = 0
        self.count += 1
        return self.count


class Connection:
    """A client: principal, rights, rate limits, held updates and a bounded outbox.

    Frames go out either directly from the room's flush task (`send_now`, the common case,
    no task switch per client) or through the queue drained by `run()`; both hold the send
    lock, so frames never interleave. `run()` is started by the endpoint in its task group
    and ends after `close()` (or when the endpoint stops it), having sent the close frame.
    """

    def __init__(self, websocket: WebSocket, principal: Principal, limits: Limits) -> None:
        self.websocket = websocket
        self.principal = principal
        self.limits = limits
        self.writable = principal.has_any(WRITE_ROLES)
        self.read_only_reason = "read-only role: changes are not accepted"
        self.may_edit_fields = principal.has_any(FIELD_ROLES)
        self.role = display_role(principal)
        self.awareness_id: int | None = None  # the one awareness state this client may own
        self.held: list[tuple[float, bytes]] = []  # updates waiting for missing dependencies
        self.held_bytes = 0
        self._messages = _Window()
        self._updates = _Window()
        self._last_query = -1e9
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._write_frame = frame_writer(websocket.scope)  # None: not under `eakte serve`
        self._close_frame = frame_closer(websocket.scope)
        self._sender: asyncio.Task[None] | None = None
        self._close: tuple[int, str] | None = None
        self._stopped = False
        self.closed = False

    def make_read_only(self, reason: str) -> None:
        """Receive only, whatever the role (e.g. the case is closed); a write closes 4403."""
        self.writable = False
        self.may_edit_fields = False
        self.read_only_reason = reason

    # -- limits ----------------------------------------------------------------------

    def allow_message(self) -> bool:
        """Count one received message; False once the per-second limit is exceeded."""
        return self._messages.hit(time.monotonic()) <= self.limits.max_messages_per_second

    def allow_update(self) -> bool:
        """Count one received update; False once the per-second limit is exceeded."""
        return self._updates.hit(time.monotonic()) <= self.limits.max_updates_per_second

    def allow_query_awareness(self) -> bool:
        """Query-awareness is answered at most `query_awareness_per_second` times a second."""
        now = time.monotonic()
        if now - self._last_query < 1.0 / self.limits.query_awareness_per_second:
            return False
        self._last_query = now
        return True

    # -- sending ---------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue a frame; a client that lets too much pile up is closed."""
        if self.closed:
            return
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        if self._outbox_bytes > self.limits.max_outbox_bytes:
            log.warning("collab: closing %s: too slow to receive updates", self.principal.sub)
            self.close(CLOSE_POLICY, "client too slow to receive updates")
            return
        self._wakeup.set()

    def write_frame(self, frame: bytes) -> bool:
        """Write a pre-encoded frame (`wsprotocol.binary_frame`) now, if the server offers it.

        False when it cannot (another server, a send under way or queued, writing paused,
        the connection closing): the caller then sends the payload with `send_now`.
        """
        if self._write_frame is None or self.closed or self._outbox or self._lock.locked():
            return False
        return bool(self._write_frame(frame))

    async def send_now(self, data: bytes) -> None:
        """Send from the caller's task (the room's flush loop) unless a send is under way.

        Writing a frame normally completes without suspending (the transport buffers it),
        so a broadcast costs no task switch per client; the caller bounds the rare stall.
        """
        if self.closed:
            return
        if self._outbox or self._lock.locked():
            self.send(data)
            return
        async with self._lock:
            try:
                await self.websocket.send_bytes(data)
            except asyncio.CancelledError:
                raise
            except Exception:  # the peer went away; the receive loop notices
                self.closed = True

    async def run(self) -> None:
        """Drain the outbox until closed or stopped; then send the close frame, if any."""
        self._sender = asyncio.current_task()
        ws = self.websocket
        try:
            while not self._stopped and self._close is None:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox and not self._stopped and self._close is None:
                    await self._send_one()
            if self._close is not None and self._close[0] != CLOSE_POLICY:
                async with asyncio.timeout(CLOSE_FLUSH_SECONDS):
                    while self._outbox:
                        await self._send_one()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._close is None or task is None or task.uncancel() > 0:
                raise  # not our own cancellation (see close()): let it through
        except Exception:  # the peer went away or the flush timed out
            pass
        finally:
            self._sender = None
        if self._close is not None:
            code, reason = self._close
            if self._close_frame is not None:
                # at once, even with the client's buffer full (eakte/collab/wsprotocol)
                self._close_frame(code, reason)
                return
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_FLUSH_SECONDS), self._lock:
                    if ws.application_state == WebSocketState.CONNECTED:
                        await ws.close(code, reason)

    async def _send_one(self) -> None:
        data = self._outbox.popleft()
        self._outbox_bytes -= len(data)
        async with self._lock:
            await self.websocket.send_bytes(data)

    def close(self, code: int, reason: str) -> None:
        """Ask the sender to close the WebSocket (from any task); the receive loop then ends."""
        if self.closed:
            return
        self.closed = True
        self._close = (code, reason)
        self._wakeup.set()
        if self._sender is not None and self._lock.locked():
            self._sender.cancel()  # a send stalled on a client that does not read: give up

    def stop(self) -> None:
        """End `run()` (the client is gone or the endpoint returns)."""
        self._stopped = True
        self._wakeup.set()
