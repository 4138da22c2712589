"""Bad input gets a clear 4xx problem response and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from support import case_payload

PROBLEM = "application/problem+json"


async def _state(client: httpx.AsyncClient, auth) -> tuple[list[dict], dict]:  # type: ignore[no-untyped-def]
    cases = (await client.get("/api/v1/cases", params={"limit": 100}, headers=auth("clerk"))).json()
    audit = (await client.get("/api/v1/audit/verify", headers=auth("auditor"))).json()
    return cases["items"], audit


BAD_CREATES = {
    "malformed-json": (b'{"title": "x",', 400, "malformed-body"),
    "not-an-object": (b'["a"]', 422, "validation-failed"),
    "wrong-type": ({**case_payload(), "title": 42}, 422, "validation-failed"),
    "empty-title": ({**case_payload(), "title": "   "}, 422, "validation-failed"),
    "oversized-title": ({**case_payload(), "title": "x" * 301}, 422, "validation-failed"),
    "oversized-description": (
        {**case_payload(), "description": "x" * 20_001},
        422,
        "validation-failed",
    ),
    "unknown-field": ({**case_payload(), "owner": "me"}, 422, "validation-failed"),
    "unknown-nested-field": (
        {**case_payload(), "site": {"address": "A", "x": 1}},
        422,
        "validation-failed",
    ),
    "missing-site": (
        {k: v for k, v in case_payload().items() if k != "site"},
        422,
        "validation-failed",
    ),
    "bad-email": (
        {**case_payload(), "applicant": {"name": "A", "email": "nope"}},
        422,
        "validation-failed",
    ),
    "bad-flurstueck": (
        {**case_payload(), "site": {"address": "A", "flurstueck": "12a/b; DROP"}},
        422,
        "validation-failed",
    ),
    "bad-procedure": ({**case_payload(), "procedure": "../etc"}, 422, "validation-failed"),
    "null-byte-title": ({**case_payload(), "title": None}, 422, "validation-failed"),
}


@pytest.mark.parametrize("name", list(BAD_CREATES))
async def test_bad_create_bodies(client: httpx.AsyncClient, auth, new_case, name: str) -> None:  # type: ignore[no-untyped-def]
    await new_case()
    before = await _state(client, auth)
    body, status, slug = BAD_CREATES[name]
    headers = auth("clerk") | {"Content-Type": "application/json"}
    if isinstance(body, bytes):
        response = await client.post("/api/v1/cases", content=body, headers=headers)
    else:
        response = await client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == f"urn:eakte:problem:{slug}"
    assert problem["status"] == status
    assert "Traceback" not in response.text
    assert await _state(client, auth) == before


async def test_validation_problem_lists_the_fields(client: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/cases", json={**case_payload(), "title": 42}, headers=auth("clerk")
    )
    errors = response.json()["errors"]
    assert ["body", "title"] in [e["loc"] for e in errors]


async def test_huge_body_is_413(client: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    body = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/cases", content=body, headers=auth("clerk") | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:eakte:problem:payload-too-large"


async def test_chunked_huge_body_is_413(client: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"title": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/api/v1/cases",
        content=chunks(),
        headers=auth("clerk") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("case_id", ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000Z"])
async def test_invalid_uuid_is_422(client: httpx.AsyncClient, auth, case_id: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/cases/{case_id}", headers=auth("clerk"))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_unknown_case_is_404(client: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/cases/7c7c7c7c-7c7c-4c7c-8c7c-7c7c7c7c7c7c", headers=auth("clerk")
    )
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:case-not-found"


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"q": "x" * 201}],
)
async def test_bad_list_params_are_422(client: httpx.AsyncClient, auth, params: dict) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/cases", params=params, headers=auth("clerk"))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"revision": 7},
        {"site": {"flurstueck": "abc"}},
        {"applicant": {"email": "x@y.z"}},
    ],
)
async def test_bad_patches_change_nothing(
    client: httpx.AsyncClient, auth, new_case, body: dict
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    url = f"/api/v1/cases/{case['id']}"
    response = await client.patch(url, json=body, headers=auth("clerk") | {"If-Match": '"1"'})
    assert response.status_code == 422
    assert (await client.get(url, headers=auth("clerk"))).json() == case
