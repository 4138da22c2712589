"""Where a case stands in its procedure: instance, transitions, deadlines, participations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eakte.db import Base, UTCDateTime, utcnow

DEADLINE_RUNNING = "running"
DEADLINE_CANCELLED = "cancelled"
DEADLINE_FIRED = "fired"  # expired and its on-expiry action was taken
DEADLINE_EXPIRED = "expired"  # expired without an action (or the action was not possible)

PARTICIPATION_OPEN = "open"
PARTICIPATION_ANSWERED = "answered"
PARTICIPATION_DEEMED = "deemed"  # the deadline passed in silence: consent deemed given


class ProcessInstance(Base):
    """A case's run through one procedure definition, pinned to its version."""

    __tablename__ = "process_instances"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    definition_id: Mapped[str] = mapped_column(String(60))
    definition_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(60))
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    state_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessTransition(Base):
    """One step of a case through its procedure: who, when, what, from where to where."""

    __tablename__ = "process_transitions"
    __table_args__ = (Index("ix_process_transitions_case", "case_id", "seq", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    definition_id: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(80))
    label_de: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300))
    from_state: Mapped[str | None] = mapped_column(String(60), nullable=True)
    to_state: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    xbau: Mapped[str | None] = mapped_column(String(10), nullable=True)
    deadline: Mapped[str | None] = mapped_column(String(80), nullable=True)


class ProcessEffect(Base):
    """An effect a transition emitted (issue a document, notify, serve neighbours, ...).

    Stored as data in the transition's transaction; `eakte.process.effects.handle` is the
    one place that carries them out (and where the outbox/issuing hooks in).
    """

    __tablename__ = "process_effects"
    __table_args__ = (Index("ix_process_effects_case", "case_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)  # the transition's seq
    type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bekanntgabe(Base):
    """How and when a decision was made known (Art. 41 BayVwVfG): the date is computed."""

    __tablename__ = "process_bekanntgaben"
    __table_args__ = (Index("ix_process_bekanntgaben_case", "case_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    action: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(40))
    sent_on: Mapped[date] = mapped_column(Date)
    retrieved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    proven_receipt_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    bekanntgabe_on: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessDeadline(Base):
    """A period with legal effect: runs from `anchor` (not counted) through `due`."""

    __tablename__ = "process_deadlines"
    __table_args__ = (
        Index("ix_process_deadlines_status_due", "status", "due"),
        Index("ix_process_deadlines_case", "case_id", "kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(80))
    label_de: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    anchor: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    # the end before rolling over a weekend/holiday (§ 193 BGB); NULL: it did not roll
    unrolled_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    # the letter named a fixed end day (Art. 31 Abs. 3 S. 2 BayVwVfG): never rolled
    fixed_end: Mapped[bool] = mapped_column(Boolean, default=False)
    on_expiry: Mapped[list[str]] = mapped_column(JSON, default=list)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=DEADLINE_RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Participation(Base):
    """An authority, agency or the municipality asked for consent or a statement (Beteiligung)."""

    __tablename__ = "participations"
    __table_args__ = (
        Index("ix_participations_case", "case_id"),
        Index("ix_participations_status_due", "status", "due"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(String(40), ForeignKey("tenants.slug"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(80))
    party: Mapped[str] = mapped_column(String(200))
    agency_sub: Mapped[str | None] = mapped_column(String(200), nullable=True)
    requested_on: Mapped[date] = mapped_column(Date)
    # arrival of the request at the party: its answer period counts from here
    # (Art. 65 Abs. 2 S. 2 BayBO, § 36 Abs. 2 S. 2 BauGB); NULL on rows before 0007
    arrived_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    due: Mapped[date] = mapped_column(Date)
    on_silence: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=PARTICIPATION_OPEN)
    answer: Mapped[str | None] = mapped_column(String(40), nullable=True)
    statement: Mapped[str] = mapped_column(Text, default="")
    received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # the day the party says it answered (its letter's date); the arrival above counts
    answered_on_claimed: Mapped[date | None] = mapped_column(Date, nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
