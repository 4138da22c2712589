"""`eakte fsck`: do the version rows and the object store agree?

Both directions: a row whose object is missing or whose bytes no longer hash to the
recorded sha256 (a *broken* version), and an object no row refers to (an *orphan*, e.g.
left by a crash between the store write and the commit). Orphans younger than the
grace period are ignored: they may belong to an upload that is about to commit.

Dry run by default. `--repair` deletes old orphans and stale temp files, and marks
broken versions (`status = broken`, with an audit event); it never deletes a row, and
a marked version is reported again on every run until its bytes are restored (then
`--repair` clears the mark).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select, update

from eakte.audit import service as audit
from eakte.config import ConfigError, Settings
from eakte.db import Database, utcnow
from eakte.documents.models import VERSION_BROKEN, VERSION_OK, Document, DocumentVersion
from eakte.documents.store import build_store
from eakte.tenants.models import Tenant
from storage import ObjectNotFound, ObjectStore, StorageError

ACTOR = "eakte-fsck"
_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90`, `30s`, `15m`, `1h`, `2d`, `1h30m` → a timedelta (ValueError otherwise)."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise ValueError(f"not a duration: {text!r} (use e.g. 0s, 30m, 1h, 2d)")
    seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(compact))
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class VersionRow:
    """What fsck needs of a version row."""

    id: uuid.UUID
    tenant: str
    case_id: uuid.UUID
    document_id: uuid.UUID
    number: int
    key: str
    sha256: str
    size: int
    status: str


@dataclass(frozen=True)
class BrokenVersion:
    """A row whose object is missing or whose bytes hash differently."""

    row: VersionRow
    problem: str  # "missing" | "corrupt"
    detail: str

    @property
    def marked(self) -> bool:
        """True if an earlier `--repair` already marked it broken."""
        return self.row.status == VERSION_BROKEN


@dataclass(frozen=True)
class Orphan:
    """An object no row refers to."""

    key: str
    size: int
    last_modified: datetime


@dataclass
class FsckReport:
    """Everything one run found (and, with repair, did)."""

    versions_checked: int = 0
    objects_listed: int = 0
    broken: list[BrokenVersion] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    young_orphans: int = 0
    recovered: list[VersionRow] = field(default_factory=list)
    orphans_deleted: int = 0
    temp_purged: int = 0
    marked_broken: int = 0
    unmarked: int = 0

    @property
    def problems(self) -> int:
        """Broken versions plus orphans older than the grace period."""
        return len(self.broken) + len(self.orphans)


Progress_ = Callable[[str, int | None], Callable[[int], None]]


async def _postroom_keys(db: Database, tenant: str | None) -> set[str]:
    """The post room's print batches are objects too, not orphans (issue 13)."""
    from eakte.postroom.models import PrintBatch

    stmt = select(PrintBatch.object_key)
    if tenant:
        stmt = stmt.where(PrintBatch.tenant_id == tenant)
    async with db.session(write=False) as session:
        return set(await session.scalars(stmt))


async def _rows(db: Database, tenant: str | None) -> list[VersionRow]:
    stmt = select(DocumentVersion, Document.case_id).join(
        Document, Document.id == DocumentVersion.document_id
    )
    # versions handed to the archive or destroyed (eakte/records) have no object by design
    stmt = stmt.where(DocumentVersion.status.in_([VERSION_OK, VERSION_BROKEN]))
    if tenant:
        stmt = stmt.where(DocumentVersion.tenant_id == tenant)
    async with db.session(write=False) as session:
        result = await session.execute(stmt.order_by(DocumentVersion.object_key))
        return [
            VersionRow(
                id=v.id,
                tenant=v.tenant_id,
                case_id=case_id,
                document_id=v.document_id,
                number=v.number,
                key=v.object_key,
                sha256=v.sha256,
                size=v.size,
                status=v.status,
            )
            for v, case_id in result.all()
        ]


def _verify(store: ObjectStore, row: VersionRow) -> BrokenVersion | None:
    try:
        digest = store.hash(row.key)
    except ObjectNotFound:
        return BrokenVersion(row, "missing", "the object is missing from the store")
    if digest != row.sha256:
        return BrokenVersion(row, "corrupt", f"sha256 is {digest}, the row says {row.sha256}")
    return None


async def check(
    db: Database,
    store: ObjectStore,
    *,
    tenant: str | None,
    grace: timedelta,
    progress: Progress_ | None = None,
) -> FsckReport:
    """Compare rows and objects (read-only)."""
    report = FsckReport()
    rows = await _rows(db, tenant)
    advance = progress("verifying versions", len(rows)) if progress else None
    for row in rows:
        finding = await anyio.to_thread.run_sync(_verify, store, row)
        report.versions_checked += 1
        if finding is not None:
            report.broken.append(finding)
        elif row.status == VERSION_BROKEN:
            report.recovered.append(row)
        if advance:
            advance(1)
    known = {row.key for row in rows} | await _postroom_keys(db, tenant)
    cutoff = datetime.now(UTC) - grace
    prefix = f"{tenant}/" if tenant else ""
    entries = await anyio.to_thread.run_sync(lambda: list(store.iter_keys(prefix)))
    advance = progress("listing objects", len(entries)) if progress else None
    for entry in entries:
        report.objects_listed += 1
        if entry.key not in known:
            if entry.last_modified < cutoff:
                report.orphans.append(Orphan(entry.key, entry.size, entry.last_modified))
            else:
                report.young_orphans += 1
        if advance:
            advance(1)
    return report


async def repair(db: Database, store: ObjectStore, report: FsckReport, *, grace: timedelta) -> None:
    """Delete old orphans and temp files; mark broken versions (audited); clear recovered marks."""
    for orphan in report.orphans:
        await anyio.to_thread.run_sync(store.delete, orphan.key)
        report.orphans_deleted += 1
    report.temp_purged = await anyio.to_thread.run_sync(store.purge_temp, grace)
    now = utcnow()
    async with db.session(write=True) as session:
        for finding in report.broken:
            if finding.marked:
                continue
            row = finding.row
            await session.execute(
                update(DocumentVersion)
                .where(DocumentVersion.id == row.id)
                .values(status=VERSION_BROKEN, broken_at=now, broken_reason=finding.detail[:300])
            )
            await audit.record(
                session,
                tenant=row.tenant,
                actor=ACTOR,
                action="document.version_broken",
                case_id=row.case_id,
                payload=_payload(row, problem=finding.problem, detail=finding.detail),
                at=now,
            )
            report.marked_broken += 1
        for row in report.recovered:
            await session.execute(
                update(DocumentVersion)
                .where(DocumentVersion.id == row.id)
                .values(status=VERSION_OK, broken_at=None, broken_reason=None)
            )
            await audit.record(
                session,
                tenant=row.tenant,
                actor=ACTOR,
                action="document.version_restored",
                case_id=row.case_id,
                payload=_payload(row),
                at=now,
            )
            report.unmarked += 1


def _payload(row: VersionRow, **extra: str) -> dict[str, object]:
    return {
        "document_id": str(row.document_id),
        "number": row.number,
        "version_id": str(row.id),
        "object_key": row.key,
        **extra,
    }


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size} B"


def print_report(report: FsckReport, *, repaired: bool) -> None:
    """One line per finding and a summary, on stdout."""
    for finding in report.broken:
        row = finding.row
        mark = " [marked broken]" if finding.marked else ""
        print(
            f"{finding.problem}: {row.key} (document {row.document_id} version {row.number})"
            f"{mark}: {finding.detail}"
        )
    for orphan in report.orphans:
        when = orphan.last_modified.strftime("%Y-%m-%d %H:%M:%S")
        print(f"orphan: {orphan.key} ({_mib(orphan.size)}, written {when} UTC, no row)")
    for row in report.recovered:
        print(f"recovered: {row.key} (document {row.document_id} version {row.number}) is intact")
    missing = sum(1 for b in report.broken if b.problem == "missing")
    corrupt = len(report.broken) - missing
    young = report.young_orphans
    print(
        f"checked {report.versions_checked} versions and {report.objects_listed} objects: "
        f"{missing} missing, {corrupt} corrupt, {len(report.orphans)} orphans"
        + (f" ({young} younger than the grace period ignored)" if young else "")
    )
    if repaired:
        print(
            f"repaired: deleted {report.orphans_deleted} orphans and {report.temp_purged} temp "
            f"files, marked {report.marked_broken} versions broken, cleared {report.unmarked} marks"
        )
    elif report.problems or report.recovered:
        print("dry run: nothing changed (use --repair)")


def run_command(
    settings: Settings, *, tenant: str | None, do_repair: bool, grace: str, console: Console
) -> int:
    """The CLI command: 0 if all is well, 1 if problems were found, 2 on usage errors."""
    try:
        grace_period = parse_duration(grace)
        store = build_store(settings)
    except (ValueError, ConfigError) as exc:
        console.print(f"[red]{exc}[/red]")
        return 2

    async def _run() -> int:
        db = Database(settings.resolved_database_url())
        try:
            if tenant:
                async with db.session(write=False) as session:
                    if await session.get(Tenant, tenant) is None:
                        console.print(f"[red]no tenant {tenant!r}[/red]")
                        return 2
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as bar:

                def _task(description: str, total: int | None) -> Callable[[int], None]:
                    task_id = bar.add_task(description, total=total)
                    return lambda n: bar.advance(task_id, n)

                report = await check(db, store, tenant=tenant, grace=grace_period, progress=_task)
                if do_repair:
                    await repair(db, store, report, grace=grace_period)
        except StorageError as exc:
            console.print(f"[red]object store error:[/red] {exc}")
            return 2
        finally:
            await db.dispose()
        print_report(report, repaired=do_repair)
        return 1 if report.problems else 0

    return asyncio.run(_run())
