"""A decision letter made known through issuing is the procedure's Bekanntgabe too.

Issuing (`POST /cases/{id}/issued/{issued_id}/bekanntgabe`) marks the letter known with the
computed day (`workflows.bekanntgabe`, Art. 41 Abs. 2 BayVwVfG). When that letter is the
decision the procedure awaits in its current state — the kind the signing action issued
(`issue_document`), in a state with a `record_bekanntgabe` action — the same day is recorded
through the procedure in the same transaction: it stops the Fiktion clock (Art. 42a Abs. 1
BayVwVfG) and starts what the definition starts (e.g. the Geltungsdauer, Art. 69 BayBO).
Process sits above issuing (it already calls `eakte.issuing.effects`), so this lives here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.auth.principal import Principal
from eakte.cases.service import get_case
from eakte.issuing import service as issuing
from eakte.issuing.models import IssuedDocument
from eakte.process.definitions import get_definition
from eakte.process.service import Actor, instance_for, record_bekanntgabe
from workflows import bekanntgabe as wf_bekanntgabe

RECORD_TAG = "record_bekanntgabe"


def awaited_decisions(definition: wf.Definition, state: str) -> frozenset[str]:
    """Kinds of decision letter whose Bekanntgabe the procedure records in `state`."""
    if not any(RECORD_TAG in a.tags and state in a.from_states for a in definition.actions):
        return frozenset()
    return frozenset(
        str(effect.params.get("kind"))
        for action in definition.actions
        if action.to == state
        for effect in action.effects
        if effect.type == "issue_document"
    )


async def make_letter_known(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    issued_id: uuid.UUID,
    *,
    channel: str | None,
    posted_on: date | None,
    now: datetime | None = None,
) -> IssuedDocument:
    """Make a signed letter known; a decision the procedure awaits is recorded through it.

    Provision for retrieval has no day until the retrieval (Art. 41 Abs. 2a BayVwVfG): the
    procedure's Bekanntgabe is recorded then (`POST …/process/bekanntgabe`, method provision).
    """
    record = await issuing.make_known(
        session, principal, case_id, issued_id, channel=channel, posted_on=posted_on
    )
    if record.posted_on is None or record.bekanntgabe_on is None:
        return record
    case = await get_case(session, principal, case_id)
    row = await instance_for(session, case, lock=True)
    definition = get_definition(row.definition_id, row.definition_version)
    if record.letter_type not in awaited_decisions(definition, row.state):
        return record
    await record_bekanntgabe(
        session,
        case,
        Actor.of(principal),
        expected_state=row.state,
        method=wf_bekanntgabe.Method.POST,
        sent_on=record.posted_on,
        now=now,
    )
    return record
