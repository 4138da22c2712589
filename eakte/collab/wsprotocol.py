"""The WebSocket protocol `eakte serve` runs: uvicorn's (websockets sans-I/O) with three changes.

1. **Frames encoded once for all clients.** A room sends the same update to every client, and
   a server's frames are not masked (RFC 6455 § 5.1), so the frame is the same bytes for all of
   them. The ASGI extension `eakte.websocket.frames` (in `scope["extensions"]`) has a
   `write(frame) -> bool` that puts such a pre-encoded frame (`binary_frame`) on the
   connection's transport as it is, instead of every client's send going through Starlette,
   uvicorn's ASGI send and websockets' framing (bench/collab: most of the CPU of a broadcast).
   Frames written either way reach the transport whole and in the order they were written (no
   write suspends half-way). `write` refuses (False; the caller then uses the ASGI send)
   before the handshake is complete, once a close frame was sent or the transport is closing,
   while writing is paused (the ASGI send waits for the buffer to drain) and when an extension
   such as permessage-deflate was negotiated, which would change the frame.
2. **Messages handed over where they are read.** The application may register a receiver
   (`receive(callback)` of the same extension): each complete, unfragmented binary message
   is then passed to `callback(payload)` right in `data_received`, without the ASGI queue,
   a task switch and Starlette's receive per message. The protocol cuts complete frames out
   of the stream itself and unmasks them (websockets' C `apply_mask`); every other frame
   (control frames, text, fragments, anything odd) and everything while no receiver is set
   goes whole to websockets' parser, which so always starts at a frame boundary. A frame
   longer than `ws_max_size` ends this: the stream goes to websockets, which refuses it.
   It starts only if the upgrade request was the last thing read (nothing of a frame is
   inside websockets' parser then).
3. **Reading pauses when messages pile up, not after each one.** uvicorn's protocol stops
   reading the socket after every message and resumes once the application took it: two
   `epoll_ctl` calls per update. Here reading pauses once `HIGH_WATER_MESSAGES` messages or
   `HIGH_WATER_BYTES` wait for the application, so a client that sends faster than its room
   applies still stops being read, with at most that much (plus one message of up to
   `ws_max_size`) queued.

4. **A close frame is never held back.** uvicorn's ASGI `websocket.close` first waits until
   the transport's buffer has drained below its low-water mark; for a client that does not
   read (the one a room closes as too slow) that is never, the close was given up and the
   connection stayed open and in its room, ignored (a zombie). The extension's
   `close(code, reason)` appends the close frame to the buffer at once (after the frames
   already in it, as RFC 6455 § 5.5.1 wants), ends the application's receive with a
   disconnect, and gives the client `close_timeout` to answer; then the connection is
   closed, or aborted if the client still has not taken what was written to it.

Other ASGI servers (and Starlette's test client) lack the extension: the room then sends
through the ordinary ASGI `send`, with the same result.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State
from websockets.speedups import apply_mask  # type: ignore[import-not-found]

FRAMES_EXTENSION = "eakte.websocket.frames"
HIGH_WATER_MESSAGES = 32
HIGH_WATER_BYTES = 256 * 1024
DIRECT_PER_READ = 32  # messages handed over per turn of the event loop; the rest wait a turn
_OPCODE_BINARY_FIN = 0x82


def binary_frame(payload: bytes) -> bytes:
    """One unmasked, final binary frame carrying `payload` (what a server sends)."""
    size = len(payload)
    if size < 126:
        return bytes((_OPCODE_BINARY_FIN, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", _OPCODE_BINARY_FIN, 126, size) + payload
    return struct.pack("!BBQ", _OPCODE_BINARY_FIN, 127, size) + payload


def uvicorn_options(max_message_bytes: int) -> dict[str, Any]:
    """The WebSocket settings of uvicorn under `eakte serve` (and the tests' server)."""
    return {
        "ws": CollabWebSocketProtocol,
        # co-editing frames are small: compression costs more CPU than it saves bytes, and a
        # compressed frame cannot be encoded once for every client
        "ws_per_message_deflate": False,
        "ws_max_size": max_message_bytes,
    }


def _extension(scope: Any, name: str) -> Any:
    extension = (scope.get("extensions") or {}).get(FRAMES_EXTENSION)
    return extension.get(name) if isinstance(extension, dict) else None


def frame_writer(scope: Any) -> Callable[[bytes], bool] | None:
    """The connection's `write(frame) -> bool`, or None if its server does not offer one."""
    return _extension(scope, "write")  # type: ignore[no-any-return]


def frame_closer(scope: Any) -> Callable[[int, str], bool] | None:
    """The connection's `close(code, reason) -> bool`, or None if not offered."""
    return _extension(scope, "close")  # type: ignore[no-any-return]


def message_receiver(scope: Any) -> Callable[[Callable[[bytes], None] | None], None] | None:
    """The connection's `receive(callback)` (None stops it), or None if not offered."""
    return _extension(scope, "receive")  # type: ignore[no-any-return]


class CollabWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O protocol plus `write_frame`, direct delivery and batched pausing."""

    queued_bytes = 0  # bytes of received messages the application has not taken yet
    framing = False  # complete frames are cut out of the stream here (see data_received)
    _receiver: Callable[[bytes], None] | None = None
    _buffer: bytearray | None = None  # the start of a frame that has not fully arrived
    _deferred = False  # frames wait in the buffer for the next turn (DIRECT_PER_READ)

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # an accepted upgrade (the ASGI task has not started yet)
            scope["extensions"][FRAMES_EXTENSION] = {
                "write": self.write_frame,
                "receive": self.set_receiver,
                "close": self.close_now,
            }

    def set_receiver(self, callback: Callable[[bytes], None] | None) -> None:
        """Hand binary messages to `callback` from now on (None: back to the ASGI queue)."""
        self._receiver = callback

    def data_received(self, data: bytes) -> None:
        if self.framing:
            self._frames_received(data)
            return
        upgrading = not self.handshake_initiated
        super().data_received(data)
        if (
            upgrading
            and self.handshake_initiated
            and not self.close_sent
            and data.endswith(b"\r\n\r\n")
            and not self.conn.reader.buffer
            and self.conn.parser_exc is None
        ):
            # the request ended this read: websockets' parser waits for a frame's first byte
            self.framing = True
            self._buffer = bytearray()

    def _direct(self) -> bool:
        """Whether a complete binary message may go to the receiver now."""
        conn = self.conn
        return (
            self._receiver is not None
            and not self.close_sent
            and conn.state is State.OPEN
            and not conn.extensions
            and conn.current_size is None  # not inside a fragmented message
        )

    def _frames_received(self, data: bytes) -> None:
        buffer = self._buffer
        assert buffer is not None
        view: bytes | bytearray = data
        if buffer:
            buffer += data
            view = buffer
        size = len(view)
        limit = self.config.ws_max_size
        pos = 0
        handed = 0
        try:
            while size - pos >= 2 and self.framing:
                if handed == DIRECT_PER_READ:  # fairness: other clients' reads come first
                    self._defer()
                    break
                first, second = view[pos], view[pos + 1]
                masked = second & 0x80
                length = second & 0x7F
                extended = 2 if length == 126 else 8 if length == 127 else 0
                head = 2 + extended + (4 if masked else 0)
                if size - pos < head:
                    break
                if extended:
                    length = int.from_bytes(view[pos + 2 : pos + 2 + extended], "big")
                if limit is not None and length > limit:
                    rest, pos = bytes(view[pos:]), size
                    self._hand_over(rest)  # websockets refuses it (1009)
                    return
                end = pos + head + length
                if end > size:
                    break
                start = pos
                pos = end  # consumed before any callback, whatever it raises
                if first == 0x82 and masked and self._direct():
                    assert self._receiver is not None
                    handed += 1
                    self._receiver(
                        apply_mask(view[start + head : end], view[end - length - 4 : end - length])
                    )
                else:  # one whole frame: control, text, fragment, unmasked …
                    super().data_received(bytes(view[start:end]))
        finally:
            if self._buffer is not None:
                if view is buffer:
                    del buffer[:pos]
                elif pos < size:
                    buffer += view[pos:]

    def _defer(self) -> None:
        """Stop reading until the frames already read are handled (next turn of the loop)."""
        if not self._deferred:
            self._deferred = True
            if not self.read_paused:
                self.read_paused = True
                self.transport.pause_reading()
            self.loop.call_soon(self._continue)

    def _continue(self) -> None:
        self._deferred = False
        if self.framing and not self.transport.is_closing():
            self._frames_received(b"")
        if not self._deferred and self.read_paused and self.queue.empty():
            self.read_paused = False
            self.transport.resume_reading()

    def _hand_over(self, rest: bytes) -> None:
        """From here on websockets parses the stream (it is at a frame boundary)."""
        self.framing = False
        self._buffer = None
        super().data_received(rest)

    def write_frame(self, frame: bytes) -> bool:
        """Write an encoded server frame as is; False if it has to go through `send`."""
        if (
            not self.handshake_complete
            or self.close_sent
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.conn.extensions
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True

    def close_now(self, code: int, reason: str) -> bool:
        """Write the close frame behind what is buffered, without waiting for it to drain.

        False if there is nothing to close (not open, a close frame already sent, the
        transport closing); the application's receive then gets its disconnect anyway.
        """
        if (
            not self.handshake_complete
            or self.close_sent
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._receiver = None
        if self.read_paused:  # read on until the client's close frame (or the timeout)
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self._end_closing)
        return True

    def _end_closing(self) -> None:
        """The client did not answer the close frame in time: close, abort if it never read."""
        if self.transport.get_write_buffer_size():
            self.transport.abort()  # close() would wait for the buffer to drain, forever
        else:
            self.transport.close()

    def send_receive_event_to_app(self) -> None:
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:  # past `websocket.close`: drop it, keep reading for the reply
            return
        if self.curr_msg_data_type == "text":
            try:
                self.queue.put_nowait({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.logger.exception("Invalid UTF-8 sequence received from client.")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            self.queue.put_nowait({"type": "websocket.receive", "bytes": data})
        self.queued_bytes += len(data)
        if not self.read_paused and (
            self.queue.qsize() >= HIGH_WATER_MESSAGES or self.queued_bytes >= HIGH_WATER_BYTES
        ):
            self.read_paused = True
            self.transport.pause_reading()

    async def receive(self) -> Any:
        message = await self.queue.get()
        if not self.queue.empty():
            self.queued_bytes -= len(message.get("bytes") or message.get("text") or b"")
            return message
        self.queued_bytes = 0
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        return message
