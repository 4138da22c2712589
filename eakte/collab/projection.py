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
from eakte.errors import DomainError, PreconditionFailed, validation_message_de

log = logging.getLogger("eakte.collab")

DEBOUNCE_SECONDS = 0.2
RETRIES = 5


def _text(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    return value if isinstance(value, str) else None


# the co-edited fields that are projected into the case record, with the model checking each
PROJECTED = (
    "title",
    "description",
    "site_address",
    "site_gemarkung",
    "site_flurstueck",
    "applicant_name",
    "applicant_email",
)


def _check(key: str, value: str) -> None:
    """Validate one field as the case record would (raises ValidationError)."""
    if key in ("title", "description"):
        CaseUpdate.model_validate({key: value})
    elif key.startswith("site_"):
        SitePatch.model_validate({key.removeprefix("site_"): value})
    elif key == "applicant_name":
        Applicant.model_validate({"name": value})
    elif key == "applicant_email" and value.strip():
        Applicant.model_validate({"name": "-", "email": value.strip()})


def field_errors(fields: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Why fields would not be projected: {key: {"de": ..., "en": ...}} (valid keys absent)."""
    errors: dict[str, dict[str, str]] = {}
    for key in PROJECTED:
        value = _text(fields, key)
        if value is None:
            continue
        try:
            _check(key, value)
        except ValidationError as exc:
            first = exc.errors()[0]
            errors[key] = {
                "de": validation_message_de(str(first["type"]), str(first["msg"])),
                "en": str(first["msg"]),
            }
    return errors


def case_update(
    fields: dict[str, Any],
    *,
    applicant_name: str | None = None,
    applicant_email: str | None = None,
) -> CaseUpdate:
    """The case change the fields ask for; invalid fields are left out (and logged).

    Name and e-mail of the applicant are checked one by one: an invalid e-mail being typed
    keeps the recorded one and does not hold back a renamed applicant (issue 16).
    """
    invalid = field_errors(fields)
    for key, reason in invalid.items():
        log.warning("collab: field %s not projected: %s", key, reason["en"])

    def valid(key: str) -> str | None:
        return None if key in invalid else _text(fields, key)

    parts: dict[str, Any] = {}
    for key in ("title", "description"):
        value = valid(key)
        if value is not None:
            parts[key] = value
    site = {
        name: value
        for name in ("address", "gemarkung", "flurstueck")
        if (value := valid(f"site_{name}")) is not None
    }
    if site:
        parts["site"] = SitePatch.model_validate(site)
    name, email = valid("applicant_name"), valid("applicant_email")
    if name is not None or (email is not None and applicant_name is not None):
        parts["applicant"] = Applicant.model_validate(
            {
                "name": name if name is not None else applicant_name,
                "email": (email.strip() or None) if email is not None else applicant_email,
            }
        )
    return CaseUpdate(**parts)


async def project(db: Database, principal: Principal, case_id: uuid.UUID, fields: dict) -> None:
    """Apply `fields` to the case as `principal`, retrying on concurrent changes."""
    for _ in range(RETRIES):
        try:
            async with db.session(write=True) as session:
                case = await get_case(session, principal, case_id)
                data = case_update(
                    fields, applicant_name=case.applicant_name, applicant_email=case.applicant_email
                )
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
