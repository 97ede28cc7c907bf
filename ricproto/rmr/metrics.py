"""Prometheus counters of the RMR transport (process-wide; every context adds to them).

Bad input and dropped connections are rare events and go straight to prometheus; per-message
counts are kept as plain integers on each context (``RmrContext.stats``) to keep the hot path cheap.
"""

from __future__ import annotations

from prometheus_client import Counter

BAD_INPUT = Counter(
    "rmr_bad_input", "Frames or byte streams rejected by the RMR receiver, by reason", ["reason"]
)
CONNECTIONS_DROPPED = Counter(
    "rmr_connections_dropped", "Connections closed by the RMR transport, by reason", ["reason"]
)
MESSAGES_DROPPED = Counter(
    "rmr_messages_dropped", "Received messages that were not delivered, by reason", ["reason"]
)
SEND_RETRY = Counter(
    "rmr_send_retry", "Sends answered with RMR_ERR_RETRY because the peer's socket buffer stayed full"
)
RX_PAUSED = Counter(
    "rmr_rx_paused", "Times the receiver stopped reading sockets because the receive queue was full"
)


def value(counter: Counter, **labels: str) -> float:
    """Current value of a counter (for tests and diagnostics)."""
    target = counter.labels(**labels) if labels else counter
    return float(target._value.get())  # prometheus_client exposes no public getter
