"""Migration 0007: existing cases keep every deadline; the law's corrections are applied."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from eakte.migrations import upgrade

NOW = datetime(2025, 4, 1, 10, tzinfo=UTC)


def _insert_legacy(engine: sa.Engine) -> dict[str, uuid.UUID]:
    """Rows as the code before 0007 wrote them (SQLite: UUIDs as 32 hex characters)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    ids = {"late": uuid.uuid4(), "old": uuid.uuid4()}
    with engine.begin() as conn:
        conn.execute(
            sa.insert(t["tenants"]).values(
                slug="augsburg",
                name="Stadt Augsburg",
                file_number_pattern="{year}-{seq:05d}",
                allowed_media_types=[],
                max_upload_bytes=1,
                holiday_calendar="bavaria-augsburg",
                settings={},
                created_at=NOW,
            )
        )
        for n, (name, case_id) in enumerate(ids.items()):
            conn.execute(
                sa.insert(t["cases"]).values(
                    id=case_id.hex,
                    tenant_id="augsburg",
                    file_number=f"2025-0000{n}",
                    year=2025,
                    seq=n,
                    title=name,
                    procedure="baybo-59",
                    state="nachforderung" if name == "late" else "eingegangen",
                    description="",
                    site_address="x",
                    site_gemarkung="x",
                    site_flurstueck="x",
                    applicant_name="x",
                    search_text="x",
                    attributes={"housing": True},
                    revision=1,
                    created_by="clerk",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        # received 03.03.2025 (v2 in force), Nachforderung sent 01.04.2025, after the clock
        # began on 24.03.2025: the old code cancelled the Fiktion clock
        conn.execute(
            sa.insert(t["process_instances"]).values(
                case_id=ids["late"].hex,
                tenant_id="augsburg",
                definition_id="baybo-59",
                definition_version=1,
                state="nachforderung",
                variables={"eingang_am": "2025-03-03", "nachgefordert": ["Lageplan"]},
                flags=[],
                revision=3,
                state_since=NOW,
                updated_at=NOW,
            )
        )
        conn.execute(
            sa.insert(t["process_instances"]).values(
                case_id=ids["old"].hex,
                tenant_id="augsburg",
                definition_id="baybo-59",
                definition_version=1,
                state="eingegangen",
                variables={"eingang_am": "2024-11-04"},
                flags=[],
                revision=1,
                state_since=NOW,
                updated_at=NOW,
            )
        )
        deadline = t["process_deadlines"]
        rows = [
            (ids["late"], "genehmigungsfiktion", date(2025, 3, 3), date(2025, 6, 24), "cancelled"),
            (ids["late"], "nachforderungsfrist", date(2025, 5, 2), date(2025, 5, 2), "running"),
            (ids["old"], "genehmigungsfiktion", date(2024, 11, 4), date(2025, 2, 25), "running"),
        ]
        for case_id, kind, anchor, due, status in rows:
            conn.execute(
                sa.insert(deadline).values(
                    id=uuid.uuid4().hex,
                    tenant_id="augsburg",
                    case_id=case_id.hex,
                    kind=kind,
                    label_de=kind,
                    label_en=kind,
                    legal_basis="",
                    anchor=anchor,
                    due=due,
                    on_expiry=[],
                    public=True,
                    status=status,
                    started_at=datetime(2025, 3, 3, 9, tzinfo=UTC),
                    closed_at=NOW if status == "cancelled" else None,
                )
            )
        conn.execute(
            sa.insert(t["participations"]).values(
                id=uuid.uuid4().hex,
                tenant_id="augsburg",
                case_id=ids["old"].hex,
                kind="fachstelle_stellungnahme",
                party="WWA",
                agency_sub="wwa@augsburg",
                requested_on=date(2025, 1, 2),
                due=date(2025, 2, 3),
                on_silence="no_concerns",
                status="open",
                statement="",
                late=False,
                requested_by="clerk",
                created_at=NOW,
            )
        )
    return ids


def test_existing_cases_keep_their_deadlines_and_get_the_laws_corrections(
    tmp_path: Path,
) -> None:
    """Art. 68 Abs. 2 S. 1 BayBO: a late Nachforderung did not stop the clock, so the
    cancelled clock runs again; cases are pinned to the version in force on receipt."""
    url = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    upgrade(url, "0006")
    engine = sa.create_engine(url)
    ids = _insert_legacy(engine)

    def norm(value: object) -> str:  # SQLite stores UUIDs as 32 hex characters
        return str(value).replace("-", "")

    def deadlines() -> dict[tuple[str, str], tuple[date, str]]:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT case_id, kind, due, status FROM process_deadlines"))
            return {(norm(r.case_id), r.kind): (r.due, r.status) for r in rows}

    before = deadlines()
    upgrade(url)
    after = deadlines()
    with engine.connect() as conn:
        instances = {
            norm(r.case_id): (r.definition_version, json.loads(r.variables))
            for r in conn.execute(
                sa.text("SELECT case_id, definition_version, variables FROM process_instances")
            )
        }
        grants = [
            (norm(c), s)
            for c, s in conn.execute(sa.text("SELECT case_id, subject FROM case_grants"))
        ]
    engine.dispose()
    late, old = norm(ids["late"]), norm(ids["old"])
    # no deadline lost or moved
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert before[(late, "genehmigungsfiktion")][1] == "cancelled"
    assert after[(late, "genehmigungsfiktion")][1] == "running"
    assert after[(old, "genehmigungsfiktion")][1] == "running"
    assert instances[late][0] == 2  # received 03.03.2025: version in force from 01.01.2025
    assert instances[old][0] == 1  # received 04.11.2024
    assert instances[late][1]["fristbeginn"]["genehmigungsfiktion"] == "2025-03-24"
    assert grants == [(old, "wwa@augsburg")]  # agencies asked before keep their access
