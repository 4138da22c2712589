"""Operations endpoints and the problem-JSON contract of the app itself."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_database(client: httpx.AsyncClient, database_url: str) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] in ("sqlite", "postgresql")


async def test_readyz_503_when_database_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from eakte.app import create_app
    from eakte.config import Settings

    settings = Settings(
        env="dev",
        database_url="postgresql://nobody@127.0.0.1:1/nothing",
        data_dir=tmp_path,
        jwt_secret="x" * 40,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:eakte:problem:service-unavailable"


async def test_metrics_count_requests_per_route_template(client: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    await client.get("/healthz")
    await client.get("/api/v1/cases/00000000-0000-0000-0000-000000000001", headers=auth("clerk"))
    body = (await client.get("/metrics")).text
    assert 'eakte_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in body
    assert 'route="/api/v1/cases/{case_id}",status="404"' in body
    assert "eakte_http_request_duration_seconds_bucket" in body


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:eakte:problem:not-found"
    assert body["status"] == 404 and body["title"] and body["detail"]


async def test_wrong_method_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


async def test_openapi_lists_problem_responses(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    patch = schema["paths"]["/api/v1/cases/{case_id}"]["patch"]
    assert {"404", "412", "428"} <= set(patch["responses"])
    assert (await client.get("/docs")).status_code == 200
