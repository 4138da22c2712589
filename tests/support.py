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


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, *, attempts: int = 150) -> None:
    """Poll `{base}/readyz` until the server answers 200 (or fail the test)."""
    import time

    import httpx

    for _ in range(attempts):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server at {base} did not become ready")
