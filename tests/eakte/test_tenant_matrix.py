"""Tenant isolation, generated from the route table: other tenants' ids are 404."""

from __future__ import annotations

import httpx

from eakte.xbau.inbox import register_authority
from support import LETTER_DATA, TENANT_A, TENANT_B, TINY_PDF

ALL_ROLES = ("clerk", "approver", "auditor", "admin", "agency")
PDF = TINY_PDF
DOCUMENT = "/api/v1/cases/{case_id}/documents/{document_id}"
PARTICIPATION = "/api/v1/cases/{case_id}/participations/{participation_id}"
ISSUED = "/api/v1/cases/{case_id}/issued/{issued_id}"
UPLOAD = {"files": {"file": ("plan.pdf", PDF, "application/pdf")}}

# Bodies/headers for routes that need them; a new route with a path id must be added here.
REQUESTS: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/api/v1/cases/{case_id}"): {},
    ("GET", "/api/v1/cases/{case_id}/history"): {},
    ("PUT", "/api/v1/cases/{case_id}/assignment"): {"json": {"assignee": None}},  # issue 16
    ("GET", "/api/v1/cases/{case_id}/participations/preview"): {},
    ("PATCH", "/api/v1/cases/{case_id}"): {
        "json": {"title": "hijack"},
        "headers": {"If-Match": '"1"'},
    },
    ("GET", "/api/v1/cases/{case_id}/documents"): {},
    ("POST", "/api/v1/cases/{case_id}/documents"): UPLOAD
    | {"data": {"title": "Plan", "kind": "lageplan"}},
    ("GET", DOCUMENT): {},
    ("PATCH", DOCUMENT): {"json": {"title": "hijack"}},  # issue 16: retitle / reclassify
    ("DELETE", DOCUMENT): {"own": 409},
    ("POST", DOCUMENT + "/versions"): UPLOAD,
    ("GET", DOCUMENT + "/versions/{number}"): {},
    ("GET", DOCUMENT + "/versions/{number}/content"): {},
    ("GET", DOCUMENT + "/content"): {},
    # signed download links (issue 19)
    ("POST", "/api/v1/cases/{case_id}/documents/download-links"): {"json": {}},
    ("POST", DOCUMENT + "/versions/{number}/download-link"): {},
    ("GET", "/api/v1/cases/{case_id}/process"): {},
    ("POST", "/api/v1/cases/{case_id}/process/actions"): {
        "json": {
            "action": "nachfordern",
            "expected_state": "eingegangen",
            "input": {
                "maengel": ["Lageplan"],
                "frist_bis": "2030-01-31",
                "hinweis_ruecknahmefiktion": True,
            },
        }
    },
    ("POST", "/api/v1/cases/{case_id}/process/bekanntgabe"): {  # issue 12
        "json": {
            "expected_state": "eingegangen",
            "method": "post",
            "sent_on": "2026-05-04",
            "preview": True,
        }
    },
    ("POST", "/api/v1/cases/{case_id}/participations"): {
        "json": {"kind": "fachstelle_stellungnahme", "party": "Wasserwirtschaftsamt"}
    },
    ("POST", PARTICIPATION + "/answer"): {"json": {"answer": "consent"}},
    ("POST", PARTICIPATION + "/xbau"): {
        "json": {"agency_kennung": "wwa:097610042", "agency_name": "WWA", "reason": "Versickerung"}
    },
    ("GET", "/api/v1/cases/{case_id}/workspace"): {},
    ("POST", "/api/v1/cases/{case_id}/workspace/fields/check"): {  # issue 16
        "json": {"fields": {"applicant_email": "kein-email"}}
    },
    # issuing (issue 13): each route gets a fresh draft of its own
    ("GET", "/api/v1/cases/{case_id}/issued"): {},
    ("POST", "/api/v1/cases/{case_id}/issued"): {
        "json": {"letter_type": "baugenehmigung", "data": LETTER_DATA["baugenehmigung"]}
    },
    ("GET", ISSUED): {},
    ("PATCH", ISSUED): {"json": {"data": LETTER_DATA["baugenehmigung"]}},
    ("GET", ISSUED + "/preview"): {},
    ("POST", ISSUED + "/sign"): {},
    ("POST", ISSUED + "/bekanntgabe"): {"json": {}, "own": 409},  # a draft is not signed yet
    ("GET", "/api/v1/cases/{case_id}/workspace/versions"): {},
    ("POST", "/api/v1/cases/{case_id}/workspace/versions"): {"json": {"name": "Entwurf"}},
    ("GET", "/api/v1/cases/{case_id}/workspace/history"): {},
    ("GET", "/api/v1/cases/{case_id}/workspace/history/{entry_id}"): {},
    ("POST", "/api/v1/cases/{case_id}/workspace/history/{entry_id}/restore"): {},
    ("POST", "/api/v1/cases/{case_id}/workspace/versions/{version_id}/restore"): {},
    # records (issue 15); "own" is the status the own tenant gets where it is not a success
    ("DELETE", "/api/v1/cases/{case_id}"): {"own": 409},
    ("DELETE", DOCUMENT + "/versions/{number}"): {"own": 409},
    ("POST", DOCUMENT + "/withdrawal"): {"json": {"reason": "irrtümlich hochgeladen"}},
    ("GET", "/api/v1/cases/{case_id}/record"): {},
    ("POST", "/api/v1/cases/{case_id}/record/closing"): {"json": {}, "own": 409},
    ("POST", "/api/v1/cases/{case_id}/record/reopening"): {
        "json": {"reason": "Nachtrag"},
        "own": 409,
    },
    ("POST", "/api/v1/cases/{case_id}/record/legal-hold"): {"json": {"reason": "Rechtsstreit"}},
    ("POST", "/api/v1/cases/{case_id}/record/legal-hold/lifting"): {
        "json": {"reason": "Rechtsstreit beendet"}
    },
}


def _id_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    # from the OpenAPI paths: app.routes no longer lists included routers' routes
    found = []
    for path, operations in app.openapi()["paths"].items():
        if "{case_id}" in path:
            found += [(m.upper(), path) for m in sorted(operations) if m != "head"]
    return found


async def _document(client: httpx.AsyncClient, auth, case: dict) -> str:  # type: ignore[no-untyped-def,type-arg]
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        **REQUESTS[("POST", "/api/v1/cases/{case_id}/documents")],  # type: ignore[arg-type]
        headers=auth("clerk", tenant=case["tenant"]),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _workspace_ids(client: httpx.AsyncClient, auth, case: dict) -> tuple[str, str]:  # type: ignore[no-untyped-def,type-arg]
    headers = auth("clerk", tenant=case["tenant"])
    base = f"/api/v1/cases/{case['id']}/workspace"
    version = await client.post(base + "/versions", json={"name": "Stand"}, headers=headers)
    assert version.status_code == 201, version.text
    entries = await client.get(base + "/history", headers=headers)
    assert entries.status_code == 200, entries.text
    return str(entries.json()["items"][0]["id"]), str(version.json()["id"])


async def _draft(client: httpx.AsyncClient, auth, case: dict) -> str:  # type: ignore[no-untyped-def,type-arg]
    response = await client.post(
        f"/api/v1/cases/{case['id']}/issued",
        **REQUESTS[("POST", "/api/v1/cases/{case_id}/issued")],  # type: ignore[arg-type]
        headers=auth("clerk", tenant=case["tenant"], sub=f"clara@{case['tenant']}"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _participation(client: httpx.AsyncClient, auth, case: dict) -> str:  # type: ignore[no-untyped-def,type-arg]
    response = await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={"kind": "fachstelle_zustimmung", "party": "Denkmalschutz"},
        headers=auth("clerk", tenant=case["tenant"]),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_every_route_with_a_case_id_is_in_the_matrix(app) -> None:  # type: ignore[no-untyped-def]
    missing = set(_id_routes(app)) - set(REQUESTS)
    assert not missing, f"add these routes to the tenant matrix: {sorted(missing)}"


async def test_foreign_tenant_ids_answer_404_and_change_nothing(
    client: httpx.AsyncClient, app, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    foreign = await new_case(tenant=TENANT_B)
    own = await new_case(tenant=TENANT_A)
    async with app.state.db.session() as session:  # the XBau route needs the tenant's address
        await register_authority(session, kennung="bau:097610000", tenant=TENANT_A, name="Augsburg")
    documents = {  # a fresh document per route and case (DELETE must not affect the others)
        (route, case["id"]): await _document(client, auth, case)
        for route in _id_routes(app)
        if "{document_id}" in route[1]
        for case in (foreign, own)
    }
    participations = {
        case["id"]: await _participation(client, auth, case) for case in (foreign, own)
    }
    drafts = {  # issue 13: a fresh draft per route and case (signing changes it)
        (route, case["id"]): await _draft(client, auth, case)
        for route in _id_routes(app)
        if "{issued_id}" in route[1]
        for case in (foreign, own)
    }
    workspace_ids = {  # issue 17: a history entry and a named version per case
        case["id"]: await _workspace_ids(client, auth, case) for case in (foreign, own)
    }
    b_headers = auth("auditor", tenant=TENANT_B)
    before = (await client.get("/api/v1/audit/verify", headers=b_headers)).json()
    for method, path in _id_routes(app):
        spec = REQUESTS[(method, path)]
        extra_headers = dict(spec.get("headers", {}))  # type: ignore[call-overload]
        for target, expected in ((foreign, 404), (own, None)):
            url = path.replace("{case_id}", str(target["id"])).replace("{number}", "1")
            if "{document_id}" in path:
                url = url.replace("{document_id}", documents[(method, path), target["id"]])
            url = url.replace("{participation_id}", participations[target["id"]])
            if "{issued_id}" in path:
                url = url.replace("{issued_id}", drafts[(method, path), target["id"]])
            entry_id, version_id = workspace_ids[target["id"]]
            url = url.replace("{entry_id}", entry_id).replace("{version_id}", version_id)
            response = await client.request(
                method,
                url,
                json=spec.get("json"),
                files=spec.get("files"),  # type: ignore[arg-type]
                data=spec.get("data"),  # type: ignore[arg-type]
                headers=auth(*ALL_ROLES, tenant=TENANT_A) | extra_headers,
            )
            if expected:
                assert response.status_code == 404, (method, path, response.text)
                body = response.json()
                assert body["type"] == "urn:eakte:problem:case-not-found"
                assert str(target["id"]) in body["detail"]
            elif "own" in spec:
                assert response.status_code == spec["own"], (method, path, response.text)
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
