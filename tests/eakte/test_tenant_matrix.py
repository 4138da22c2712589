"""Tenant isolation, generated from the route table: other tenants' ids are 404."""

from __future__ import annotations

import httpx
from fastapi.routing import APIRoute

from support import TENANT_A, TENANT_B

ALL_ROLES = ("clerk", "approver", "auditor", "admin", "agency")

# Bodies/headers for routes that need them; a new route with a path id must be added here.
REQUESTS: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/api/v1/cases/{case_id}"): {},
    ("GET", "/api/v1/cases/{case_id}/history"): {},
    ("PATCH", "/api/v1/cases/{case_id}"): {
        "json": {"title": "hijack"},
        "headers": {"If-Match": '"1"'},
    },
}


def _id_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and "{case_id}" in route.path:
            found += [(m, route.path) for m in sorted(route.methods) if m != "HEAD"]
    return found


async def test_every_route_with_a_case_id_is_in_the_matrix(app) -> None:  # type: ignore[no-untyped-def]
    missing = set(_id_routes(app)) - set(REQUESTS)
    assert not missing, f"add these routes to the tenant matrix: {sorted(missing)}"


async def test_foreign_tenant_ids_answer_404_and_change_nothing(
    client: httpx.AsyncClient, app, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    foreign = await new_case(tenant=TENANT_B)
    own = await new_case(tenant=TENANT_A)
    b_headers = auth("auditor", tenant=TENANT_B)
    before = (await client.get("/api/v1/audit/verify", headers=b_headers)).json()
    for method, path in _id_routes(app):
        spec = REQUESTS[(method, path)]
        extra_headers = dict(spec.get("headers", {}))  # type: ignore[call-overload]
        for target, expected in ((foreign, 404), (own, None)):
            url = path.replace("{case_id}", str(target["id"]))
            response = await client.request(
                method,
                url,
                json=spec.get("json"),
                headers=auth(*ALL_ROLES, tenant=TENANT_A) | extra_headers,
            )
            if expected:
                assert response.status_code == 404, (method, path, response.text)
                body = response.json()
                assert body["type"] == "urn:eakte:problem:case-not-found"
                assert str(target["id"]) in body["detail"]
            else:
                assert response.status_code < 400, (method, path, response.text)
    after = (await client.get("/api/v1/audit/verify", headers=b_headers)).json()
    assert after == before
    fetched = await client.get(
        f"/api/v1/cases/{foreign['id']}", headers=auth("clerk", tenant=TENANT_B)
    )
    assert fetched.json() == foreign


async def test_foreign_id_is_indistinguishable_from_missing(
    client: httpx.AsyncClient, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    foreign = await new_case(tenant=TENANT_B)
    missing_id = "2b1c9a55-0000-4000-8000-000000000000"
    a = await client.get(f"/api/v1/cases/{foreign['id']}", headers=auth("clerk"))
    b = await client.get(f"/api/v1/cases/{missing_id}", headers=auth("clerk"))
    assert a.status_code == b.status_code == 404
    strip = lambda r: {k: v for k, v in r.json().items() if k not in ("detail", "instance")}  # noqa: E731
    assert strip(a) == strip(b)
