"""The one hook the procedure calls: a recorded transition may owe the sender an XBau message.

Which message follows from the transition's XBau code in the procedure definition (`xbau:`
on the action) and its effects, never from procedure or action names. Cases that did not
come in via XBau get nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.cases.models import Case
from eakte.xbau import outgoing

FORMAL_CHECK_CODES = frozenset({"0201", "0211"})
DECISION_CODES = frozenset({"0205", "0215"})


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _refused(effects: tuple[wf.Effect, ...] | list[wf.Effect]) -> bool:
    """An `issue_document` effect of a refusal kind (e.g. ablehnungsbescheid) means refused."""
    return any(
        e.type == "issue_document" and "ablehnung" in str(e.params.get("kind", "")) for e in effects
    )


async def on_transition(
    session: AsyncSession,
    *,
    case: Case,
    result: wf.ApplyResult,
    revision: int,
) -> None:
    """Queue the XBau answer a transition owes (0201/0211 formelle Prüfung, 0205/0215 Bescheid)."""
    t = result.transition
    if t.xbau not in FORMAL_CHECK_CODES | DECISION_CODES:
        return
    key = f"transition:{case.id}:{revision}:{t.xbau}"
    inputs = dict(t.input)
    if t.xbau in FORMAL_CHECK_CODES:
        findings = [str(m) for m in inputs.get("maengel") or []]
        await outgoing.queue_formal_check(
            session,
            case,
            key=key,
            complete=not findings,
            findings=findings,
            deadline=_date(inputs.get("frist_bis")),
            letter=str(inputs.get("bemerkung") or ""),
        )
        return
    await outgoing.queue_decision(
        session,
        case,
        key=key,
        granted=not _refused(result.effects),
        reasons=str(inputs.get("begruendung") or ""),
    )
