"""The error counters platform components share: ``twinric_errors_total{component,reason}`` (scraped by
``twinric up``) and, for the REST services, a per-service count of rejected requests by reason."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from ricproto import metric_names


def errors_counter(registry: CollectorRegistry) -> Counter:
    """``twinric_errors_total{component,reason}`` in ``registry``: every bad input and failure."""
    return Counter(
        metric_names.ERRORS.removesuffix("_total"),  # prometheus-client appends _total itself
        "Bad input and failures, by component and reason.",
        ["component", "reason"],
        registry=registry,
    )


class RestErrorMetrics:
    """Own registry (so several services can live in one test process) with the errors counter and
    ``<bad_requests_name>_total{reason}``; ``ricplt.rest_errors`` counts into it."""

    def __init__(self, component: str, bad_requests_name: str, bad_requests_help: str) -> None:
        self.component = component
        self.registry = CollectorRegistry(auto_describe=True)
        self.errors = errors_counter(self.registry)
        self.bad_requests = Counter(bad_requests_name, bad_requests_help, ["reason"], registry=self.registry)

    def bad_request(self, reason: str) -> None:
        self.bad_requests.labels(reason).inc()
        self.errors.labels(self.component, reason).inc()

    def failure(self, reason: str) -> None:
        self.errors.labels(self.component, reason).inc()
