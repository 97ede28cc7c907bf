"""Prometheus metric names shared by every twinric process.

Each process exposes these on its HTTP ``/metrics`` endpoint; ``twinric up``/``status`` scrape them to
show the loop's state. Keeping the names in one place is what lets the orchestrator stay ignorant of
each component's internals.
"""

from __future__ import annotations

E2_NODES_CONNECTED = "twinric_e2_nodes_connected"  # gauge, e2term
SUBSCRIPTIONS_ACTIVE = "twinric_subscriptions_active"  # gauge, submgr
E2_INDICATIONS = "twinric_e2_indications_total"  # counter, e2term: RIC indications relayed to RMR
E2_CONTROLS = "twinric_e2_controls_total"  # counter, e2term: control requests forwarded to nodes
A1_POLICIES_ENFORCED = "twinric_a1_policies_enforced"  # gauge, a1 mediator
ERRORS = "twinric_errors_total"  # counter with labels component, reason: bad input and failures
