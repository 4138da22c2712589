"""Constants and plain helpers shared by tests (`from support import ...`)."""

from __future__ import annotations

TEST_SECRET = "test-secret-" + "x7Gq2LmP9vR4tY8wZ1cK5nB3hJ6dF0sA"
TENANT_A = "augsburg"
TENANT_B = "muenchen"


def case_payload(**overrides: object) -> dict[str, object]:
    """A valid case creation body."""
    body: dict[str, object] = {
        "title": "Neubau Einfamilienhaus",
        "procedure": "baybo-59",
        "site": {
            "address": "Maximilianstraße 12, 86150 Augsburg",
            "gemarkung": "Augsburg",
            "flurstueck": "1234/5",
        },
        "applicant": {"name": "Jörg Müller", "email": "joerg@example.org"},
        "description": "Zweigeschossiges Wohnhaus",
    }
    body.update(overrides)
    return body
