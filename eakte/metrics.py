"""Prometheus metrics: request counts and latency per route template."""

from __future__ import annotations

import bisect
import hmac
import time
from collections.abc import Callable, Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eakte.config import Settings
from eakte.errors import NotFound, Unauthenticated


class Metrics:
    """The collectors of one app (own registry, so tests can build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "eakte_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "eakte_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # issue 19: the background work an operator must see
        self.ticker_runs = Counter(
            "eakte_ticker_runs",
            "Runs of the deadline ticker by outcome (ok, skipped: database down, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.ticker_events = Counter(
            "eakte_ticker_events",
            "What the ticker did: fired deadlines, expired fictions, deemed consents, failures",
            ["kind"],
            registry=self.registry,
        )
        self.collab = CommitStats()
        self.registry.register(self.collab)
        self.store_errors = Counter(
            "eakte_object_store_errors",
            "Object store calls that failed, by operation and error class",
            ["operation", "error"],
            registry=self.registry,
        )
        self.store_bytes_written = Counter(
            "eakte_object_store_bytes_written",
            "Bytes written to the object store (uploads, issued documents, XBau messages)",
            registry=self.registry,
        )
        self.download_links = Counter(
            "eakte_download_links_issued",
            "Download links issued (the authorised access; the bytes go out without the app)",
            ["mode"],
            registry=self.registry,
        )
        # process (RSS, CPU, fds), Python (GC, version) collectors
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge read at scrape time (rooms, connections, pool use: no hook in the hot path)."""
        Gauge(name, documentation, registry=self.registry).set_function(read)

    def ticked(self, report: object | None) -> None:
        """Count one ticker run (`report` None: skipped, the database was unavailable)."""
        if report is None:
            self.ticker_runs.labels("skipped").inc()
            return
        kinds = {k: len(getattr(report, k)) for k in ("fired", "expired", "deemed", "failed")}
        self.ticker_runs.labels("failed" if kinds["failed"] else "ok").inc()
        for kind, count in kinds.items():
            if count:
                self.ticker_events.labels(kind).inc(count)

    def committed(self, updates: int, seconds: float) -> None:
        """Count one co-editing commit of `updates` client updates."""
        self.collab.committed(updates, seconds)


class CommitStats:
    """The co-editing commit metrics, counted in plain integers and exported at scrape time.

    A busy room commits hundreds of times a second; prometheus_client's Counter and Histogram
    take a lock per call (three calls per commit cost ~25 us, 3 % of the server's CPU in
    bench/collab's steady workload). Only the event loop calls `committed`.
    """

    BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

    def __init__(self) -> None:
        self.commits = 0
        self.updates = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(self.BUCKETS) + 1)  # the last one: above every bound

    def committed(self, updates: int, seconds: float) -> None:
        self.commits += 1
        self.updates += updates
        self.seconds += seconds
        self.buckets[bisect.bisect_left(self.BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        commits = CounterMetricFamily(
            "eakte_collab_commits", "Co-editing commits (one database transaction each)"
        )
        commits.add_metric([], self.commits)
        updates = CounterMetricFamily(
            "eakte_collab_updates_committed", "Co-editing updates from clients committed"
        )
        updates.add_metric([], self.updates)
        cumulative, total = [], 0
        for bound, count in zip((*map(str, self.BUCKETS), "+Inf"), self.buckets, strict=True):
            total += count
            cumulative.append((bound, total))
        latency = HistogramMetricFamily(
            "eakte_collab_commit_duration_seconds",
            "Time to commit a batch of co-editing updates (database append incl. retries)",
        )
        latency.add_metric([], cumulative, self.seconds)
        return iter((commits, updates, latency))


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)


def check_metrics_access(settings: Settings, authorization: str | None) -> None:
    """`/metrics` needs `Bearer <EAKTE_METRICS_TOKEN>` when a token is set; in production
    without one it is off (404) unless EAKTE_METRICS_PUBLIC=true (a network-restricted port)."""
    if settings.metrics_token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthenticated("/metrics needs the metrics token")
        return
    if not settings.dev_mode and not settings.metrics_public:
        raise NotFound("metrics are off: set EAKTE_METRICS_TOKEN (or EAKTE_METRICS_PUBLIC=true)")
