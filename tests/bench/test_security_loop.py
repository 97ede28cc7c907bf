"""End to end on e2sim: every attack is detected by the twin's analytics and the real PDP (real Redis,
Cedar, Ed25519) denies the rogue subject while benign ones keep their access; the impersonator is
caught by its signature; trust decays back after the attack; a distrusted node's reports never reach
the load model's training; without attacks nobody is distrusted."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.security_loop import DENY_BELOW, PdpHarness, SecurityLoop  # noqa: E402
from e2sim.attacks import ControlIntent, load_attack_scenario  # noqa: E402

START, LENGTH, RUN = 12.0, 8.0, 40.0
SEED = 23  # not the scenario files' seed


def attack_loop(name: str, redis_client, tmp_path: Path, *, defence: bool = True) -> SecurityLoop:
    spec = load_attack_scenario(name)
    spec = dataclasses.replace(
        spec,
        duration_s=RUN,
        attacks=tuple(dataclasses.replace(a, at_s=START, duration_s=LENGTH) for a in spec.attacks),
    )
    redis_client.flushdb()
    pdp = PdpHarness(redis_client, tmp_path, ("twinric-control", "rogue"))
    return SecurityLoop(spec, pdp, seed=SEED, defence=defence)


def probe(loop: SecurityLoop, subject: str) -> tuple[bool, str]:
    """The control xApp asks for something that involves ``subject`` (a UE handed over, an action on
    a node); an xApp subject asks for a harmless handover itself."""
    m = loop.run.model
    kind, _, ident = subject.partition(":")
    ue = int(ident) if kind == "ue" else 0
    src = int(m.serving[ue])
    if kind == "e2node":
        src = next(c for c in range(m.n_cells) if loop.meid_of_cell[c] == ident)
        ue = int(next(u for u in range(m.n_ues) if m.serving[u] == src))
    dst = (src + 1) % m.n_cells
    signer = ident if kind == "xapp" else "twinric-control"
    intent = ControlIntent(f"xapp:{signer}", signer, "rc.handover", loop.meid_of_cell[src], src, dst, ue)
    ((ok, code),) = loop.pdp.decide([intent], [loop._resource(intent)])
    return ok, code


# ue_flood is not here: a flooding UE in a cell that cannot serve it much more than its peers is missed
# (one of the two at this seed); test_flood_partly_detected below says what holds
DETECTED = (
    "ue_signalling_storm",
    "ue_abnormal_mobility",
    "kpm_inflate",
    "kpm_deflate",
    "kpm_freeze",
    "kpm_replay",
    "kpm_drift",
    "rogue_xapp",
    "rogue_xapp_starve",
)


@pytest.mark.parametrize("name", DETECTED)
def test_attack_detected_rogue_denied_benign_served_trust_recovers(name, redis_client, tmp_path) -> None:
    loop = attack_loop(name, redis_client, tmp_path)
    labels = loop.labels
    attacked = {lbl.subject for lbl in labels}
    level = {s: DENY_BELOW[s.partition(":")[0]] for s in attacked}
    denied_at: dict[str, float] = {}
    try:
        while not loop.run.done:
            entry = loop.step()
            for s in attacked - set(denied_at):
                if entry.scores.get(s, 1.0) < level[s]:
                    denied_at[s] = entry.t_s
                    ok, code = probe(loop, s)  # the PDP now refuses what involves the rogue subject
                    assert not ok and code in ("forbidden", "no_permit"), (s, code)
                    benign = {
                        "xapp": "xapp:twinric-control",
                        "ue": next(
                            f"ue:{u}" for u in range(loop.run.model.n_ues) if f"ue:{u}" not in attacked
                        ),
                        "e2node": next(
                            f"e2node:{m}" for m in loop.run.meids if f"e2node:{m}" not in attacked
                        ),
                    }[s.partition(":")[0]]
                    assert probe(loop, benign) == (True, "permitted"), benign
        assert set(denied_at) == attacked, f"not detected: {attacked - set(denied_at)}"
        assert max(denied_at.values()) - START <= 10.0
        assert sum(e.benign_denied for e in loop.log) == 0  # benign subjects kept their access
        if name.startswith("rogue_xapp"):
            late = [e for e in loop.log if max(denied_at.values()) + 0.5 < e.t_s <= START + LENGTH]
            assert late and sum(e.rogue_permitted for e in late) == 0
        final = loop.log[-1].scores
        assert all(final.get(s, 1.0) >= level[s] for s in attacked), "trust did not decay back"
        worst = {
            s: min(e.scores.get(s, 1.0) for e in loop.log)
            for s in loop.analytics.scorer.subjects
            if s not in attacked
        }
        wrongly = {s: v for s, v in worst.items() if v < DENY_BELOW[s.partition(":")[0]]}
        assert not wrongly, wrongly
    finally:
        loop.pdp.close()


def test_impersonator_is_caught_by_its_signature(redis_client, tmp_path) -> None:
    loop = attack_loop("rogue_xapp_impersonating", redis_client, tmp_path)
    try:
        loop.run_all()
    finally:
        loop.pdp.close()
    rogue = sum(e.rogue_requests for e in loop.log)
    assert rogue >= 25 and sum(e.rogue_permitted for e in loop.log) == 0
    assert sum(e.denied_codes.get("bad_signature", 0) for e in loop.log) == rogue
    # the identity it claimed is not blamed, and the real control xApp kept its access
    assert min(e.scores["xapp:twinric-control"] for e in loop.log) > 0.9
    assert loop.analytics.extractor.impersonation_attempts["xapp:twinric-control"] == rogue
    assert sum(e.benign_denied for e in loop.log) == 0 and sum(e.benign_requests for e in loop.log) > 50


def test_no_attack_distrusts_nobody(redis_client, tmp_path) -> None:
    loop = attack_loop("benign", redis_client, tmp_path)
    try:
        loop.run_all()
    finally:
        loop.pdp.close()
    assert not loop.labels
    worst = {s: min(e.scores.get(s, 1.0) for e in loop.log) for s in loop.analytics.scorer.subjects}
    assert len(worst) >= 70 + 7 + 2
    assert all(v >= DENY_BELOW[s.partition(":")[0]] for s, v in worst.items())
    assert sum(e.benign_denied for e in loop.log) == 0
    assert not loop.analytics.guard.excluded


def test_distrusted_reports_never_reach_the_load_model(redis_client, tmp_path) -> None:
    loop = attack_loop("kpm_inflate", redis_client, tmp_path)
    (label,) = loop.labels
    cells = [c for c in range(loop.run.model.n_cells) if f"e2node:{loop.meid_of_cell[c]}" == label.subject]
    try:
        reported = []
        while not loop.run.done:
            loop.step()
            reported.append(loop.log[-1].t_s)
    finally:
        loop.pdp.close()
    guard = loop.analytics.guard
    assert guard.excluded[label.subject] >= 10
    excluded_t = {e.t_s for e in guard.log if e.subject == label.subject}
    assert excluded_t and all(START <= t < START + LENGTH + 18 for t in excluded_t), max(excluded_t)
    for k, t in enumerate(reported):
        for c in cells:
            # the model's training mask and input: an excluded report is neither trained on nor used
            assert loop.present[k][c] == (t not in excluded_t)
    x, _ = loop.forecaster.windows(np.stack(loop.loads), np.stack(loop.present))
    assert len(x) > 0  # the model still trains, on the windows without them
    # trust recovered: the node's reports are admitted again, and that was recorded
    assert any(s == label.subject for _, s in guard.readmissions)
    assert loop.present[-1][cells[0]]


def test_flood_partly_detected(redis_client, tmp_path) -> None:
    loop = attack_loop("ue_flood", redis_client, tmp_path)
    try:
        loop.run_all()
    finally:
        loop.pdp.close()
    attacked = {lbl.subject for lbl in loop.labels}
    worst = {s: min(e.scores.get(s, 1.0) for e in loop.log) for s in loop.analytics.scorer.subjects}
    assert min(worst[s] for s in attacked) < DENY_BELOW["ue"]  # a flooder is denied
    assert all(v >= DENY_BELOW["ue"] for s, v in worst.items() if s.startswith("ue:") and s not in attacked)
    assert sum(e.benign_denied for e in loop.log) == 0
