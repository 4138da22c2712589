"""Tenants as configuration: `eakte tenant …` and the admin API, on both databases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from eakte.config import Settings
from support import TENANT_A, TENANT_B, case_payload

EAKTE = [sys.executable, "-m", "eakte.cli"]
ADMIN = "/api/v1/admin/tenants"

REGENSBURG = {
    "slug": "regensburg",
    "name": "Stadt Regensburg – Bauordnungsamt",
    "authority_address": {
        "authority": "Bauordnungsamt",
        "street": "D.-Martin-Luther-Straße 1",
        "postal_code": "93047",
        "city": "Regensburg",
    },
    "contact": {"email": "bauordnungsamt@regensburg.example", "phone": "+49 941 507-0"},
    "file_number_pattern": "R-{year}-{seq:04d}",
    "holiday_calendar": "bavaria-catholic",
    "allowed_media_types": ["application/pdf"],
    "max_upload_bytes": 10 * 1024 * 1024,
}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EAKTE, "tenant", *args], env=env, capture_output=True, text=True)


def test_cli_creates_a_city_that_officials_can_use(cli_env: dict[str, str]) -> None:
    created = _cli(
        cli_env,
        "create",
        "regensburg",
        "--name",
        "Stadt Regensburg – Bauordnungsamt",
        "--file-number-pattern",
        "R-{year}-{seq:04d}",
        "--holiday-calendar",
        "bavaria-catholic",
        "--street",
        "D.-Martin-Luther-Straße 1",
        "--postal-code",
        "93047",
        "--city",
        "Regensburg",
        "--email",
        "bau@regensburg.example",
        "--allowed-media-types",
        "application/pdf,image/png",
    )
    assert created.returncode == 0, created.stderr
    shown = json.loads(_cli(cli_env, "show", "regensburg").stdout)
    assert shown["name"] == "Stadt Regensburg – Bauordnungsamt"
    assert shown["authority_address"]["city"] == "Regensburg"
    assert shown["allowed_media_types"] == ["application/pdf", "image/png"]

    updated = _cli(cli_env, "update", "regensburg", "--phone", "+49 941 507-0", "--city", "Rgbg")
    assert updated.returncode == 0, updated.stderr
    after = json.loads(updated.stdout)
    assert after["contact"] == {**shown["contact"], "phone": "+49 941 507-0"}
    assert after["authority_address"]["street"] == "D.-Martin-Luther-Straße 1"  # kept
    assert after["authority_address"]["city"] == "Rgbg"

    listed = _cli(cli_env, "list").stdout
    assert "regensburg\tStadt Regensburg – Bauordnungsamt\tbavaria-catholic" in listed
    # an official's token for the new city works, and its file numbers follow the pattern
    token = subprocess.run(
        [*EAKTE, "token", "--tenant", "regensburg", "--user", "u", "--roles", "clerk"],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    from eakte.app import create_app

    settings = Settings(
        env="dev",
        database_url=cli_env["EAKTE_DATABASE_URL"],
        data_dir=Path(cli_env["EAKTE_DATA_DIR"]),
        jwt_secret=cli_env["EAKTE_JWT_SECRET"],
    )

    async def _create_case() -> httpx.Response:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/v1/cases", json=case_payload(), headers={"Authorization": f"Bearer {token}"}
            )
        await app.state.db.dispose()
        return response

    import asyncio

    response = asyncio.run(_create_case())
    assert response.status_code == 201, response.text
    assert response.json()["file_number"].startswith("R-")
    assert response.json()["file_number"].endswith("-0001")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--holiday-calendar", "narnia"], "unknown holiday calendar 'narnia'"),
        (["--file-number-pattern", "BA-{year}"], "must contain {seq"),
        (["--file-number-pattern", "BA-{jahr}-{seq}"], "invalid file-number pattern"),
        (["--postal-code", "123"], "postal_code"),
        (["--allowed-media-types", "pdf"], "allowed_media_types"),
    ],
)
def test_cli_refuses_bad_settings_in_one_line(
    cli_env: dict[str, str], args: list[str], message: str
) -> None:
    result = _cli(cli_env, "create", "passau", "--name", "Stadt Passau", *args)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert _cli(cli_env, "show", "passau").returncode == 1  # nothing was created


def test_cli_refuses_a_second_city_of_the_same_slug(cli_env: dict[str, str]) -> None:
    assert _cli(cli_env, "create", "passau", "--name", "Stadt Passau").returncode == 0
    again = _cli(cli_env, "create", "passau", "--name", "Andere")
    assert again.returncode == 1 and "existiert bereits" in again.stderr
    assert json.loads(_cli(cli_env, "show", "passau").stdout)["name"] == "Stadt Passau"


@pytest.fixture
def operator_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"operator_tenant": TENANT_A})


@pytest.fixture
async def operator_client(operator_settings: Settings, db):  # type: ignore[no-untyped-def]
    from eakte.app import create_app

    app = create_app(operator_settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.db.dispose()


async def test_operator_admin_creates_and_changes_cities(operator_client, auth) -> None:  # type: ignore[no-untyped-def]
    response = await operator_client.post(ADMIN, json=REGENSBURG, headers=auth("admin"))
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{ADMIN}/regensburg"
    body = response.json()
    assert body["authority_address"]["postal_code"] == "93047"
    assert body["holiday_calendar"] == "bavaria-catholic"

    patched = await operator_client.patch(
        f"{ADMIN}/regensburg",
        json={"max_upload_bytes": 2048, "contact": {"email": "x@y.de"}},
        headers=auth("admin"),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["max_upload_bytes"] == 2048
    assert patched.json()["authority_address"]["city"] == "Regensburg"

    listed = await operator_client.get(ADMIN, headers=auth("admin"))
    assert [t["slug"] for t in listed.json()["items"]] == [TENANT_A, TENANT_B, "regensburg"]

    # the new city's admin (a token the directory did not know a moment ago) sees only itself
    own = await operator_client.get(ADMIN, headers=auth("admin", tenant="regensburg"))
    assert own.status_code == 200, own.text
    assert [t["slug"] for t in own.json()["items"]] == ["regensburg"]


async def test_city_admin_manages_only_its_own_city(client, auth) -> None:  # type: ignore[no-untyped-def]
    mine = await client.get(f"{ADMIN}/{TENANT_A}", headers=auth("admin"))
    assert mine.status_code == 200
    other = await client.get(f"{ADMIN}/{TENANT_B}", headers=auth("admin"))
    assert other.status_code == 404
    assert other.json()["type"] == "urn:eakte:problem:tenant-not-found"
    patch_other = await client.patch(
        f"{ADMIN}/{TENANT_B}", json={"name": "gekapert"}, headers=auth("admin")
    )
    assert patch_other.status_code == 404
    untouched = await client.get(f"{ADMIN}/{TENANT_B}", headers=auth("admin", tenant=TENANT_B))
    assert untouched.json()["name"] == "Landeshauptstadt München"
    # no operator tenant configured: nobody creates cities through the API
    create = await client.post(ADMIN, json=REGENSBURG, headers=auth("admin"))
    assert create.status_code == 403
    # other roles may not read the configuration
    assert (await client.get(f"{ADMIN}/{TENANT_A}", headers=auth("clerk"))).status_code == 403
    assert (await client.get(f"{ADMIN}/{TENANT_A}")).status_code == 401


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"holiday_calendar": "narnia"}, "invalid-tenant-setting"),
        ({"file_number_pattern": "{seq}{year}{oops}"}, "invalid-tenant-setting"),
        ({"file_number_pattern": "BA-{year}"}, "invalid-tenant-setting"),
        ({"max_upload_bytes": -1}, "validation-failed"),
        ({"allowed_media_types": []}, "validation-failed"),
        ({"allowed_media_types": ["../etc"]}, "validation-failed"),
        ({"contact": {"email": "no-at-sign"}}, "validation-failed"),
        ({"slug": "renamed"}, "validation-failed"),
        ({"identity_provider": {"issuer": "https://idp"}}, "validation-failed"),
        (
            {
                "identity_provider": {
                    "issuer": "https://idp.example/realms/a",
                    "jwks_url": "https://idp.example/jwks",
                    "audience": "eakte",
                    "role_map": {"Bauamt": "king"},
                }
            },
            "validation-failed",
        ),
    ],
)
async def test_bad_settings_are_problems_and_change_nothing(client, auth, body, slug) -> None:  # type: ignore[no-untyped-def]
    before = (await client.get(f"{ADMIN}/{TENANT_A}", headers=auth("admin"))).json()
    response = await client.patch(f"{ADMIN}/{TENANT_A}", json=body, headers=auth("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:eakte:problem:{slug}"
    after = (await client.get(f"{ADMIN}/{TENANT_A}", headers=auth("admin"))).json()
    assert after == before


async def test_an_issuer_belongs_to_one_city(client, auth) -> None:  # type: ignore[no-untyped-def]
    idp = {
        "issuer": "https://login.augsburg.example/realms/bau",
        "jwks_url": "https://login.augsburg.example/realms/bau/certs",
        "audience": "eakte",
        "roles_claims": ["realm_access.roles"],
        "role_map": {"bau-sachbearbeitung": "clerk"},
    }
    mine = await client.patch(
        f"{ADMIN}/{TENANT_A}", json={"identity_provider": idp}, headers=auth("admin")
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["identity_provider"]["role_map"] == {"bau-sachbearbeitung": "clerk"}
    theirs = await client.patch(
        f"{ADMIN}/{TENANT_B}",
        json={"identity_provider": idp},
        headers=auth("admin", tenant=TENANT_B),
    )
    assert theirs.status_code == 409
    assert theirs.json()["type"] == "urn:eakte:problem:issuer-in-use"
    removed = await client.patch(
        f"{ADMIN}/{TENANT_A}", json={"remove_identity_provider": True}, headers=auth("admin")
    )
    assert removed.json()["identity_provider"] is None
