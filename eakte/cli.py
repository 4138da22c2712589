"""The `eakte` command line: serve, migrate, seed-demo, seed-load, token, fsck, audit verify."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from typing import Annotated

import typer
from rich.console import Console

from eakte.config import ConfigError, Settings, get_settings
from eakte.records import cli as records_cli
from eakte.tenants import cli as tenant_cli

app = typer.Typer(
    help="E-Akte Bau: case files for building permits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # issue 19: start-up errors are one line, see main()
)
audit_app = typer.Typer(help="Audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
process_app = typer.Typer(help="Procedures of running cases.", no_args_is_help=True)
app.add_typer(process_app, name="process")
procedures_app = typer.Typer(help="Procedure definitions.", no_args_is_help=True)
app.add_typer(procedures_app, name="procedures")
app.add_typer(__import__("eakte.xbau.cli", fromlist=["app"]).app, name="xbau")  # issue 14
app.add_typer(records_cli.archive_app, name="archive")  # issue 15
app.add_typer(records_cli.search_app, name="search")  # issue 15
seal_app = typer.Typer(help="Electronic seals of the tenants (issue 13).", no_args_is_help=True)
app.add_typer(seal_app, name="seal")
links_app = typer.Typer(help="Signed download links (issue 19).", no_args_is_help=True)
app.add_typer(links_app, name="download-links")
app.add_typer(tenant_cli.app, name="tenant")
app.add_typer(__import__("eakte.postroom.cli", fromlist=["app"]).app, name="print")  # issue 13


err = Console(stderr=True, soft_wrap=True)  # one error, one line (issue 19)
_debug = False


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks of start-up errors")
    ] = False,
) -> None:
    """E-Akte Bau: case files for building permits."""
    global _debug
    _debug = debug
    import logging

    from eakte.logging import configure

    settings = _settings()
    configure(settings, force_level=logging.DEBUG if debug else None)


def _announce_data_dir(settings: Settings) -> None:
    from rich.markup import escape

    err.print(escape(f"data directory: {settings.data_dir} (from {settings.data_dir_source()})"))


def _settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        _config_error(exc)
        raise typer.Exit(2) from exc
    except ValueError as exc:  # pydantic validation of EAKTE_* values
        _config_error(exc)
        raise typer.Exit(2) from exc


def _config_error(exc: Exception) -> None:
    from pydantic import ValidationError
    from rich.markup import escape

    if isinstance(exc, ValidationError):
        text = "; ".join(
            f"EAKTE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
    else:
        text = " ".join(str(exc).split())
    err.print(f"[red]configuration error:[/red] {escape(text)}")


@app.command()
def migrate() -> None:
    """Apply all database migrations."""
    from eakte.migrations import upgrade

    settings = _settings()
    _announce_data_dir(settings)
    upgrade(settings.resolved_database_url())
    err.print("[green]database is at the newest schema[/green]")


@app.command("seed-demo")
def seed_demo(
    print_tokens: Annotated[
        bool, typer.Option("--print-tokens", help="print a bearer token per demo role and tenant")
    ] = False,
) -> None:
    """Create the demo tenants Augsburg, München and Nürnberg (idempotent; dev mode only)."""
    from eakte.auth.tokens import issue_token
    from eakte.db import Database
    from eakte.tenants.service import DEMO_TENANTS, DEMO_USERS
    from eakte.tenants.service import seed_demo as run_seed

    settings = _settings()
    if not settings.dev_mode:
        err.print("[red]seed-demo is only available in dev mode (EAKTE_ENV=dev)[/red]")
        raise typer.Exit(2)
    _announce_data_dir(settings)

    async def _run() -> list[str]:
        db = Database(settings.resolved_database_url())
        try:
            return await run_seed(db)
        finally:
            await db.dispose()

    created = asyncio.run(_run())
    err.print(
        f"demo tenants: {', '.join(DEMO_TENANTS)} (created now: {', '.join(created) or 'none'})"
    )
    if print_tokens:
        lines = []
        for tenant in DEMO_TENANTS:
            for user in DEMO_USERS:
                token = issue_token(
                    settings,
                    tenant=tenant,
                    sub=f"{user.sub}@{tenant}",
                    roles=list(user.roles),
                    name=user.name,
                    ttl_seconds=settings.max_token_lifetime_seconds,
                )
                lines.append(f"export TOKEN_{tenant.upper()}_{user.sub.upper()}={token}")
        path = settings.data_dir / "demo-tokens.sh"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        hours = settings.max_token_lifetime_seconds / 3600
        print(f"Demo bearer tokens (valid {hours:g} h; also in {path}):")
        print("\n".join(lines))
        print(
            f"\nTry:  source {path}\n"
            f'      curl -H "Authorization: Bearer $TOKEN_AUGSBURG_CLERK" '
            f"http://{settings.host}:{settings.port}/api/v1/me\n"
        )


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="tenant slug, e.g. augsburg")],
    user: Annotated[str, typer.Option(help="subject (user id)")],
    roles: Annotated[str, typer.Option(help="comma-separated roles, e.g. clerk,approver")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    ttl: Annotated[int, typer.Option(help="lifetime in seconds", min=60)] = 8 * 3600,
) -> None:
    """Print a signed HS256 token (only the token, for TOKEN=$(eakte token …))."""
    from eakte.auth.tokens import issue_token

    settings = _settings()
    if not settings.jwt_secret:
        _announce_data_dir(settings)  # the dev secret lives there
    role_list = [r.strip() for r in roles.split(",") if r.strip()]
    try:
        print(
            issue_token(
                settings, tenant=tenant, sub=user, roles=role_list, name=name, ttl_seconds=ttl
            )
        )
    except (ValueError, ConfigError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (EAKTE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (EAKTE_PORT)")] = None,
) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    from eakte.app import create_app
    from eakte.collab.wsprotocol import uvicorn_options
    from eakte.startup import bind_listener, check_database, check_redis

    settings = _settings()
    if settings.dev_mode:  # said first, before anything at start-up can fail
        from eakte.app import DEV_MODE_BANNER

        err.print(f"[bold red]{DEV_MODE_BANNER}[/bold red]")
    try:
        if not settings.dev_mode:
            settings.check_production()
        _announce_data_dir(settings)
        listener = bind_listener(host or settings.host, port or settings.port)
        check_database(settings)
        check_redis(settings)
        settings.resolved_jwt_secret() if not settings.oidc_enabled else None
        application = create_app(settings)  # builds the object store: S3 must answer
    except ConfigError as exc:
        _config_error(exc)
        raise typer.Exit(2) from exc
    config = uvicorn.Config(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        # X-Forwarded-For/-Proto only from configured proxies (issue 18): from anyone else
        # they are ignored, so a client cannot choose its own address for rate limits
        proxy_headers=bool(settings.trusted_proxy_list),
        forwarded_allow_ips=settings.trusted_proxy_list or None,
        # h11 bounds the request line and headers (httptools accepts a 64 MB header line)
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_bytes,
        log_config=None,  # eakte.logging configured the handlers (timestamps, JSON option)
        # uvicorn's sans-I/O protocol with co-editing's fast paths, no compression
        **uvicorn_options(settings.collab_max_message_bytes),
    )
    server = uvicorn.Server(config)
    # what start-up built (modules, routes, schemas: ~200,000 objects) lives as long as the
    # process: frozen out of the cyclic collector, a full collection no longer walks it (one
    # took >100 ms, a stall of every co-editing room)
    gc.freeze()
    server.run(sockets=[listener])
    if not server.started:  # the application's start-up failed (logged above)
        raise typer.Exit(1)


@app.command("seed-load")
def seed_load(
    cases: Annotated[int, typer.Option(min=1, help="how many case files to create")] = 1000,
    tenants: Annotated[int, typer.Option(min=1, max=50, help="spread over this many cities")] = 3,
    documents: Annotated[
        int, typer.Option(min=0, max=20, help="documents (one small version each) per case")
    ] = 1,
    batch: Annotated[int, typer.Option(min=100, help="rows per transaction")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same names)")] = 1,
) -> None:
    """Bulk-insert realistic synthetic case files for load tests (dev mode only)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from eakte.documents.store import build_store
    from eakte.seedload import seed_load as run_seed_load

    settings = _settings()
    if not settings.dev_mode:
        err.print("[red]seed-load is only available in dev mode (EAKTE_ENV=dev)[/red]")
        raise typer.Exit(2)
    columns = (
        TextColumn("seeding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("cases", total=cases)
        done = run_seed_load(
            database_url=settings.resolved_database_url(),
            store=build_store(settings),
            cases=cases,
            tenants=tenants,
            documents_per_case=documents,
            batch_size=batch,
            seed=seed,
            progress=lambda n: bar.advance(task, n),
        )
    err.print(f"[green]{done} synthetic case files created over {tenants} tenants[/green]")


@app.command()
def fsck(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="delete old orphans, mark broken versions")
    ] = False,
    grace: Annotated[
        str, typer.Option(help="ignore objects without a row younger than this (0s, 30m, 1h, 2d)")
    ] = "1h",
) -> None:
    """Check version rows against the object store; exit 1 if anything is wrong."""
    from eakte.documents.fsck import run_command

    settings = _settings()
    code = run_command(settings, tenant=tenant, do_repair=repair, grace=grace, console=err)
    if code:
        raise typer.Exit(code)


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
) -> None:
    """Walk each tenant's hash chain and check it against the signed checkpoints; exit 0 only
    if every chain is intact, reaches every checkpoint and agrees with it."""
    from rich.progress import Progress
    from sqlalchemy import select

    from eakte.audit.checkpoints import build_signer, build_witness
    from eakte.audit.service import verify_tenant
    from eakte.db import Database
    from eakte.tenants.models import Tenant

    settings = _settings()
    witness = build_witness(settings)
    checkpoints = witness.read()
    try:
        signer = build_signer(settings, create=False)
    except FileNotFoundError:
        signer = None
        if checkpoints:
            err.print("[red]the witness holds checkpoints but the signing key is missing[/red]")
            raise typer.Exit(1) from None
    print(f"{len(checkpoints)} signed checkpoints in the witness")

    async def _run() -> bool:
        db = Database(settings.resolved_database_url())
        ok = True
        try:
            async with db.session(write=False) as session:
                known = list(
                    (await session.scalars(select(Tenant.slug).order_by(Tenant.slug))).all()
                )
                if (
                    tenant
                    and tenant not in known
                    and not any(c.tenant == tenant for c in checkpoints)
                ):
                    err.print(f"[red]no tenant {tenant!r}[/red]")
                    return False
                # a tenant the witness knows but the database does not was wiped
                slugs = [tenant] if tenant else sorted(set(known) | {c.tenant for c in checkpoints})
                with Progress(console=err, transient=True) as progress:
                    task = progress.add_task("verifying", total=len(slugs))
                    for slug in slugs:
                        result = await verify_tenant(
                            session,
                            slug,
                            checkpoints=[c for c in checkpoints if c.tenant == slug],
                            signer=signer,
                        )
                        progress.advance(task)
                        if result.valid:
                            print(f"{slug}: valid ({result.events} events)")
                        else:
                            ok = False
                            broken = result.first_broken
                            print(f"{slug}: BROKEN after {result.events} events: {broken}")
        finally:
            await db.dispose()
        return ok

    if not asyncio.run(_run()):
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign every tenant's chain head now and append it to the witness."""
    from eakte.audit.checkpoints import build_signer, build_witness, checkpoint_all
    from eakte.db import Database

    settings = _settings()
    signer = build_signer(settings, create=True)
    witness = build_witness(settings)

    async def _run() -> int:
        db = Database(settings.resolved_database_url())
        try:
            return len(await checkpoint_all(db, signer, witness))
        finally:
            await db.dispose()

    written = asyncio.run(_run())
    print(f"{written} checkpoints written (key {signer.key_id})")


@process_app.command("tick")
def process_tick(
    now: Annotated[
        str | None, typer.Option(help="ISO-8601 instant to treat as now (default: the clock)")
    ] = None,
) -> None:
    """Fire every due deadline exactly once (safe to run from several processes at once)."""
    from datetime import UTC, datetime

    from eakte.db import Database
    from eakte.documents.store import build_store
    from eakte.process.ticker import tick

    settings = _settings()
    at = None
    if now:
        try:
            at = datetime.fromisoformat(now)
        except ValueError as exc:
            err.print(f"[red]--now must be ISO-8601, got {now!r}[/red]")
            raise typer.Exit(2) from exc
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)

    async def _run() -> None:
        db = Database(settings.resolved_database_url())
        try:
            report = await tick(db, now=at, store=build_store(settings))
        finally:
            await db.dispose()
        for line in report.fired:
            print(f"fired {line}")
        for line in report.expired:
            print(f"expired {line}")
        for line in report.deemed:
            print(f"deemed participation {line}")
        err.print(
            f"{len(report.fired)} fired, {len(report.expired)} expired without action, "
            f"{len(report.deemed)} participations deemed, {len(report.failed)} failed"
        )
        if report.failed:
            raise typer.Exit(1)

    asyncio.run(_run())


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="deliver what is due now, then exit")] = False,
) -> None:
    """Deliver the outbox (e-mail, webhooks) until stopped; several workers may run (issue 13)."""
    import logging
    import signal

    import anyio

    from eakte.db import Database
    from eakte.outbox.worker import Worker

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )

    async def _run() -> None:
        db = Database(settings.resolved_database_url())
        delivery = Worker(db, settings)
        try:
            if once:
                total = 0
                while (done := await delivery.run_once()) > 0:
                    total += done
                    err.print(f"{total} delivery attempts")
                err.print(f"done: {total} delivery attempts")
                return
            async with anyio.create_task_group() as tg:
                tg.start_soon(delivery.run)
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    err.print("outbox worker running (SIGTERM to stop)")
                    async for _ in signals:
                        tg.cancel_scope.cancel()
                        break
        finally:
            await db.dispose()

    asyncio.run(_run())


@seal_app.command("dev-ca")
def seal_dev_ca(
    tenant: Annotated[
        list[str] | None, typer.Option(help="tenant slug (default: every tenant in the database)")
    ] = None,
    days: Annotated[int, typer.Option(help="validity of the seal certificates")] = 730,
) -> None:
    """Create a development seal CA and a seal certificate per tenant (refused in production)."""
    from sqlalchemy import select

    from eakte.db import Database
    from eakte.issuing.seal import create_dev_ca
    from eakte.tenants.models import Tenant

    settings = _settings()
    if not settings.dev_mode:
        err.print("[red]development seals are for EAKTE_ENV=dev only; configure a real seal[/red]")
        raise typer.Exit(2)

    async def _tenants() -> dict[str, str]:
        db = Database(settings.resolved_database_url())
        try:
            async with db.session(write=False) as session:
                rows = (await session.execute(select(Tenant.slug, Tenant.name))).all()
        finally:
            await db.dispose()
        return {slug: name for slug, name in rows if not tenant or slug in tenant}

    tenants = asyncio.run(_tenants())
    for slug in tenant or []:
        tenants.setdefault(slug, slug)
    written = create_dev_ca(settings.resolved_seal_dir(), tenants, days=days)
    for path in written:
        print(path)
    err.print(
        f"development seal CA and {len(tenants)} seal certificate(s) in "
        f"{settings.resolved_seal_dir()}"
    )


@links_app.command("nginx-key")
def links_nginx_key(
    output: Annotated[
        str | None,
        typer.Option(
            help="file to write (mode 0640), e.g. /etc/nginx/eakte/download-link-key.conf"
        ),
    ] = None,
) -> None:
    """The nginx key file of signed download links, derived from EAKTE_DOWNLOAD_LINK_SECRET
    (include it in nginx's `http` block; after rotating the secret write it again and reload
    nginx)."""
    from pathlib import Path

    from rich.markup import escape

    from eakte.documents.links import nginx_key_config

    secret = _settings().resolved_download_link_secret()
    if secret is None:
        err.print(
            "[red]set EAKTE_DOWNLOAD_LINK_SECRET or EAKTE_DOWNLOAD_LINK_SECRET_FILE first[/red]"
        )
        raise typer.Exit(2)
    text = nginx_key_config(secret.encode())
    if output is None:
        sys.stdout.write(text)
        return
    path = Path(output)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o640)  # also when the file existed with wider rights
    except OSError as exc:
        reason = escape(f"{path}: {exc.strerror or exc}")
        err.print(f"[red]cannot write {reason}[/red]")
        raise typer.Exit(2) from exc
    err.print(f"nginx download-link key written to {escape(str(path))}; now `nginx -s reload`")


@procedures_app.command("docs")
def procedures_docs(
    output: Annotated[str, typer.Option(help="file to write")] = "docs/procedures.md",
    check: Annotated[
        bool, typer.Option("--check", help="exit 1 if the file is not up to date")
    ] = False,
) -> None:
    """Generate docs/procedures.md (Mermaid diagrams, actions, deadlines) from the YAML."""
    from pathlib import Path

    from workflows import load_versions, render_markdown

    text = render_markdown([d for versions in load_versions().values() for d in versions])
    path = Path(output)
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            err.print(f"[red]{path} is stale: run `eakte procedures docs`[/red]")
            raise typer.Exit(1)
        err.print(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    err.print(f"wrote {path}")


def main() -> None:
    """Console-script entry point: known start-up failures are one line and exit 1."""
    from eakte.startup import describe

    # data files (SQLite and its journal, objects, secrets) are never world-readable
    os.umask(os.umask(0) | 0o027)

    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        try:
            settings = get_settings()
        except Exception:
            settings = None
        line = describe(exc, settings)
        if line is None or _debug:
            raise
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(line)} (eakte --debug … shows the traceback)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    sys.exit(main())
