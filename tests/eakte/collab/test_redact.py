"""No token in any log line, however the query key or the value is encoded."""

from __future__ import annotations

import pytest
import websockets
from collab_support import YClient
from conftest import process_env
from pycrdt import Text

from eakte.collab.redact import redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGVyayJ9.c2lnbmF0dXJlLXNlY3JldA"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /api/v1/collab/x?token={JWT} HTTP/1.1",
        f"GET /api/v1/collab/x?%74oken={JWT} HTTP/1.1",
        f"GET /api/v1/collab/x?%74%6F%6B%65%6E={JWT}",
        f"GET /api/v1/collab/x?TOKEN={JWT}",
        f"GET /api/v1/collab/x?access%5Ftoken={JWT}",
        f"GET /api/v1/collab/x?a=1&access_token={JWT}&b=2",
        "GET /api/v1/collab/x?token=" + JWT.replace(".", "%2E"),
        "GET /api/v1/collab/x?t=" + JWT.replace(".", "%2e"),
        f"GET /api/v1/collab/{JWT}",
        f"Authorization: Bearer {JWT}",
        f"GET /x?q=Bearer%20{JWT}",
    ],
)
def test_every_encoding_is_redacted(line: str) -> None:
    out = redact(line)
    assert "c2lnbmF0dXJlLXNlY3JldA" not in out and "eyJzdWIiOiJjbGVyayJ9" not in out, out
    assert "[redacted]" in out


def test_ordinary_lines_are_left_alone() -> None:
    line = 'GET /api/v1/cases?q=Garage&state=open HTTP/1.1" 200'
    assert redact(line) == line


async def test_server_logs_carry_no_token_for_any_query_spelling(
    collab_settings, ycase, token, processes
) -> None:
    server = processes(process_env(collab_settings), "redact")
    await server.start()
    case_id = await ycase()
    secret = token("clerk")
    signature = secret.rsplit(".", 1)[1]
    base = f"{server.ws}/api/v1/collab/{case_id}"
    for query in (
        f"?%74oken={secret}",
        f"?token={secret.replace('.', '%2E')}",
        f"?TOKEN={secret}",
        f"?access%5Ftoken={secret}",
    ):
        try:
            async with websockets.connect(base + query) as ws:
                await ws.send(b"\x00\x00\x01\x00")
                await ws.recv()
        except websockets.ConnectionClosed:
            pass
    client = YClient(server.ws, case_id, secret)
    await client.connect()
    await client.edit(lambda d: d.get("notes", type=Text).insert(0, "x"))
    await client.close()
    await server.terminate()
    text = server.log_path.read_text()
    assert "%74oken=[redacted]" in text  # the line is there, the token is not
    assert signature not in text
