"""The health state's mode gauge: exactly one mode reads 1, every other mode reads 0."""

from __future__ import annotations

import pytest

from xapps.common.health import HealthState
from xapps.common.metrics import XappMetrics


def test_mode_gauge_marks_only_the_current_mode():
    metrics = XappMetrics("t")
    health = HealthState(metrics, ("heuristic", "promoted_policy", "shadow"))
    assert [metrics.sample("twinric_xapp_mode", {"mode": m}) for m in health.modes] == [1.0, 0.0, 0.0]
    health.set_mode("shadow")
    assert [metrics.sample("twinric_xapp_mode", {"mode": m}) for m in health.modes] == [0.0, 0.0, 1.0]


def test_unknown_mode_is_refused_and_the_gauge_kept():
    metrics = XappMetrics("t")
    health = HealthState(metrics, ("heuristic", "promoted_policy"))
    with pytest.raises(ValueError, match="unknown mode 'bogus'"):
        health.set_mode("bogus")
    assert health.mode == "heuristic"
    assert metrics.sample("twinric_xapp_mode", {"mode": "heuristic"}) == 1.0
    assert metrics.sample("twinric_xapp_mode", {"mode": "promoted_policy"}) == 0.0
