"""The officials' work lists: my cases, the signing inbox, the tenant's running deadlines.

A worklist is one official's cases (a few hundred at most), so it is read whole, ordered
with the markers first and then by the chosen column, and paged here; the deadline
overview of the whole tenant is ordered and paged by the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Literal

from sqlalchemy import Subquery, and_, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.cases.service import to_read
from eakte.process.definitions import definitions, get_definition
from eakte.process.models import (
    DEADLINE_RUNNING,
    PARTICIPATION_OPEN,
    Participation,
    ProcessDeadline,
    ProcessInstance,
)
from eakte.process.service import local_today
from eakte.work.schemas import (
    DeadlineItem,
    DeadlineList,
    KindCount,
    Marker,
    NextDeadline,
    WorkItem,
    WorkList,
)

FICTION_TAG = "fiction"
# "Fiktion in n Tagen" is marked (and sorted first) from two weeks before the last day of a
# deadline whose expiry means Genehmigungsfiktion (Art. 68 Abs. 2 S. 1 BayBO, Art. 42a
# BayVwVfG): enough to decide or to ask for missing documents before the permit is deemed
# granted. A practice choice of this system, not a legal period.
FICTION_WARNING_DAYS = 14
SIGNING_ROLE = "approver"

WorkSort = Literal["due", "file_number", "title", "state", "updated_at"]
Order = Literal["asc", "desc"]


def _definition(procedure: str, version: int) -> wf.Definition | None:
    try:
        return get_definition(procedure, version)
    except Exception:  # a definition no longer installed: show the case without labels
        return None


def _is_fiction(definition: wf.Definition | None, kind: str) -> bool:
    rule = definition.deadline(kind) if definition else None
    return bool(rule and FICTION_TAG in rule.tags)


def _state_label(definition: wf.Definition | None, state: str) -> str:
    found = definition.state(state) if definition else None
    return found.label.de if found else state


@cache
def signing_states() -> frozenset[tuple[str, str]]:
    """(procedure, state) pairs where a decision waits for its signature: a state from which
    only an approver may take an action that issues a document (four-eyes Zeichnung)."""
    found = set()
    for definition in definitions().values():
        for action in definition.actions:
            issues = any(e.type == "issue_document" for e in action.effects)
            if issues and tuple(action.roles) == (SIGNING_ROLE,):
                found.update((definition.id, s) for s in action.from_states)
    return frozenset(found)


def _work_item(
    case: Case,
    row: ProcessInstance,
    deadlines: Sequence[ProcessDeadline],
    principal: Principal,
    today: date,
) -> WorkItem:
    definition = _definition(row.definition_id, row.definition_version)
    running = sorted(deadlines, key=lambda d: (d.due, d.kind))
    first = running[0] if running else None
    fiction_days = [(d.due - today).days for d in running if _is_fiction(definition, d.kind)]
    fiction_in_days = min(fiction_days) if fiction_days else None
    overdue = any(d.due < today for d in running)
    detected = isinstance((row.variables or {}).get("fiktion_festgestellt"), dict)
    markers: list[Marker] = []
    if overdue:
        markers.append("overdue")
    if detected:
        markers.append("fiction_detected")
    if fiction_in_days is not None and 0 <= fiction_in_days <= FICTION_WARNING_DAYS:
        markers.append("fiction_soon")
    read = to_read(case)
    role: Literal["assignee", "deputy", "none"] = (
        "assignee"
        if case.assignee_sub == principal.sub
        else "deputy"
        if case.deputy_sub == principal.sub
        else "none"
    )
    return WorkItem(
        case_id=case.id,
        file_number=case.file_number,
        title=case.title,
        procedure=case.procedure,
        state=row.state,
        state_label_de=_state_label(definition, row.state),
        my_role=role,
        assignee=read.assignee,
        deputy=read.deputy,
        next_deadline=None
        if first is None
        else NextDeadline(
            id=first.id,
            kind=first.kind,
            label_de=first.label_de,
            legal_basis=first.legal_basis,
            due=first.due,
            days_left=(first.due - today).days,
            fiction=_is_fiction(definition, first.kind),
        ),
        overdue=overdue,
        fiction_in_days=fiction_in_days,
        fiction_detected=detected,
        markers=markers,
        updated_at=case.updated_at,
    )


def _priority(item: WorkItem) -> int:
    if item.overdue:
        return 0
    if item.fiction_detected:
        return 1
    if "fiction_soon" in item.markers:
        return 2
    return 3


def _column(item: WorkItem, sort: WorkSort) -> tuple[int, str]:
    if sort == "due":
        due = item.next_deadline.due if item.next_deadline else None
        return (0, due.isoformat()) if due else (1, "")
    if sort == "state":
        return (0, item.state_label_de.casefold())
    if sort == "title":
        return (0, item.title.casefold())
    if sort == "updated_at":
        return (0, item.updated_at.isoformat())
    return (0, item.file_number)


def _order(items: list[WorkItem], sort: WorkSort, order: Order) -> list[WorkItem]:
    # stable sorts: file number as the tie-breaker, then the column, then the markers first
    items = sorted(items, key=lambda i: i.file_number)
    items = sorted(items, key=lambda i: _column(i, sort)[1], reverse=order == "desc")
    items = sorted(items, key=lambda i: _column(i, sort)[0])  # cases without a deadline last
    return sorted(items, key=_priority)


async def _items(
    session: AsyncSession, principal: Principal, condition: object, today: date
) -> list[WorkItem]:
    rows = (
        await session.execute(
            select(Case, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.case_id == Case.id)
            .where(Case.tenant_id == principal.tenant, condition)  # type: ignore[arg-type]
        )
    ).all()
    ids = [case.id for case, _ in rows]
    by_case: dict[uuid.UUID, list[ProcessDeadline]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for d in await session.scalars(
            select(ProcessDeadline).where(
                ProcessDeadline.case_id.in_(chunk), ProcessDeadline.status == DEADLINE_RUNNING
            )
        ):
            by_case[d.case_id].append(d)
    return [_work_item(c, r, by_case[c.id], principal, today) for c, r in rows]


def _page(items: list[WorkItem], offset: int, limit: int) -> WorkList:
    return WorkList(
        items=items[offset : offset + limit], total=len(items), offset=offset, limit=limit
    )


async def my_cases(
    session: AsyncSession,
    principal: Principal,
    *,
    sort: WorkSort = "due",
    order: Order = "asc",
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> WorkList:
    """Cases I am Sachbearbeiter or Vertretung of: overdue and fiction markers first."""
    mine = or_(Case.assignee_sub == principal.sub, Case.deputy_sub == principal.sub)
    items = await _items(session, principal, mine, today or local_today())
    return _page(_order(items, sort, order), offset, limit)


async def signing_inbox(
    session: AsyncSession,
    principal: Principal,
    *,
    sort: WorkSort = "due",
    order: Order = "asc",
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> WorkList:
    """ "Zur Zeichnung": the tenant's cases whose decision draft waits for a signature."""
    pairs = signing_states()
    if not pairs:
        return _page([], offset, limit)
    waiting = or_(
        *(
            and_(ProcessInstance.definition_id == p, ProcessInstance.state == s)
            for p, s in sorted(pairs)
        )
    )
    items = await _items(session, principal, waiting, today or local_today())
    return _page(_order(items, sort, order), offset, limit)


PARTICIPATION_PREFIX = "beteiligung_"


def _participation_rule(definition: wf.Definition | None, kind: str) -> wf.ParticipationRule | None:
    return definition.participation(kind) if definition else None


def _participation_label(kind: str) -> str:
    for definition in definitions().values():
        rule = definition.participation(kind)
        if rule is not None:
            return f"Beteiligung: {rule.label.de}"
    return f"Beteiligung: {kind}"


def _running_union(tenant: str) -> Subquery:
    """Running deadlines and open participations (each has its own answer period, with
    deemed consent on silence, Art. 65 Abs. 2 S. 2 BayBO) as one list of periods."""
    deadlines = select(
        ProcessDeadline.id.label("id"),
        literal("deadline").label("source"),
        ProcessDeadline.kind.label("kind"),
        ProcessDeadline.label_de.label("label_de"),
        ProcessDeadline.legal_basis.label("legal_basis"),
        ProcessDeadline.anchor.label("anchor"),
        ProcessDeadline.due.label("due"),
        ProcessDeadline.case_id.label("case_id"),
        literal("").label("party"),
    ).where(ProcessDeadline.tenant_id == tenant, ProcessDeadline.status == DEADLINE_RUNNING)
    asked = select(
        Participation.id,
        literal("participation"),
        (literal(PARTICIPATION_PREFIX) + Participation.kind),
        (literal("Beteiligung: ") + Participation.party),
        literal(""),
        func.coalesce(Participation.arrived_on, Participation.requested_on),
        Participation.due,
        Participation.case_id,
        Participation.party,
    ).where(Participation.tenant_id == tenant, Participation.status == PARTICIPATION_OPEN)
    return union_all(deadlines, asked).subquery("periods")


async def running_deadlines(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str | None = None,
    official: str | None = None,
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> DeadlineList:
    """Every running deadline and open participation of the tenant, the one ending first
    first; a participation's kind is `beteiligung_<kind>`."""
    today = today or local_today()
    periods = _running_union(principal.tenant)
    conditions = [Case.tenant_id == principal.tenant]
    if kind:
        conditions.append(periods.c.kind == kind)
    if official:
        conditions.append(or_(Case.assignee_sub == official, Case.deputy_sub == official))
    base = (
        select(periods, Case, ProcessInstance)
        .join(Case, Case.id == periods.c.case_id)
        .join(ProcessInstance, ProcessInstance.case_id == Case.id)
        .where(*conditions)
    )
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = (
        await session.execute(
            base.order_by(periods.c.due, Case.file_number, periods.c.kind, periods.c.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    kinds_rows = (
        await session.execute(
            select(periods.c.kind, func.min(periods.c.label_de), func.count()).group_by(
                periods.c.kind
            )
        )
    ).all()
    kinds = [
        KindCount(
            kind=k,
            label_de=_participation_label(k.removeprefix(PARTICIPATION_PREFIX))
            if k.startswith(PARTICIPATION_PREFIX)
            else str(label),
            count=int(n),
        )
        for k, label, n in kinds_rows
    ]
    items = []
    for row in rows:
        m = row._mapping
        case: Case = m[Case]
        instance: ProcessInstance = m[ProcessInstance]
        read = to_read(case)
        definition = _definition(instance.definition_id, instance.definition_version)
        is_participation = m["source"] == "participation"
        rule = (
            _participation_rule(definition, str(m["kind"]).removeprefix(PARTICIPATION_PREFIX))
            if is_participation
            else None
        )
        due: date = m["due"]
        items.append(
            DeadlineItem(
                id=m["id"],
                source="participation" if is_participation else "deadline",
                kind=m["kind"],
                label_de=m["label_de"],
                legal_basis=rule.legal_basis if rule else m["legal_basis"],
                anchor=m["anchor"],
                due=due,
                days_left=(due - today).days,
                overdue=due < today,
                fiction=not is_participation and _is_fiction(definition, m["kind"]),
                party=m["party"] or None,
                case_id=case.id,
                file_number=case.file_number,
                title=case.title,
                assignee=read.assignee,
                deputy=read.deputy,
            )
        )
    return DeadlineList(
        items=items,
        total=int(total or 0),
        offset=offset,
        limit=limit,
        kinds=sorted(kinds, key=lambda k: k.label_de.casefold()),
    )
