"""The procedure definitions this installation runs (every installed version), and calendars."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from eakte.process.errors import ProcedureNotFound, ProcedureVersionMissing
from workflows import Definition, HolidayCalendar, get_calendar, load_versions, version_for


@lru_cache(maxsize=1)
def installed() -> dict[str, tuple[Definition, ...]]:
    """Every installed version of every procedure, oldest first (loaded and validated once)."""
    return load_versions()


def definitions() -> dict[str, Definition]:
    """The newest version of every procedure by id (what new cases are offered)."""
    return {def_id: versions[-1] for def_id, versions in installed().items()}


def get_definition(procedure: str, version: int | None = None) -> Definition:
    """The definition `procedure` at `version` (running cases stay pinned), else the newest."""
    versions = installed().get(procedure)
    if versions is None:
        raise ProcedureNotFound(f"no procedure {procedure!r}")
    if version is None:
        return versions[-1]
    found = next((d for d in versions if d.version == version), None)
    if found is None:
        have = ", ".join(str(d.version) for d in versions)
        raise ProcedureVersionMissing(
            f"procedure {procedure} version {version} is not installed (have {have})"
        )
    return found


def definition_for(procedure: str, received_on: date) -> Definition:
    """The version of `procedure` in force on the receipt date (a new case is pinned to it)."""
    versions = installed().get(procedure)
    if versions is None:
        raise ProcedureNotFound(f"no procedure {procedure!r}")
    return version_for(versions, received_on)


def calendar_for(name: str) -> HolidayCalendar:
    """The tenant's holiday calendar (tenants are validated on creation, see
    `workflows.calendar.validate_calendar_name`); an unknown legacy name falls back to the
    Bavarian calendar, which has fewer holidays, so no deadline ends later than by law."""
    try:
        return get_calendar(name)
    except ValueError:
        return get_calendar("bavaria")


def required_document_kinds(
    definition: Definition, tenant_settings: dict[str, Any]
) -> frozenset[str]:
    """The kinds of Bauvorlagen the procedure requires (`required_documents` in its YAML),
    unless the tenant overrides them under settings["required_document_kinds"][procedure]."""
    override = (tenant_settings or {}).get("required_document_kinds", {}).get(definition.id)
    if isinstance(override, list):
        return frozenset(str(k) for k in override)
    return frozenset(definition.required_documents)


@lru_cache(maxsize=1)
def issued_document_kinds() -> tuple[str, ...]:
    """Every document kind an installed procedure issues to the applicant."""
    kinds = {k for versions in installed().values() for d in versions for k in d.issued_documents}
    return tuple(sorted(kinds))
