"""The headline benchmark's metrics on hand-made episodes: p5, handovers and ping-pongs, unsafe controls."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loop.metrics import (  # noqa: E402
    EpisodeLog,
    PeriodOutcome,
    caused_overload,
    count_handovers,
    summarise,
)


def period(t: float, **kw: object) -> PeriodOutcome:
    base: dict[str, object] = {
        "time_s": t,
        "action": 0,
        "intervened": False,
        "unsafe": False,
        "decision_s": 0.001,
        "reward": 1.0,
        "embb_thp_kbps": np.zeros(0),
        "urllc_late": np.zeros(0, dtype=bool),
        "cell_load": np.array([0.5, 0.5]),
        "serving": np.array([0, 0]),
        "cell_active": np.array([True, True]),
    }
    base.update(kw)
    return PeriodOutcome(**base)  # type: ignore[arg-type]


def test_p5_and_mean_pool_the_samples_after_the_warmup() -> None:
    log = EpisodeLog(warmup_s=1.0)
    # in the warm-up: huge values that would move both figures if counted
    log.add(period(0.5, embb_thp_kbps=np.full(50, 1e6)))
    # after it: 1..100 kbit/s over two periods
    log.add(period(1.5, embb_thp_kbps=np.arange(1, 51, dtype=float)))
    log.add(period(2.5, embb_thp_kbps=np.arange(51, 101, dtype=float)))
    m = summarise([log])
    # 5th percentile of 1..100 with linear interpolation: rank 0.05 * 99 = 4.95 -> 5 + 0.95
    assert m.p5_tput_kbps == pytest.approx(5.95)
    assert m.mean_tput_kbps == pytest.approx(50.5)
    assert m.decisions == 3  # decisions count the warm-up too: the controller acted then


def test_episodes_of_several_seeds_are_pooled() -> None:
    a, b = EpisodeLog(warmup_s=0.0), EpisodeLog(warmup_s=0.0)
    a.add(period(0.1, embb_thp_kbps=np.array([10.0]), urllc_late=np.array([True, False]), reward=2.0))
    b.add(period(0.1, embb_thp_kbps=np.array([30.0]), urllc_late=np.array([True, True]), reward=4.0))
    m = summarise([a, b])
    assert m.mean_tput_kbps == pytest.approx(20.0)
    assert (m.urllc_violations, m.urllc_samples) == (3, 4)
    assert m.mean_return == pytest.approx(3.0)
    assert m.episodes == 2


def test_handovers_ping_pongs_and_reestablishments_are_told_apart() -> None:
    times = np.array([0.1, 0.3, 0.6, 1.0, 2.5])
    # UE 0: 0 -> 1 at 0.3, back to 0 at 0.6 (ping-pong, 0.3 s later)
    # UE 1: 0 -> 1 at 0.3, back to 0 at 2.5 (2.2 s later: outside the 1 s window, a plain handover)
    # UE 2: cell 2 goes down at 1.0, the UE re-establishes on cell 1 (not a handover)
    # UE 3: 1 -> 0 at 0.6, back to 1 at 1.0 (ping-pong)
    serving = np.array(
        [
            [0, 0, 2, 1],
            [1, 1, 2, 1],
            [0, 1, 2, 0],
            [0, 1, 1, 1],
            [0, 0, 1, 1],
        ]
    )
    active = np.ones((5, 3), dtype=bool)
    active[3:, 2] = False
    handovers, ping_pongs = count_handovers(times, serving, active, ping_pong_window_s=1.0)
    assert handovers == 6  # UE 0: 2, UE 1: 2, UE 3: 2
    assert ping_pongs == 2  # UE 0 at 0.6, UE 3 at 1.0


def test_a_handover_to_a_third_cell_is_no_ping_pong() -> None:
    serving = np.array([[0], [1], [2]])
    assert count_handovers(np.array([0.0, 0.1, 0.2]), serving, np.ones((3, 3), dtype=bool)) == (2, 0)


def test_summary_counts_ping_pong_rate_shield_and_unsafe() -> None:
    log = EpisodeLog(warmup_s=0.0)
    log.add(period(0.1, serving=np.array([0, 1])))
    log.add(period(0.2, serving=np.array([1, 1]), action=5, unsafe=True))
    log.add(period(0.3, serving=np.array([0, 1]), action=0, intervened=True))
    log.add(period(0.4, serving=np.array([0, 0]), action=7))
    m = summarise([log])
    assert (m.handovers, m.ping_pongs) == (3, 1)
    assert m.ping_pong_rate == pytest.approx(1 / 3)
    assert m.shield_intervention_rate == pytest.approx(0.25)
    assert m.unsafe_actions == 1
    assert m.controls == 2
    assert m.max_cell_load == pytest.approx(0.5)


def test_overload_is_unsafe_only_if_the_counterfactual_stays_under_the_limit() -> None:
    without = np.array([[0.5, 0.95], [0.6, 0.95]])  # cell 1 is over the limit anyway
    assert caused_overload(np.array([[0.5, 0.97], [0.95, 0.96]]), without, 0.9)  # cell 0 pushed over
    assert not caused_overload(
        np.array([[0.5, 0.99], [0.6, 1.0]]), without, 0.9
    )  # only cell 1: not its doing
    assert not caused_overload(np.array([[0.5, 0.5], [0.6, 0.5]]), without, 0.9)  # it relieved cell 1


def test_nothing_to_summarise_is_an_error() -> None:
    with pytest.raises(ValueError, match="no periods"):
        summarise([EpisodeLog()])
