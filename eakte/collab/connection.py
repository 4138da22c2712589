"""One WebSocket client of a room: who it is, a send queue drained by its own task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from starlette.websockets import WebSocket, WebSocketState

from eakte.auth.principal import Principal, Role

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
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

WRITE_ROLES = frozenset({Role.clerk, Role.approver, Role.admin})
READ_ROLES = frozenset({Role.clerk, Role.approver, Role.admin, Role.agency, Role.auditor})
ROLE_ORDER = (Role.clerk, Role.approver, Role.admin, Role.agency, Role.auditor)
_BACKGROUND: set[asyncio.Task[None]] = set()  # keep fire-and-forget tasks referenced


class CloseConnection(Exception):
    """End this one connection with `code` and `reason`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def display_role(principal: Principal) -> str:
    """The role shown to the other editors."""
    return next((r.value for r in ROLE_ORDER if r in principal.roles), "")


class Connection:
    """A client: principal, write permission, rate limit and a bounded outbox."""

    def __init__(
        self,
        websocket: WebSocket,
        principal: Principal,
        *,
        max_messages_per_second: int,
        max_outbox_bytes: int,
    ) -> None:
        self.websocket = websocket
        self.principal = principal
        self.writable = principal.has_any(WRITE_ROLES)
        self.role = display_role(principal)
        self.awareness_ids: set[int] = set()
        self._max_rate = max_messages_per_second
        self._max_outbox = max_outbox_bytes
        self._window = 0.0
        self._count = 0
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wakeup = asyncio.Event()
        self.closed = False
        self.busy = False  # a frame is being written (by the sender task or the flush loop)
        self._asgi_send = getattr(websocket, "_send", None) or websocket.send
        self._sender: asyncio.Task[None] | None = None  # started on the first queued frame

    def allow_message(self) -> bool:
        """Count one received message; False once the per-second limit is exceeded."""
        now = time.monotonic()
        if now - self._window >= 1.0:
            self._window = now
            self._count = 0
        self._count += 1
        return self._count <= self._max_rate

    def send(self, data: bytes) -> None:
        """Queue a frame; a client that lets too much pile up is closed."""
        if self.closed:
            return
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        if self._outbox_bytes > self._max_outbox:
            log.warning("collab: closing %s: too slow to receive updates", self.principal.sub)
            self.close(CLOSE_POLICY, "client too slow to receive updates")
            return
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_loop())
        self._wakeup.set()

    async def send_now(self, data: bytes) -> None:
        """Send from the caller's task (the room's flush loop) unless a send is under way.

        Writing a frame normally completes without suspending (the transport buffers it),
        so a broadcast costs no task switch per client; the caller bounds the rare stall.
        """
        if self.closed:
            return
        if self.busy or self._outbox:
            self.send(data)
            return
        self.busy = True
        try:
            # the ASGI send itself: Starlette's state checks are done once, at accept
            await self._asgi_send({"type": "websocket.send", "bytes": data})
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer went away; the receive loop notices
            self.closed = True
        finally:
            self.busy = False

    async def _send_loop(self) -> None:
        ws = self.websocket
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox:
                    while self.busy:
                        await asyncio.sleep(0.001)
                    data = self._outbox.popleft()
                    self._outbox_bytes -= len(data)
                    self.busy = True
                    try:
                        await ws.send_bytes(data)
                    finally:
                        self.busy = False
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer went away; the receive loop notices
            self.closed = True

    def close(self, code: int, reason: str) -> None:
        """Close the WebSocket (from any task); the receive loop then ends."""
        if self.closed:
            return
        self.closed = True
        if self._sender is not None:
            self._sender.cancel()
        task = asyncio.create_task(self._close(code, reason))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code, reason)

    async def drain(self) -> None:
        """Stop the sender after it has sent what is queued (best effort)."""
        sender = self._sender
        if sender is None:
            return
        if not self.closed and self._outbox:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    while self._outbox and not sender.done():
                        await asyncio.sleep(0.005)
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
