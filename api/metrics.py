"""Prometheus metrics of the API process (``GET /metrics``).

One registry per app (tests build many apps in one process). Requests are labelled by the route
*template* (``/declarations/{declaration_id}``), never the raw path, so cardinality stays bounded.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "reviewchain_http_requests_total",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "reviewchain_http_request_duration_seconds",
            "HTTP request latency by method, route template and status code",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "reviewchain_http_requests_in_flight",
            "HTTP requests being served",
            registry=self.registry,
        )
        self.refusals = Counter(
            "reviewchain_refusals_total",
            "Refused attempts by authenticated callers (403, 409), all audited",
            ["status", "action"],
            registry=self.registry,
        )
        self.declarations = Gauge(
            "reviewchain_declarations",
            "Declarations in the read model by state (sampled at scrape time)",
            ["state"],
            registry=self.registry,
        )

        self.deliveries = Gauge(
            "reviewchain_notification_deliveries",
            "Notification deliveries by channel and status (sampled at scrape time)",
            ["channel", "status"],
            registry=self.registry,
        )
        self.outbox_lag = Gauge(
            "reviewchain_outbox_lag_seconds",
            "How long the oldest due, unsent notification or delivery has waited",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def set_declarations(self, counts: Mapping[str, int]) -> None:
        self.declarations.clear()
        for state, n in counts.items():
            self.declarations.labels(state).set(n)

    def set_outbox(self, counts: Mapping[tuple[str, str], int], lag: float) -> None:
        self.deliveries.clear()
        for (channel, status), n in counts.items():
            self.deliveries.labels(channel, status).set(n)
        self.outbox_lag.set(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)
