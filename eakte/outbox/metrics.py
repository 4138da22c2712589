"""Queue figures on /metrics (read from the database at scrape time, so any worker counts)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from eakte.db import Database, utcnow
from eakte.outbox import service


class OutboxGauges:
    """Gauges for queue depth, oldest pending age, failed attempts and dead letters."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.depth = Gauge(
            "eakte_outbox_pending", "Messages waiting for delivery", registry=registry
        )
        self.oldest = Gauge(
            "eakte_outbox_oldest_pending_seconds",
            "Age of the oldest pending message",
            registry=registry,
        )
        self.failures = Gauge(
            "eakte_outbox_failed_attempts", "Delivery attempts that failed", registry=registry
        )
        self.dead = Gauge("eakte_outbox_dead", "Dead letters (need an operator)", registry=registry)

    async def refresh(self, db: Database) -> None:
        """Read the figures of all tenants."""
        async with db.session(write=False) as session:
            figures = await service.stats(session, now=utcnow())
        self.depth.set(figures.pending)
        self.oldest.set(figures.oldest_pending_seconds)
        self.failures.set(figures.failures)
        self.dead.set(figures.dead)
