"""Test helpers: a pycrdt Yjs client over real WebSockets, servers in-process and as processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from pycrdt import Array, Doc, Map, Text

from eakte.collab import protocol
from eakte.collab.wsprotocol import uvicorn_options

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class YClient:
    """A minimal y-websocket client on pycrdt (what a Python tool would use)."""

    def __init__(self, base: str, case_id: str, token: str) -> None:
        self.url = f"{base}/api/v1/collab/{case_id}?token={token}"
        self.doc = Doc(client_id=random.getrandbits(32))  # Yjs-sized ids (y-py needs them)
        self.synced = asyncio.Event()
        self.ws: Any = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.awareness: dict[int, Any] = {}
        self.awareness_seen: list[Any] = []  # every state ever relayed to this client
        self.received: list[bytes] = []
        self.denied: list[str] = []  # reasons of y-protocols "permission denied" messages
        self.awareness_frames = 0
        self._capture: list[bytes] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.doc.observe(self._on_change)

    def _on_change(self, event: Any) -> None:
        if self._capture is not None:
            self._capture.append(event.update)

    async def connect(self, *, wait_synced: bool = True) -> YClient:
        self.ws = await websockets.connect(self.url, max_size=None, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        await self.ws.send(protocol.sync_step1(bytes(self.doc.get_state())))
        if wait_synced:
            await asyncio.wait_for(self.synced.wait(), 10)
        return self

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                if isinstance(data, str):
                    continue
                message = protocol.parse(data)
                if message.kind == protocol.MESSAGE_SYNC:
                    if message.step == protocol.SYNC_STEP1:
                        update = bytes(self.doc.get_update(message.payload))
                        await self.ws.send(protocol.sync_step2(update))
                    else:
                        self.received.append(message.payload)
                        self.doc.apply_update(message.payload)
                        if message.step == protocol.SYNC_STEP2:
                            self.synced.set()
                elif message.kind == protocol.MESSAGE_AWARENESS:
                    self.awareness_frames += 1
                    for entry in protocol.decode_awareness(message.payload):
                        self.awareness[entry.client_id] = entry.state
                        self.awareness_seen.append(entry.state)
                elif message.kind == protocol.MESSAGE_AUTH:
                    self.denied.append(message.payload.decode())
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code, self.close_reason = self.ws.close_code, self.ws.close_reason
            self.closed.set()

    async def edit(self, change: Callable[[Doc], None]) -> bytes:
        """Make a local change and send it as an update."""
        self._capture = []
        with self.doc.transaction():
            change(self.doc)
        updates, self._capture = self._capture, None
        update = updates[0] if updates else b"\x00\x00"
        await self.ws.send(protocol.sync_update(update))
        return update

    async def send_update(self, update: bytes) -> None:
        """Send a hand-built update as it is."""
        await self.ws.send(protocol.sync_update(update))

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def wait_closed(self, timeout: float = 5) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader, 5)

    def text(self, name: str = "notes") -> str:
        return str(self.doc.get(name, type=Text))

    def fields(self) -> dict[str, Any]:
        return dict(self.doc.get("fields", type=Map).to_py() or {})

    def array(self, name: str) -> list[Any]:
        return list(self.doc.get(name, type=Array).to_py() or [])


async def until(predicate: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    """Poll until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


class InProcessServer:
    """uvicorn serving an app in the test's event loop (WebSockets need a real server)."""

    def __init__(self, app: Any, *, as_served: bool = True) -> None:
        """`as_served`: the WebSocket protocol and options of `eakte serve`; False: uvicorn's
        defaults (its own protocol, permessage-deflate), where the room uses the ASGI send."""
        self.app = app
        self.port = free_port()
        options = uvicorn_options(app.state.settings.collab_max_message_bytes) if as_served else {}
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", **options
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, 15)


class ServerProcess:
    """`python -m eakte.cli serve` as a real process (for kill -9, SIGTERM, logs)."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = env | {"EAKTE_PORT": str(self.port), "EAKTE_TICK_INTERVAL_SECONDS": "0"}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eakte.cli", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
                try:
                    if (await client.get(self.http + "/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    async def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(300):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        self.proc.kill()
        raise AssertionError("server did not stop on SIGTERM")

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class YPyClient:
    """The same client on y-py (the older binding): Python tools built on it must keep working."""

    def __init__(self, base: str, case_id: str, token: str) -> None:
        import y_py as Y

        self.Y = Y
        self.url = f"{base}/api/v1/collab/{case_id}?token={token}"
        self.doc = Y.YDoc()
        self.synced = asyncio.Event()
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> YPyClient:
        self.ws = await websockets.connect(self.url, max_size=None, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        await self.ws.send(protocol.sync_step1(bytes(self.Y.encode_state_vector(self.doc))))
        await asyncio.wait_for(self.synced.wait(), 10)
        return self

    async def _read(self) -> None:
        Y = self.Y
        with contextlib.suppress(websockets.ConnectionClosed):
            async for data in self.ws:
                message = protocol.parse(data)
                if message.kind != protocol.MESSAGE_SYNC:
                    continue
                if message.step == protocol.SYNC_STEP1:
                    update = bytes(Y.encode_state_as_update(self.doc, message.payload))
                    await self.ws.send(protocol.sync_step2(update))
                else:
                    Y.apply_update(self.doc, message.payload)
                    if message.step == protocol.SYNC_STEP2:
                        self.synced.set()

    async def edit(self, name: str, i: int) -> None:
        Y = self.Y
        before = Y.encode_state_vector(self.doc)
        text = self.doc.get_text("notes")
        fields = self.doc.get_map("fields")
        with self.doc.begin_transaction() as txn:
            text.insert(txn, 0, f"<{name}:e{i}>")
            fields.set(txn, f"k_{name}", f"e{i}")
        await self.ws.send(protocol.sync_update(bytes(Y.encode_state_as_update(self.doc, before))))

    def text(self) -> str:
        return str(self.doc.get_text("notes"))

    def fields(self) -> dict[str, Any]:
        return dict(self.doc.get_map("fields").items())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader, 5)
