"""Prometheus metrics of one model server, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "parity_requests", "Prediction requests", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "parity_request_latency_seconds",
            "Time to answer a prediction request",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "parity_prediction_errors", "Requests that failed", ["kind"], registry=self.registry
        )
        self.batch_size = Histogram(
            "parity_batch_rows",
            "Rows per prediction request",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.model_info = Gauge(
            "parity_model_info",
            "The model being served (value 1)",
            ["model", "version", "environment_id", "data_version", "verified"],
            registry=self.registry,
        )
        self.served_version = Gauge(
            "parity_model_version",
            "The version number of the model answering predictions",
            registry=self.registry,
        )
        self.switches = Counter(
            "parity_model_switches",
            "Switches to the version a followed alias moved to (--follow-alias)",
            registry=self.registry,
        )
        self.refused_switches = Counter(
            "parity_model_switches_refused",
            "Versions a followed alias moved to that failed their start-up checks",
            registry=self.registry,
        )
        self.dropped_logs = Counter(
            "parity_prediction_log_dropped",
            "Sampled rows dropped because the log queue was full",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
