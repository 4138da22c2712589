"""issue 12: legally safe fictions, versioned procedure definitions

- `process_deadlines.unrolled_due` / `fixed_end`: the end before rolling over a weekend
  or holiday (§ 190 BGB: an extension counts from it) and whether the letter named a
  fixed end day (Art. 31 Abs. 3 S. 2 BayVwVfG). Existing rows: NULL / false, their `due`
  is kept unchanged.
- `participations.arrived_on` / `answered_on_claimed`: the request's arrival (the answer
  period counts from it, Art. 65 Abs. 2 S. 2 BayBO) and the party's own answer date.
- `case_grants`: who outside the case-reading roles may see a case (agencies asked in a
  Beteiligung), owned by `cases` and written by `process`; backfilled from participations.
- `process_effects`: effects of each transition as data; `process_bekanntgaben`: how and
  when a decision was made known, with its computed date (Art. 41 BayVwVfG).
- Existing cases keep every deadline. baybo-59 cases received from 01.01.2025 are pinned to
  version 2 (the version in force on their receipt date; same states). The Fiktion clock's
  start day is recorded in the instance (`fristbeginn`), and a Genehmigungsfiktion clock
  that the old code cancelled on a Nachforderung sent *after* the clock began is running
  again (Art. 68 Abs. 2 S. 1 BayBO: a late Nachforderung does not stop it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:30:00
"""

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIKTION = "genehmigungsfiktion"
VERSION_2_FROM = date(2025, 1, 1)


def _json(value: object) -> dict:
    if isinstance(value, str):
        return json.loads(value)
    return dict(value or {})


def _day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def upgrade() -> None:
    with op.batch_alter_table("process_deadlines") as batch:
        batch.add_column(sa.Column("unrolled_due", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("fixed_end", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("participations") as batch:
        batch.add_column(sa.Column("arrived_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("answered_on_claimed", sa.Date(), nullable=True))
    op.create_table(
        "process_effects",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.slug"), nullable=False),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_process_effects_case", "process_effects", ["case_id", "seq"])
    op.create_table(
        "process_bekanntgaben",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.slug"), nullable=False),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("retrieved_on", sa.Date(), nullable=True),
        sa.Column("proven_receipt_on", sa.Date(), nullable=True),
        sa.Column("bekanntgabe_on", sa.Date(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_process_bekanntgaben_case", "process_bekanntgaben", ["case_id"])
    op.create_table(
        "case_grants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.slug"), nullable=False),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "subject", name="uq_case_grants_case_subject"),
    )
    op.create_index("ix_case_grants_subject", "case_grants", ["tenant_id", "subject"])
    _grant_asked_agencies()
    _migrate_instances()


def _grant_asked_agencies() -> None:
    """Agencies asked before 0007 keep seeing their cases (visibility moved to grants)."""
    bind = op.get_bind()
    participations = sa.table(
        "participations",
        sa.column("tenant_id", sa.String()),
        sa.column("case_id", sa.Uuid()),
        sa.column("agency_sub", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    grants = sa.table(
        "case_grants",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.String()),
        sa.column("case_id", sa.Uuid()),
        sa.column("subject", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(
            participations.c.tenant_id,
            participations.c.case_id,
            participations.c.agency_sub,
            sa.func.min(participations.c.created_at),
        )
        .where(participations.c.agency_sub.is_not(None))
        .group_by(participations.c.tenant_id, participations.c.case_id, participations.c.agency_sub)
    ).all()
    for tenant_id, case_id, subject, created_at in rows:
        bind.execute(
            sa.insert(grants).values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                case_id=case_id,
                subject=subject,
                reason="participation",
                created_at=created_at,
            )
        )


def _migrate_instances() -> None:
    bind = op.get_bind()
    instances = sa.table(
        "process_instances",
        sa.column("case_id", sa.Uuid()),
        sa.column("definition_id", sa.String()),
        sa.column("definition_version", sa.Integer()),
        sa.column("state", sa.String()),
        sa.column("variables", sa.JSON()),
    )
    deadlines = sa.table(
        "process_deadlines",
        sa.column("id", sa.Uuid()),
        sa.column("case_id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("anchor", sa.Date()),
        sa.column("status", sa.String()),
        sa.column("closed_at", sa.DateTime(timezone=True)),
        sa.column("started_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(
            instances.c.case_id,
            instances.c.definition_version,
            instances.c.state,
            instances.c.variables,
        ).where(instances.c.definition_id == "baybo-59")
    ).all()
    for case_id, version, state, raw_variables in rows:
        variables = _json(raw_variables)
        received = _day(variables.get("eingang_am"))
        values: dict[str, object] = {}
        if version == 1 and received is not None and received >= VERSION_2_FROM:
            values["definition_version"] = 2
        fiction = bind.execute(
            sa.select(deadlines.c.id, deadlines.c.anchor, deadlines.c.status, deadlines.c.closed_at)
            .where(deadlines.c.case_id == case_id, deadlines.c.kind == FIKTION)
            .order_by(deadlines.c.started_at.desc())
            .limit(1)
        ).first()
        if fiction is not None:
            anchor = _day(fiction.anchor)
            assert anchor is not None
            begins = anchor + timedelta(weeks=3)
            variables.setdefault("fiktion_anker", anchor.isoformat())
            variables["fristbeginn"] = {
                **(variables.get("fristbeginn") or {}),
                FIKTION: begins.isoformat(),
            }
            values["variables"] = variables
            closed = fiction.closed_at
            closed_day = closed.date() if isinstance(closed, datetime) else _day(closed)
            late_request = (
                state == "nachforderung"
                and fiction.status == "cancelled"
                and closed_day is not None
                and closed_day > begins
            )
            if late_request:
                bind.execute(
                    sa.update(deadlines)
                    .where(deadlines.c.id == fiction.id)
                    .values(status="running", closed_at=None)
                )
        if values:
            bind.execute(
                sa.update(instances).where(instances.c.case_id == case_id).values(**values)
            )


def downgrade() -> None:
    op.execute(
        "UPDATE process_instances SET definition_version = 1 "
        "WHERE definition_id = 'baybo-59' AND definition_version = 2"
    )
    op.drop_index("ix_case_grants_subject", table_name="case_grants")
    op.drop_table("case_grants")
    op.drop_index("ix_process_bekanntgaben_case", table_name="process_bekanntgaben")
    op.drop_table("process_bekanntgaben")
    op.drop_index("ix_process_effects_case", table_name="process_effects")
    op.drop_table("process_effects")
    with op.batch_alter_table("participations") as batch:
        batch.drop_column("answered_on_claimed")
        batch.drop_column("arrived_on")
    with op.batch_alter_table("process_deadlines") as batch:
        batch.drop_column("fixed_end")
        batch.drop_column("unrolled_due")
