"""`eakte archive …` (Aussonderung) and `eakte search worker` commands."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from eakte.config import ConfigError, Settings, get_settings
from eakte.errors import DomainError

archive_app = typer.Typer(help="Aussonderung to the archive (xdomea 3.0.0).", no_args_is_help=True)
search_app = typer.Typer(help="Document text extraction and search.", no_args_is_help=True)
err = Console(stderr=True)
T = TypeVar("T")

Tenant = Annotated[str, typer.Option("--tenant", help="tenant slug, e.g. augsburg")]
By = Annotated[str, typer.Option("--by", help="the official who decides (name or id)")]
Process = Annotated[str, typer.Option("--process", help="the ProzessID of the Aussonderung")]


def _settings() -> Settings:
    try:
        return get_settings()
    except (ConfigError, ValueError) as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _export_base(settings: Settings) -> Path:
    return settings.records_export_dir or settings.data_dir / "aussonderung"


def _run(work: Callable[..., Awaitable[T]]) -> T:
    """Run `work(settings, db, store)`; print a domain error with its reasons and exit 1."""
    from eakte.db import Database
    from eakte.documents.store import build_store

    settings = _settings()

    async def _main() -> T:
        db = Database(settings.resolved_database_url())
        try:
            return await work(settings, db, build_store(settings))
        finally:
            await db.dispose()

    try:
        return asyncio.run(_main())
    except DomainError as exc:
        err.print(f"[red]{exc.title}:[/red] {exc.detail}")
        for reason in exc.extra.get("errors", []):
            err.print(f"  - {reason}")
        raise typer.Exit(1) from exc


def _progress(line: str) -> None:
    err.print(line, highlight=False)


@archive_app.command("offer")
def offer(
    tenant: Tenant,
    by: By = "eakte-cli",
    today: Annotated[str | None, typer.Option(help="count retention up to this date")] = None,
) -> None:
    """Build the Anbietung (0501) for every closed case whose retention has ended."""
    from eakte.process.service import local_today
    from eakte.records import aussonderung

    day = date.fromisoformat(today) if today else local_today()

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        return await aussonderung.make_offer(
            db, _export_base(settings), tenant, today=day, actor=by
        )

    built = _run(work)
    err.print(f"ProzessID {built.process_id}: {built.cases} Akten angeboten")
    typer.echo(built.path)


@archive_app.command("endpoint")
def endpoint(
    tenant: Tenant,
    url: Annotated[
        str | None, typer.Option(help="the archive's intake URL (http or https)")
    ] = None,
    secret_file: Annotated[
        Path | None, typer.Option(exists=True, help="file with the shared HMAC secret")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="stop delivering")] = False,
    by: By = "eakte-cli",
) -> None:
    """Show, set or remove where Aussonderung messages are delivered (through the outbox)."""
    import eakte.models  # noqa: F401  (every table, for the foreign keys)
    from eakte.records import transport

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        async with db.session() as session:
            if remove:
                return (
                    "entfernt"
                    if await transport.remove_endpoint(session, tenant, actor=by)
                    else "kein Endpunkt eingerichtet"
                )
            if url is None:
                found = await transport.get_endpoint(session, tenant)
                return found.url if found else "kein Endpunkt eingerichtet"
            secret = secret_file.read_text().strip() if secret_file else None
            made, key = await transport.set_endpoint(
                session, tenant, url=url, secret=secret, actor=by
            )
            return f"{made.url}\nGeheimnis / secret: {key}" if secret is None else made.url

    typer.echo(_run(work))


@archive_app.command("import-appraisal")
def import_appraisal(
    tenant: Tenant, path: Annotated[Path, typer.Argument(exists=True)], by: By = "eakte-cli"
) -> None:
    """Read the archive's Bewertungsverzeichnis (0502); write the receipt (0505)."""
    from eakte.records import aussonderung

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        return await aussonderung.import_appraisal(
            db, _export_base(settings), tenant, path.read_bytes(), actor=by
        )

    built = _run(work)
    err.print(f"ProzessID {built.process_id}: {built.cases} Bewertungen eingelesen")
    typer.echo(built.path)


@archive_app.command("handover")
def handover(tenant: Tenant, process: Process, by: By = "eakte-cli") -> None:
    """Build the Aussonderung (0503): a ZIP with XML, every version and SHA256SUMS."""
    from eakte.records import aussonderung

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        return await aussonderung.handover(
            db,
            store,
            _export_base(settings),
            tenant,
            uuid.UUID(process),
            actor=by,
            progress=_progress,
        )

    built = _run(work)
    err.print(f"{built.cases} Akten übergeben, sha256 {built.sha256}")
    typer.echo(built.path)


@archive_app.command("import-confirmation")
def import_confirmation(
    tenant: Tenant, path: Annotated[Path, typer.Argument(exists=True)], by: By = "eakte-cli"
) -> None:
    """Read an 0504/0507 receipt or the 0506 import confirmation (then delete what was taken)."""
    from eakte.records import aussonderung
    from eakte.records.xdomea import messages

    data = path.read_bytes()

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        if aussonderung.message_name(data) == messages.IMPORT_BESTAETIGEN:
            return await aussonderung.import_confirmation(
                db, store, tenant, data, actor=by, progress=_progress
            )
        return await aussonderung.receive_receipt(db, tenant, data, actor=by)

    result = _run(work)
    err.print(f"eingelesen: {result}")


@archive_app.command("destroy")
def destroy(tenant: Tenant, process: Process, by: By) -> None:
    """Destroy the cases the archive appraised `vernichten` (an official's decision: --by)."""
    from eakte.records import aussonderung

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        return await aussonderung.destroy(
            db, store, tenant, uuid.UUID(process), actor=by, progress=_progress
        )

    err.print(f"{_run(work)} Akten vernichtet")


@archive_app.command("resume")
def resume(tenant: Tenant) -> None:
    """Finish deletions or destructions an interruption left pending."""
    from eakte.records import aussonderung

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        return await aussonderung.resume(db, store, tenant, progress=_progress)

    err.print(f"{_run(work)} Akten abgeschlossen")


@archive_app.command("destructions")
def destructions(tenant: Tenant) -> None:
    """List the destruction records (what, when, by whose decision)."""
    from eakte.records import aussonderung

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        return await aussonderung.destruction_records(db, tenant)

    for row in _run(work):
        typer.echo(
            f"{row.destroyed_at:%Y-%m-%d}\t{row.file_number}\t{row.grounds}\t"
            f"{row.decided_by}\t{len(row.objects)} Objekte\t{row.decision}"
        )


@search_app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="empty the queue, then exit")] = False,
) -> None:
    """Extract and index document text (runs inside `eakte serve` too)."""
    from eakte.search import worker as search_worker

    async def work(settings, db, store):  # type: ignore[no-untyped-def]
        if once:
            return await search_worker.drain(db, store, settings)
        await search_worker.run_forever(db, store, settings)
        return 0

    err.print(f"{_run(work)} Texte verarbeitet")
