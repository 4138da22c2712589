"""`eakte tenant create|update|list|show`: cities as configuration, outside dev mode too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

app = typer.Typer(help="Tenants (cities): create, change, list, show.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)  # one error, one line (issue 19)
T = TypeVar("T")

Name = Annotated[
    str | None, typer.Option(help="display name, e.g. 'Stadt Augsburg – Bauordnungsamt'")
]
Pattern = Annotated[
    str | None, typer.Option("--file-number-pattern", help="e.g. 'AU-{year}-{seq:05d}'")
]
Calendar = Annotated[
    str | None, typer.Option("--holiday-calendar", help="e.g. bavaria, bavaria-augsburg")
]
MediaTypes = Annotated[
    str | None, typer.Option("--allowed-media-types", help="comma-separated upload allow-list")
]
MaxUpload = Annotated[int | None, typer.Option("--max-upload-bytes", help="per file")]
Street = Annotated[str | None, typer.Option(help="authority address: street and number")]
PostalCode = Annotated[str | None, typer.Option("--postal-code", help="authority address")]
City = Annotated[str | None, typer.Option(help="authority address: city")]
Authority = Annotated[str | None, typer.Option(help="authority address: office name")]
Email = Annotated[str | None, typer.Option(help="contact e-mail")]
Phone = Annotated[str | None, typer.Option(help="contact phone")]
Website = Annotated[str | None, typer.Option(help="contact web site")]
Idp = Annotated[
    Path | None,
    typer.Option(
        "--identity-provider",
        help="JSON file: issuer, jwks_url, audience, client_id, roles_claims, role_map",
    ),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--from-json", help="JSON file with any of the fields")
]


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    from eakte.cli import _settings
    from eakte.db import Database
    from eakte.errors import DomainError

    settings = _settings()

    async def _go() -> T:
        db = Database(settings.resolved_database_url())
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(_go())
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc


def _body(base: dict[str, Any], **options: Any) -> dict[str, Any]:
    body = dict(base)
    address = {k: options.pop(k) for k in ("authority", "street", "postal_code", "city")}
    contact = {k: options.pop(k) for k in ("email", "phone", "website")}
    idp = options.pop("identity_provider")
    if any(v is not None for v in address.values()):
        body["authority_address"] = {
            **body.get("authority_address", {}),
            **{k: v for k, v in address.items() if v is not None},
        }
    if any(v is not None for v in contact.values()):
        body["contact"] = {
            **body.get("contact", {}),
            **{k: v for k, v in contact.items() if v is not None},
        }
    if options.get("allowed_media_types") is not None:
        options["allowed_media_types"] = [
            t.strip() for t in options["allowed_media_types"].split(",") if t.strip()
        ]
    if idp is not None:
        body["identity_provider"] = _read_json(idp)
    body.update({k: v for k, v in options.items() if v is not None})
    return body


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        err.print(f"[red]cannot read {path}: {exc}[/red]")
        raise typer.Exit(2) from exc
    if not isinstance(data, dict):
        err.print(f"[red]{path} must hold a JSON object[/red]")
        raise typer.Exit(2)
    return data


def _validated(model: type[T], body: dict[str, Any]) -> T:
    try:
        return model.model_validate(body)  # type: ignore[attr-defined, no-any-return]
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"[red]{'.'.join(str(p) for p in e['loc'])}: {e['msg']}[/red]")
        raise typer.Exit(2) from exc


def _print(read: Any) -> None:
    print(json.dumps(read.model_dump(mode="json"), ensure_ascii=False, indent=2))


@app.command()
def create(
    slug: Annotated[str, typer.Argument(help="e.g. augsburg (the `tenant` in tokens)")],
    name: Name = None,
    file_number_pattern: Pattern = None,
    holiday_calendar: Calendar = None,
    allowed_media_types: MediaTypes = None,
    max_upload_bytes: MaxUpload = None,
    authority: Authority = None,
    street: Street = None,
    postal_code: PostalCode = None,
    city: City = None,
    email: Email = None,
    phone: Phone = None,
    website: Website = None,
    identity_provider: Idp = None,
    from_json: ConfigFile = None,
) -> None:
    """Create a city (with its audit chain); prints its configuration as JSON."""
    from eakte.tenants.admin import create_tenant, to_read
    from eakte.tenants.schemas import TenantCreate

    base = _read_json(from_json) if from_json else {}
    body = _body(
        base | {"slug": slug},
        name=name,
        file_number_pattern=file_number_pattern,
        holiday_calendar=holiday_calendar,
        allowed_media_types=allowed_media_types,
        max_upload_bytes=max_upload_bytes,
        authority=authority,
        street=street,
        postal_code=postal_code,
        city=city,
        email=email,
        phone=phone,
        website=website,
        identity_provider=identity_provider,
    )
    data = _validated(TenantCreate, body)

    async def _work(session: Any) -> Any:
        return to_read(await create_tenant(session, data))

    _print(_run(_work))
    err.print(f"[green]tenant {slug} created[/green]")


@app.command()
def update(
    slug: Annotated[str, typer.Argument(help="the tenant to change")],
    name: Name = None,
    file_number_pattern: Pattern = None,
    holiday_calendar: Calendar = None,
    allowed_media_types: MediaTypes = None,
    max_upload_bytes: MaxUpload = None,
    authority: Authority = None,
    street: Street = None,
    postal_code: PostalCode = None,
    city: City = None,
    email: Email = None,
    phone: Phone = None,
    website: Website = None,
    identity_provider: Idp = None,
    remove_identity_provider: Annotated[
        bool, typer.Option("--remove-identity-provider", help="tokens then need a tenant claim")
    ] = False,
    from_json: ConfigFile = None,
) -> None:
    """Change the given fields (others stay); prints the new configuration."""
    from eakte.tenants.admin import to_read, update_tenant
    from eakte.tenants.schemas import TenantUpdate
    from eakte.tenants.service import get_tenant

    base = _read_json(from_json) if from_json else {}
    options = dict(
        name=name,
        file_number_pattern=file_number_pattern,
        holiday_calendar=holiday_calendar,
        allowed_media_types=allowed_media_types,
        max_upload_bytes=max_upload_bytes,
        authority=authority,
        street=street,
        postal_code=postal_code,
        city=city,
        email=email,
        phone=phone,
        website=website,
        identity_provider=identity_provider,
    )

    async def _work(session: Any) -> Any:
        current = to_read(await get_tenant(session, slug)).model_dump(mode="json")
        # merge nested objects so `--city X` keeps the street
        merged = {k: current[k] for k in ("authority_address", "contact") if k not in base} | base
        body = _body(merged, **options)
        if remove_identity_provider:
            body["remove_identity_provider"] = True
        return to_read(await update_tenant(session, slug, _validated(TenantUpdate, body)))

    _print(_run(_work))
    err.print(f"[green]tenant {slug} updated[/green]")


@app.command("list")
def list_() -> None:
    """One line per city: slug, name, calendar, identity provider."""
    from eakte.tenants.admin import list_tenants

    async def _work(session: Any) -> list[Any]:
        return await list_tenants(session)

    for t in _run(_work):
        print(f"{t.slug}\t{t.name}\t{t.holiday_calendar}\t{t.idp_issuer or '-'}")


@app.command()
def show(slug: Annotated[str, typer.Argument(help="the tenant")]) -> None:
    """A city's whole configuration as JSON."""
    from eakte.tenants.admin import to_read
    from eakte.tenants.service import get_tenant

    async def _work(session: Any) -> Any:
        return to_read(await get_tenant(session, slug))

    _print(_run(_work))
