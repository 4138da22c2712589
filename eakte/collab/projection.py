"""Project the workspace's `fields` map into the case record (service layer, audited)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic import ValidationError

from eakte.auth.principal import Principal
from eakte.cases.schemas import Applicant, CaseUpdate, SitePatch
from eakte.cases.service import get_case, update_case
from eakte.db import Database
from eakte.errors import DomainError, PreconditionFailed

log = logging.getLogger("eakte.collab")

DEBOUNCE_SECONDS = 0.2
RETRIES = 5


def _text(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    return value if isinstance(value, str) else None


def case_update(fields: dict[str, Any]) -> CaseUpdate:
    """The case change the fields ask for; invalid parts are left out (and logged)."""
    parts: dict[str, Any] = {}
    for key in ("title", "description"):
        value = _text(fields, key)
        if value is not None:
            parts[key] = value
    site = {
        name: value
        for name in ("address", "gemarkung", "flurstueck")
        if (value := _text(fields, f"site_{name}")) is not None
    }
    if site:
        parts["site"] = site
    name = _text(fields, "applicant_name")
    if name is not None:
        email = _text(fields, "applicant_email")
        parts["applicant"] = {"name": name, "email": email or None}
    checked: dict[str, Any] = {}
    for key, value in parts.items():
        try:
            if key == "site":
                checked[key] = SitePatch.model_validate(value)
            elif key == "applicant":
                checked[key] = Applicant.model_validate(value)
            else:
                CaseUpdate.model_validate({key: value})
                checked[key] = value
        except ValidationError as exc:
            log.warning("collab: field %s not projected: %s", key, exc.errors()[0]["msg"])
    return CaseUpdate(**checked)


async def project(db: Database, principal: Principal, case_id: uuid.UUID, fields: dict) -> None:
    """Apply `fields` to the case as `principal`, retrying on concurrent changes."""
    data = case_update(fields)
    for _ in range(RETRIES):
        try:
            async with db.session(write=True) as session:
                case = await get_case(session, principal, case_id)
                await update_case(
                    session,
                    principal,
                    case_id,
                    data,
                    expected_revision=case.revision,
                    action="case.updated_from_workspace",
                )
            return
        except PreconditionFailed:
            await asyncio.sleep(0.01)
        except DomainError as exc:
            log.warning("collab: projection into case %s refused: %s", case_id, exc.detail)
            return
    log.warning("collab: projection into case %s gave up after %d conflicts", case_id, RETRIES)


class Projector:
    """Debounces projections per case; the actor is the last writer of `fields`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._writers: dict[uuid.UUID, Principal] = {}
        self.projected: dict[uuid.UUID, dict[str, Any]] = {}
        # the hub's task group; set by the hub
        self.spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]] = asyncio.create_task

    def schedule(self, case_id: uuid.UUID, fields: dict[str, Any], writer: Principal) -> None:
        """Project `fields` soon unless they equal what was projected last."""
        if self.projected.get(case_id) == fields:
            return
        self._writers[case_id] = writer
        self.projected[case_id] = fields
        task = self._tasks.get(case_id)
        if task is None or task.done():
            self._tasks[case_id] = self.spawn(self._run(case_id))

    async def _run(self, case_id: uuid.UUID) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        self._tasks.pop(case_id, None)
        fields = self.projected[case_id]
        writer = self._writers.pop(case_id)
        try:
            await project(self.db, writer, case_id, fields)
        except Exception:
            log.exception("collab: projection into case %s failed", case_id)
            self.projected.pop(case_id, None)

    async def flush(self) -> None:
        """Wait for scheduled projections (shutdown)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
