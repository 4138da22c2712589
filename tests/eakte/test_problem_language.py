"""Problem answers in German or English by Accept-Language; the `type` never changes (issue 16)."""

from __future__ import annotations

import httpx
import pytest

from eakte.errors import TITLES_DE, DomainError, negotiate_language

MISSING_CASE = "/api/v1/cases/00000000-0000-4000-8000-000000000000"
MISSING_APPLICATION = "/api/v1/authorities/augsburg/applications/BA-2026-99999"


@pytest.mark.parametrize(
    ("header", "path", "expected"),
    [
        (None, "/api/v1/cases", "en"),
        (None, "/api/v1/authorities/augsburg/applications/BA-1", "de"),
        (None, "/api/v1/applications", "de"),
        ("de-DE,de;q=0.9,en;q=0.8", "/api/v1/cases", "de"),
        ("en-US,en;q=0.9", "/api/v1/applications", "en"),
        ("en;q=0.5, de;q=0.8", "/api/v1/cases", "de"),
        ("fr-FR, de;q=0.1", "/api/v1/cases", "de"),
        ("fr-FR", "/api/v1/applications", "de"),
        ("de;q=0", "/api/v1/cases", "en"),
        ("de;q=abc, ,;;", "/api/v1/cases", "en"),
        ("x" * 5000, "/api/v1/applications", "de"),
    ],
)
def test_language_negotiation(header: str | None, path: str, expected: str) -> None:
    assert negotiate_language(header, path) == expected


def _all_errors() -> list[type[DomainError]]:
    import eakte.app  # noqa: F401  (imports every domain's errors)

    found: list[type[DomainError]] = []
    stack = [DomainError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def test_every_problem_type_has_a_german_title() -> None:
    missing = sorted(
        {c.slug for c in _all_errors() if " / " not in c.title and c.slug not in TITLES_DE}
    )
    assert missing == []


async def test_officials_api_answers_in_the_language_asked_for(
    client: httpx.AsyncClient, auth
) -> None:
    english = await client.get(MISSING_CASE, headers=auth("clerk"))
    german = await client.get(
        MISSING_CASE, headers=auth("clerk") | {"Accept-Language": "de-DE,de;q=0.9"}
    )
    assert english.status_code == german.status_code == 404
    assert english.json()["type"] == german.json()["type"] == "urn:eakte:problem:case-not-found"
    assert english.json()["title"] == "Case not found"
    assert german.json()["title"] == "Vorgang nicht gefunden"
    assert german.headers["content-language"] == "de"
    assert "accept-language" in german.headers["vary"].lower()
    assert german.json()["detail_en"] == english.json()["detail"]


async def test_applicant_routes_answer_in_german_by_default(client: httpx.AsyncClient) -> None:
    headers = {"X-Access-Code": "ABCD-EFGH-IJKL"}
    german = await client.get(MISSING_APPLICATION, headers=headers)
    english = await client.get(MISSING_APPLICATION, headers=headers | {"Accept-Language": "en"})
    assert german.status_code == english.status_code == 404
    assert german.json()["type"] == english.json()["type"]
    assert german.json()["title"] == "Antrag nicht gefunden"
    assert english.json()["title"] == "Application not found"


async def test_validation_messages_are_german(client: httpx.AsyncClient, auth) -> None:
    response = await client.post(
        "/api/v1/cases",
        json={"title": "", "procedure": "baybo-59", "applicant": {"name": "A", "email": "kein"}},
        headers=auth("clerk") | {"Accept-Language": "de"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:eakte:problem:validation-failed"
    assert body["title"] == "Die Angaben sind nicht gültig"
    assert "body.site: Angabe fehlt" in body["detail"]
    assert "body.title: ist zu kurz" in body["detail"]
    by_field = {e["loc"][-1]: e["msg_de"] for e in body["errors"]}
    assert by_field["email"] == "ist keine gültige E-Mail-Adresse"
    malformed = await client.post(
        "/api/v1/cases",
        content=b"{nope",
        headers=auth("clerk") | {"Accept-Language": "de", "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["title"] == "Der Inhalt der Anfrage ist kein gültiges JSON"


async def test_middleware_problems_follow_the_language_too(client: httpx.AsyncClient) -> None:
    """Answers given before routing (header and body limits, early auth) are localised alike."""
    # a body without a token is refused before it is read
    german = await client.post("/api/v1/cases", json={}, headers={"Accept-Language": "de"})
    english = await client.post("/api/v1/cases", json={})
    assert german.status_code == english.status_code == 401
    assert german.json()["type"] == english.json()["type"] == "urn:eakte:problem:unauthenticated"
    assert german.json()["title"] == "Anmeldung erforderlich"
    assert english.json()["title"] == "Authentication required"
