"""A write is committed before its 2xx goes out (found by the kill -9 test).

FastAPI runs the exit code of a `yield` dependency after the response by default; the
session dependency committed there, so a crash (or a failed commit) after the response
lost a write the client had been told succeeded.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from eakte.cases.models import Case
from support import case_payload


def _mark_case_writes(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(row, Case) for row in session.new):
        session.info["wrote_case"] = True


async def test_a_failed_commit_is_never_reported_as_success(
    client: httpx.AsyncClient, auth: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = AsyncSession.commit

    async def failing_commit(self: AsyncSession) -> None:
        if self.info.get("wrote_case"):
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        await commit(self)

    event.listen(Session, "before_flush", _mark_case_writes)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(AsyncSession, "commit", failing_commit)
            response = await client.post(
                "/api/v1/cases", json=case_payload(), headers=auth("clerk")
            )
    finally:
        event.remove(Session, "before_flush", _mark_case_writes)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    listed = await client.get("/api/v1/cases", headers=auth("clerk"))
    assert listed.json()["items"] == []
