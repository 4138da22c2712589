"""`eakte print batch`: the post room's daily print batch of every (or one) tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import distinct, select

from eakte.config import ConfigError, Settings
from eakte.db import Database
from eakte.documents.store import build_store
from eakte.postroom.errors import PostroomBlocked
from eakte.postroom.models import PrintItem
from eakte.tenants.models import Tenant

app = typer.Typer(help="Post room: print batches (issue 13).", no_args_is_help=True)
CLI_ACTOR = "cli:print-batch"


def run_command(settings: Settings, *, tenant: str | None, day: date, console: Console) -> int:
    """0 when every batch was made or found, 2 on usage errors (unknown tenant, no store)."""
    from eakte.issuing.service import letterhead_for
    from eakte.postroom.service import build_batch

    try:
        store = build_store(settings)
    except (ValueError, ConfigError) as exc:
        console.print(f"[red]{exc}[/red]")
        return 2

    async def _run() -> int:
        db = Database(settings.resolved_database_url())
        try:
            async with db.session(write=False) as session:
                if tenant:
                    if await session.get(Tenant, tenant) is None:
                        console.print(f"[red]no tenant {tenant!r}[/red]")
                        return 2
                    tenants = [tenant]
                else:
                    tenants = sorted(
                        await session.scalars(
                            select(distinct(PrintItem.tenant_id)).where(
                                PrintItem.batch_id.is_(None)
                            )
                        )
                    )
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:

                def _task(description: str, total: int) -> Callable[[int], None]:
                    task_id = bar.add_task(description, total=total)
                    return lambda n: bar.advance(task_id, n)

                for slug in tenants:
                    async with db.session() as session:
                        head = await letterhead_for(session, slug)
                        try:
                            batch, created = await build_batch(
                                session,
                                store,
                                tenant=slug,
                                day=day,
                                actor=CLI_ACTOR,
                                authority=head.authority_name,
                                progress=_task,
                            )
                        except PostroomBlocked:
                            print(f"{slug}: no letters queued for {day.isoformat()}")
                            continue
                    word = "created" if created else "exists"
                    print(
                        f"{slug}: batch {batch.id} {word}: {batch.letters} letters, "
                        f"{batch.pages} pages, {batch.object_key}"
                    )
        finally:
            await db.dispose()
        return 0

    return asyncio.run(_run())


@app.command("batch")
def batch(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="day of the batch, YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Make the day's print batch (cover list + letters, duplex-ready) per tenant."""
    from eakte.cli import _settings
    from eakte.process.service import local_today

    err = Console(stderr=True)
    try:
        chosen = date.fromisoformat(day) if day else local_today()
    except ValueError:
        err.print(f"[red]--date must be YYYY-MM-DD, not {day!r}[/red]")
        raise typer.Exit(2) from None
    code = run_command(_settings(), tenant=tenant, day=chosen, console=err)
    if code:
        raise typer.Exit(code)
