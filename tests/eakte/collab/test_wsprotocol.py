"""The WebSocket protocol of `eakte serve` (eakte/collab/wsprotocol) on a real uvicorn server.

An echo application uses the protocol's extension: messages handed over directly come back
as "direct:" frames written pre-encoded, messages that went through the ASGI queue come back
as "queued:" through the ordinary send. Clients are the websockets library and a raw socket
that sends hand-built masked frames cut at arbitrary byte boundaries.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
import websockets
from collab_support import InProcessServer, free_port, until
from pycrdt import Text
from websockets.frames import Frame, Opcode

from eakte.app import create_app
from eakte.collab import wsprotocol
from eakte.collab.wsprotocol import binary_frame, frame_writer, message_receiver, uvicorn_options

LIMIT = 4096


class EchoApp:
    """Echo every message; remember what `write` answered."""

    def __init__(self) -> None:
        self.writes: list[bool] = []  # direct messages
        self.queued_writes: list[bool] = []  # messages from the ASGI queue (then `send`)
        self.after_close: list[bool] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        write = frame_writer(scope)
        receiver = message_receiver(scope)
        assert write is not None and receiver is not None

        def direct(data: bytes) -> None:
            self.writes.append(write(binary_frame(b"direct:" + data)))

        receiver(direct)
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.after_close.append(write(binary_frame(b"too late")))
                return
            payload = b"queued:" + (message.get("bytes") or message.get("text", "").encode())
            self.queued_writes.append(write(binary_frame(payload)))
            if not self.queued_writes[-1]:
                await send({"type": "websocket.send", "bytes": payload})


@pytest.fixture
async def echo() -> AsyncIterator[Any]:
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def _start(**changes: Any) -> tuple[EchoApp, int]:
        app, port = EchoApp(), free_port()
        options = uvicorn_options(LIMIT) | changes
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", http="h11", **options
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        await until(lambda: server.started, 10, "echo server start")
        return app, port

    yield _start
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def masked(payload: bytes, opcode: int = 0x2, fin: bool = True) -> bytes:
    """A client frame (masked, as RFC 6455 requires of clients)."""
    mask = os.urandom(4)
    size = len(payload)
    first = (0x80 if fin else 0) | opcode
    if size < 126:
        head = bytes((first, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((first, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first, 0x80 | 127)) + size.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


class RawClient:
    """A WebSocket client on a plain socket: hand-built frames, any cut of the bytes."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> RawClient:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write(
            (
                f"GET /x HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return self

    async def send(self, data: bytes, *, cut: int | None = None) -> None:
        assert self.writer is not None
        if cut is None:
            self.writer.write(data)
            await self.writer.drain()
            return
        for i in range(0, len(data), cut):
            self.writer.write(data[i : i + cut])
            await self.writer.drain()
            await asyncio.sleep(0)  # separate reads on the server

    async def frame(self) -> tuple[int, bytes]:
        """The next server frame: (opcode, payload); server frames are not masked."""
        assert self.reader is not None
        first, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        assert not second & 0x80, "a server frame must not be masked"
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8), "big")
        return first & 0x0F, await self.reader.readexactly(size)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_pre_encoded_frame_is_what_websockets_would_send(size: int) -> None:
    payload = os.urandom(size)
    expected = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert binary_frame(payload) == expected


async def test_messages_are_handed_over_in_order_and_answered_with_pre_encoded_frames(
    echo,
) -> None:
    app, port = await echo()
    async with websockets.connect(f"ws://127.0.0.1:{port}/x", compression=None) as ws:
        for i in range(100):
            await ws.send(b"m%d" % i)
        answers = [await asyncio.wait_for(ws.recv(), 10) for _ in range(100)]
    assert answers == [b"direct:m%d" % i for i in range(100)]
    assert app.writes == [True] * 100


async def test_frames_cut_anywhere_or_sent_together_arrive_whole(echo) -> None:
    _, port = await echo()
    client = await RawClient(port).connect()
    try:
        big = os.urandom(3000)  # 16-bit length field
        stream = masked(b"one") + masked(b"two") + masked(big) + masked(b"") + masked(b"three")
        await client.send(stream[:5], cut=1)  # a header in pieces
        await client.send(stream[5:], cut=7)
        expected = [b"one", b"two", big, b"", b"three"]
        for payload in expected:
            assert await client.frame() == (0x2, b"direct:" + payload)
        # 300 frames in one read: all of them, in order (DIRECT_PER_READ per turn of the loop)
        burst = b"".join(masked(b"b%03d" % i) for i in range(300))
        await client.send(burst)
        for i in range(300):
            assert await client.frame() == (0x2, b"direct:b%03d" % i)
    finally:
        await client.close()


async def test_control_text_and_fragmented_frames_still_go_through_websockets(echo) -> None:
    app, port = await echo()
    client = await RawClient(port).connect()
    try:
        ping = masked(b"are you there", opcode=0x9)
        text = masked("Grüße".encode(), opcode=0x1)
        part1 = masked(b"frag", opcode=0x2, fin=False)
        part2 = masked(b"mented", opcode=0x0, fin=True)
        await client.send(ping + masked(b"a") + text + part1 + part2 + masked(b"b"), cut=3)
        frames = [await client.frame() for _ in range(5)]
        assert frames[0] == (0xA, b"are you there")  # pong from websockets
        assert (0x2, b"direct:a") in frames and (0x2, b"direct:b") in frames
        assert (0x2, "queued:Grüße".encode()) in frames
        assert (0x2, b"queued:fragmented") in frames
        assert frames.index((0x2, b"direct:a")) < frames.index((0x2, b"direct:b"))
    finally:
        await client.close()
    assert app.writes == [True, True]
    assert app.queued_writes == [True, True]  # the text and the fragmented message


async def test_a_frame_over_the_size_limit_closes_with_1009(echo) -> None:
    _, port = await echo()
    client = await RawClient(port).connect()
    try:
        await client.send(masked(b"fine"))
        assert await client.frame() == (0x2, b"direct:fine")
        await client.send(masked(os.urandom(LIMIT + 1)))
        opcode, payload = await client.frame()
        assert opcode == 0x8 and int.from_bytes(payload[:2], "big") == 1009
    finally:
        await client.close()


async def test_nothing_is_written_past_the_close(echo) -> None:
    app, port = await echo()
    async with websockets.connect(f"ws://127.0.0.1:{port}/x", compression=None) as ws:
        await ws.send(b"x")
        assert await ws.recv() == b"direct:x"
    await until(lambda: app.after_close, 10, "the disconnect")
    assert app.after_close == [False]


async def test_with_compression_frames_go_through_the_ordinary_send(echo) -> None:
    # a compressed connection's frames differ per client: `write` must refuse them
    app, port = await echo(ws_per_message_deflate=True)
    async with websockets.connect(f"ws://127.0.0.1:{port}/x", compression="deflate") as ws:
        assert ws.protocol.extensions, "permessage-deflate was not negotiated"
        await ws.send(b"x" * 100)
        assert await asyncio.wait_for(ws.recv(), 10) == b"queued:" + b"x" * 100
    assert app.writes == []  # compressed frames are websockets' to read
    assert app.queued_writes == [False]


async def test_rooms_work_without_the_extension(collab_settings, ycase, yclient) -> None:
    # plain uvicorn (its own protocol, compression on): the room sends through the ASGI send
    server = InProcessServer(create_app(collab_settings), as_served=False)
    await server.start()
    try:
        case_id = await ycase()
        a = await yclient(server, case_id, "clerk")
        b = await yclient(server, case_id, "clerk")
        assert a.ws.protocol.extensions  # compressed: no pre-encoded frames possible
        await a.edit(lambda d: d.get("notes", type=Text).insert(0, "ohne Erweiterung"))
        await until(lambda: b.text() == "ohne Erweiterung", 10, "the update at b")
        assert a.text() == "ohne Erweiterung"
    finally:
        await server.stop()


def test_the_served_options_use_the_protocol() -> None:
    options = uvicorn_options(1234)
    assert options["ws"] is wsprotocol.CollabWebSocketProtocol
    assert options["ws_per_message_deflate"] is False
    assert options["ws_max_size"] == 1234
