"""The procedure definitions this installation runs, and each tenant's holiday calendar."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eakte.process.errors import ProcedureNotFound, ProcedureVersionMissing
from workflows import Definition, HolidayCalendar, get_calendar, load_all

# Bauvorlagen without which completeness cannot be confirmed (tenant settings may override
# per procedure under settings["required_document_kinds"][procedure]).
REQUIRED_DOCUMENT_KINDS: dict[str, frozenset[str]] = {
    "baybo-58": frozenset({"lageplan", "bauzeichnung", "baubeschreibung"}),
    "baybo-59": frozenset({"lageplan", "bauzeichnung", "baubeschreibung"}),
    "baybo-60": frozenset(
        {"lageplan", "bauzeichnung", "baubeschreibung", "standsicherheitsnachweis"}
    ),
    "baybo-71": frozenset({"lageplan"}),
}


@lru_cache(maxsize=1)
def definitions() -> dict[str, Definition]:
    """Every shipped procedure definition by id (loaded and validated once)."""
    return load_all()


def get_definition(procedure: str, version: int | None = None) -> Definition:
    """The definition `procedure` (at `version` when given: running cases stay pinned)."""
    found = definitions().get(procedure)
    if found is None:
        raise ProcedureNotFound(f"no procedure {procedure!r}")
    if version is not None and found.version != version:
        raise ProcedureVersionMissing(
            f"procedure {procedure} version {version} is not installed (have {found.version})"
        )
    return found


def calendar_for(name: str) -> HolidayCalendar:
    """The tenant's holiday calendar by name (unknown names fall back to Bavaria)."""
    try:
        return get_calendar(name)
    except KeyError:
        return get_calendar("bavaria")


def required_document_kinds(procedure: str, tenant_settings: dict[str, Any]) -> frozenset[str]:
    """The kinds of Bauvorlagen a procedure requires in this tenant."""
    override = (tenant_settings or {}).get("required_document_kinds", {}).get(procedure)
    if isinstance(override, list):
        return frozenset(str(k) for k in override)
    return REQUIRED_DOCUMENT_KINDS.get(procedure, frozenset())
