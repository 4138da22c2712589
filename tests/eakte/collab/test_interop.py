"""Real clients against a real server: yjs + y-websocket (Node), pycrdt and y-py converge."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from collab_support import ROOT, YPyClient, until
from pycrdt import Map, Text

INTEROP = ROOT / "tests" / "interop"
EDITS = 30


def _node_ready() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js/npm are not installed (.ci/run installs them)"
    if not (INTEROP / "node_modules" / "y-websocket").exists():
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=INTEROP, capture_output=True, timeout=300
        )
        if result.returncode != 0:
            return f"npm ci failed in tests/interop: {result.stderr.decode()[-500:]}"
    return None


pytestmark = pytest.mark.skipif(bool(reason := _node_ready()), reason=reason or "")


async def run_node(script: str, config: dict[str, Any]) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(INTEROP / script),
        json.dumps(config),
        cwd=INTEROP,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 150)
    assert proc.returncode == 0, (out.decode()[-2000:], err.decode()[-2000:])
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def _y_py_available() -> bool:
    try:
        import y_py  # noqa: F401
    except ImportError:
        return False
    return True


async def test_js_pycrdt_and_y_py_clients_converge(live, ycase, yclient, token) -> None:
    case_id = await ycase()
    names = ["js1", "js2", "py"] + (["ypy"] if _y_py_available() else [])
    markers = [f"<{n}:e{i}>" for n in names for i in range(EDITS)]
    keys = [[f"k_{n}", f"e{EDITS - 1}"] for n in names]
    url = f"{live.ws}/api/v1/collab"

    def js(name: str) -> Any:
        return run_node(
            "client.js",
            {
                "url": url,
                "room": case_id,
                "name": name,
                "edits": EDITS,
                "token": token("clerk", sub=f"{name}@augsburg"),
                "expectMarkers": markers,
                "expectKeys": keys,
                "timeoutMs": 90000,  # a bound for a loaded machine, not a speed
            },
        )

    py = await yclient(live, case_id, "approver")
    ypy = await YPyClient(live.ws, case_id, token("clerk")).connect() if "ypy" in names else None

    async def py_edits() -> None:
        for i in range(EDITS):

            def change(d: Any, i: int = i) -> None:
                notes = d.get("notes", type=Text)
                notes.insert(len(str(notes)), f"<py:e{i}>")
                d.get("fields", type=Map)["k_py"] = f"e{i}"

            await py.edit(change)
            if ypy is not None:
                await ypy.edit("ypy", i)
            await asyncio.sleep(0.002)

    results = await asyncio.gather(js("js1"), js("js2"), py_edits())
    final = results[0]["notes"]
    await until(lambda: py.text() == final, what="pycrdt client converges")
    if ypy is not None:
        await until(lambda: ypy.text() == final, what="y-py client converges")
        assert ypy.fields() == results[0]["fields"]
        await ypy.close()
    assert results[1]["notes"] == final
    assert results[0]["fields"] == results[1]["fields"] == py.fields()
    assert all(m in final for m in markers)
    # awareness: name and role come from the token, not from the client
    users = results[0]["others"]
    clerk = {"name": "Test clerk", "role": "clerk", "color": "#cc0000", "colorLight": "#cc000033"}
    assert clerk in users
    assert all(u.get("name") != "spoofed" for u in users)


async def test_an_offline_js_client_reconnects_and_merges(live, ycase, yclient, token) -> None:
    case_id = await ycase()
    py = await yclient(live, case_id, "clerk")
    js = asyncio.create_task(
        run_node(
            "client.js",
            {
                "url": f"{live.ws}/api/v1/collab",
                "room": case_id,
                "name": "offline",
                "token": token("clerk"),
                "edits": 1,
                "offlineEdits": 5,
                "offlineMs": 1500,
                "expectMarkers": ["<py:while-offline>"],
                "timeoutMs": 90000,  # a bound for a loaded machine, not a speed
            },
        )
    )
    await until(lambda: "<offline:e0>" in py.text(), what="the JS client's online edit")
    await asyncio.sleep(0.6)  # the JS client is offline now
    await py.edit(lambda d: d.get("notes", type=Text).insert(0, "<py:while-offline>"))
    result = await js
    await until(lambda: "<offline:off4>" in py.text(), what="the offline edits arrive")
    assert py.text() == result["notes"] or all(f"<offline:off{i}>" in py.text() for i in range(5))
    await until(lambda: py.text() == result["notes"] or "<offline:off4>" in py.text())
    assert "<py:while-offline>" in result["notes"]
    assert Path(INTEROP / "package-lock.json").exists()


async def test_a_real_yjs_auditor_that_types_is_closed_4403_and_nothing_is_kept(
    live, ycase, yclient, token
) -> None:
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "Vermerk"))
    result = await run_node(
        "client.js",
        {
            "url": f"{live.ws}/api/v1/collab",
            "room": case_id,
            "token": token("auditor"),
            "name": "aud",
            "edits": 5,
            "exitOnClose": 4403,
        },
    )
    assert 4403 in result["closes"]
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "!"))
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "!Vermerk", what="only the clerk's text")
    assert "k_aud" not in fresh.fields()


async def test_token_as_subprotocol_and_colour_sanitised_for_a_real_client(
    live, ycase, yclient, token
) -> None:
    """The browser's way in (token in Sec-WebSocket-Protocol); a CSS colour is not relayed."""
    case_id = await ycase()
    watcher = await yclient(live, case_id, "clerk")
    result = await run_node(
        "client.js",
        {
            "url": f"{live.ws}/api/v1/collab",
            "room": case_id,
            "token": token("clerk"),
            "name": "sp",
            "edits": 3,
            "subprotocol": True,
            "color": "red;position:fixed;inset:0;background:url(https://evil.example/x)",
            "expectMarkers": ["<sp:e2>"],
        },
    )
    assert "<sp:e2>" in result["notes"]
    await until(lambda: "<sp:e2>" in watcher.text())
    colours = [state["user"]["color"] for state in watcher.awareness_seen if state]
    assert colours and all(re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in colours), colours
