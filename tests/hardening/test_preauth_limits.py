"""Resource exhaustion before authentication (issue 18): bodies and headers.

The attacks: an anonymous multipart body of many megabytes to a JSON route, a body behind a
bad token, and a huge header line. Each is answered without the body being read (we count
the chunks the server pulled from the client) or refused at the protocol level.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx

from support import raw_request

CHUNK = 64 * 1024
PROBLEM = "urn:eakte:problem:"


class CountingBody:
    """A request body of `total` bytes that counts how much of it the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"x" * CHUNK


async def test_anonymous_multipart_body_to_a_json_route_is_not_read(
    client: httpx.AsyncClient,
) -> None:
    body = CountingBody(32 * 1024 * 1024)
    response = await client.post(
        "/api/v1/cases",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 401, response.text
    assert response.json()["type"] == PROBLEM + "unauthenticated"
    assert body.sent <= CHUNK  # at most what the transport pushed before the answer


async def test_bad_token_is_refused_before_the_body(client: httpx.AsyncClient) -> None:
    body = CountingBody(900 * 1024)  # under the JSON limit: today it is read, then 401
    response = await client.post(
        "/api/v1/cases",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer not.a.token"},
    )
    assert response.status_code == 401
    assert body.sent <= CHUNK


async def test_multipart_to_a_json_route_meets_the_json_limit(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = CountingBody(32 * 1024 * 1024)
    response = await client.post(
        "/api/v1/cases",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=xyz", **auth("clerk")},
    )
    assert response.status_code == 413, response.text
    assert response.json()["type"] == PROBLEM + "payload-too-large"
    assert body.sent <= 1024 * 1024 + 2 * CHUNK


async def test_anonymous_upload_is_refused_before_the_body(
    client: httpx.AsyncClient, new_case: Callable[..., object]
) -> None:
    case = await new_case()
    assert isinstance(case, dict)
    body = CountingBody(32 * 1024 * 1024)
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 401
    assert body.sent <= CHUNK


async def test_oversized_header_block_is_431(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Junk": "a" * (64 * 1024)})
    assert response.status_code == 431
    assert response.json()["type"] == PROBLEM + "headers-too-large"
    assert (await client.get("/healthz")).status_code == 200


def test_a_huge_header_line_is_refused_on_the_wire(serve: Callable[..., str]) -> None:
    """A 4 MiB header line: the server answers with an error and stays healthy."""
    base = serve()
    junk = b"a" * (4 * 1024 * 1024)
    answer = raw_request(
        base, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Junk: " + junk + b"\r\n\r\n"
    )
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 200 " not in status_line, status_line
    assert status_line == b"" or status_line.split(b" ")[1] in {b"400", b"431"}
    assert httpx.get(base + "/healthz").status_code == 200
