"""Response models of the officials' work lists (issue 16)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from eakte.cases.schemas import Official

Marker = Literal["overdue", "fiction_detected", "fiction_soon"]


class NextDeadline(BaseModel):
    """The running deadline of a case that ends first."""

    id: uuid.UUID
    kind: str
    label_de: str
    legal_basis: str
    due: date
    days_left: int = Field(description="days from today to the last day (negative: overdue)")
    fiction: bool = Field(description="its expiry means Genehmigungsfiktion")


class WorkItem(BaseModel):
    """One case in a work list."""

    case_id: uuid.UUID
    file_number: str
    title: str
    procedure: str
    state: str
    state_label_de: str
    my_role: Literal["assignee", "deputy", "none"]
    assignee: Official | None
    deputy: Official | None
    next_deadline: NextDeadline | None
    overdue: bool
    fiction_in_days: int | None = Field(
        description="days until a running fiction deadline ends (Art. 68 Abs. 2 BayBO, "
        "Art. 42a BayVwVfG)"
    )
    fiction_detected: bool = Field(description="the ticker detected a fiction to confirm")
    markers: list[Marker]
    updated_at: datetime


class WorkList(BaseModel):
    """One page of a work list with the total number of matching cases."""

    items: list[WorkItem]
    total: int
    offset: int
    limit: int


class DeadlineItem(BaseModel):
    """One running deadline or open participation of the tenant with its case."""

    id: uuid.UUID
    source: Literal["deadline", "participation"] = Field(
        description="a procedure deadline, or the answer period of an open Beteiligung"
    )
    kind: str = Field(description="the deadline kind; `beteiligung_<kind>` for a participation")
    label_de: str
    legal_basis: str
    anchor: date
    due: date
    days_left: int
    overdue: bool
    fiction: bool
    party: str | None = Field(default=None, description="who was asked (participations)")
    case_id: uuid.UUID
    file_number: str
    title: str
    assignee: Official | None
    deputy: Official | None


class KindCount(BaseModel):
    """A deadline kind with its German label and how many of it run."""

    kind: str
    label_de: str
    count: int


class DeadlineList(BaseModel):
    """One page of running deadlines, the total and the kinds for the filter."""

    items: list[DeadlineItem]
    total: int
    offset: int
    limit: int
    kinds: list[KindCount]


class MemberRead(BaseModel):
    """An official of the tenant (for pickers: Sachbearbeitung, Vertretung, Fachstelle)."""

    sub: str
    name: str
    roles: list[str]


class MemberList(BaseModel):
    """The tenant's officials who have signed in, by name."""

    items: list[MemberRead]
