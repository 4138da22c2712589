"""`eakte xbau …`: import message files, register authority addresses."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="XBau 2.6 interface (issue 14).", no_args_is_help=True)
authority_app = typer.Typer(
    help="XBau addresses of the receiving authorities.", no_args_is_help=True
)
app.add_typer(authority_app, name="authority")
err = Console(stderr=True)


def _files_next_to(path: Path, names: list[str]) -> dict[str, object]:
    from eakte.xbau.inbox import DeliveredFile

    found: dict[str, object] = {}
    for name in names:
        candidate = path.parent / name
        if name and Path(name).name == name and candidate.is_file():
            found[name] = DeliveredFile(
                name=name,
                size=candidate.stat().st_size,
                open=lambda c=candidate: c.open("rb"),  # type: ignore[misc]
            )
    return found


@app.command("import")
def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="XBau message files (.xml); Anlagen are "
            "read from the same folder by their dateiname"
        ),
    ],
    tenant: Annotated[str | None, typer.Option(help="refuse messages for other tenants")] = None,
) -> None:
    """Import XBau messages as if delivered to the inbox; exit 1 if any was refused."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from eakte.cli import _settings
    from eakte.db import Database
    from eakte.documents.store import build_store
    from eakte.errors import DomainError
    from eakte.xbau import inbox, mapping, parsing

    settings = _settings()

    async def _run() -> int:
        db = Database(settings.resolved_database_url())
        store = build_store(settings)
        failed = 0
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=len(files) < 2,
            ) as progress:
                task = progress.add_task("importing", total=len(files))
                for path in files:
                    try:
                        raw = path.read_bytes()
                        names: list[str] = []
                        try:
                            root = parsing.parse(raw, max_bytes=settings.xbau_max_message_bytes)
                            names = [a.filename for a in mapping.attachments(root)]
                        except DomainError:
                            pass  # receive() reports it
                        receipt = await inbox.receive(
                            db,
                            store,
                            raw=raw,
                            files=_files_next_to(path, names),  # type: ignore[arg-type]
                            via_tenant=tenant,
                            max_bytes=settings.xbau_max_message_bytes,
                        )
                        body = receipt.body
                        word = "imported" if receipt.created else "already received"
                        progress.console.print(
                            f"{path}: {word} {body.get('message_type')} -> "
                            f"{body.get('tenant')} {body.get('file_number', '')}",
                            soft_wrap=True,  # one line per file, whatever the terminal width
                        )
                    except DomainError as exc:
                        failed += 1
                        progress.console.print(
                            f"[red]{path}: refused ({exc.slug}): {exc.detail}[/red]",
                            soft_wrap=True,
                        )
                    except OSError as exc:
                        failed += 1
                        progress.console.print(f"[red]{path}: {exc}[/red]", soft_wrap=True)
                    progress.advance(task)
        finally:
            await db.dispose()
        err.print(f"{len(files) - failed} of {len(files)} messages accepted")
        return 1 if failed else 0

    code = asyncio.run(_run())
    if code:
        raise typer.Exit(code)


@authority_app.command("add")
def authority_add(
    kennung: Annotated[str, typer.Argument(help="DVDV-Kennung, e.g. bau:097610000")],
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    name: Annotated[str, typer.Option(help="name of the authority")] = "",
) -> None:
    """Map the authority's XBau address to a tenant (the inbox picks the tenant by it)."""
    import re

    from eakte.cli import _settings
    from eakte.db import Database
    from eakte.tenants.models import Tenant
    from eakte.xbau.inbox import register_authority

    if not re.fullmatch(r"[a-z]{3}:\d+", kennung):
        err.print("[red]a DVDV-Kennung is three lowercase letters, a colon and digits[/red]")
        raise typer.Exit(2)
    settings = _settings()

    async def _run() -> bool:
        db = Database(settings.resolved_database_url())
        try:
            async with db.session() as session:
                if await session.get(Tenant, tenant) is None:
                    return False
                await register_authority(session, kennung=kennung, tenant=tenant, name=name)
            return True
        finally:
            await db.dispose()

    if not asyncio.run(_run()):
        err.print(f"[red]no tenant {tenant!r}[/red]")
        raise typer.Exit(1)
    print(f"{kennung} -> {tenant}")


push_app = typer.Typer(
    help="Push delivery of outgoing XBau messages (else the intermediary picks them up).",
    no_args_is_help=True,
)
app.add_typer(push_app, name="push")


def _push(tenant: str, work: object) -> object:
    from eakte.cli import _settings
    from eakte.db import Database
    from eakte.tenants.models import Tenant

    settings = _settings()

    async def _run() -> object:
        db = Database(settings.resolved_database_url())
        try:
            async with db.session() as session:
                if await session.get(Tenant, tenant) is None:
                    err.print(f"[red]no tenant {tenant!r}[/red]")
                    raise typer.Exit(1)
                return await work(session)  # type: ignore[operator]
        finally:
            await db.dispose()

    return asyncio.run(_run())


@push_app.command("set")
def push_set(
    url: Annotated[str, typer.Argument(help="the intermediary's endpoint (http or https)")],
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    authority: Annotated[
        str | None, typer.Option(help="one of the tenant's XBau addresses (default: all)")
    ] = None,
) -> None:
    """Push the tenant's (or one address's) outgoing XBau messages to URL; prints the new HMAC
    secret once."""
    from pydantic import ValidationError

    from eakte.errors import DomainError
    from eakte.xbau import push
    from eakte.xbau.schemas import PushEndpointSet

    try:
        checked = str(PushEndpointSet(url=url).url)  # type: ignore[arg-type]
    except ValidationError:
        err.print("[red]not an http(s) URL of at most 500 characters[/red]")
        raise typer.Exit(2) from None

    async def work(session: object) -> str | None:
        try:
            _, secret = await push.set_endpoint(
                session,  # type: ignore[arg-type]
                tenant,
                checked,
                actor="cli",
                authority=authority,
            )
        except DomainError as exc:
            err.print(f"[red]{exc.detail}[/red]")
            return None
        return secret

    secret = _push(tenant, work)
    if secret is None:
        raise typer.Exit(1)
    print(f"{tenant}{' ' + authority if authority else ''} -> {checked}")
    print(f"secret: {secret}")


@push_app.command("show")
def push_show(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    authority: Annotated[
        str | None, typer.Option(help="one of the tenant's XBau addresses (default: all)")
    ] = None,
) -> None:
    """The tenant's push endpoint (exit 1 if the tenant picks its messages up)."""
    from eakte.errors import DomainError
    from eakte.xbau import push

    async def work(session: object) -> str | None:
        try:
            return (await push.get_endpoint(session, tenant, authority)).url  # type: ignore[arg-type]
        except DomainError:
            return None

    url = _push(tenant, work)
    if url is None:
        err.print(f"{tenant}: pickup (no push endpoint)")
        raise typer.Exit(1)
    print(url)


@push_app.command("remove")
def push_remove(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    authority: Annotated[
        str | None, typer.Option(help="one of the tenant's XBau addresses (default: all)")
    ] = None,
) -> None:
    """Back to pickup, also for messages not yet pushed (their outbox rows become dead letters)."""
    from eakte.errors import DomainError
    from eakte.xbau import push

    async def work(session: object) -> bool:
        try:
            await push.remove_endpoint(session, tenant, actor="cli", authority=authority)  # type: ignore[arg-type]
        except DomainError:
            return False
        return True

    if not _push(tenant, work):
        err.print(f"{tenant}: no push endpoint")
        raise typer.Exit(1)
    print(f"{tenant}: pickup")
