"""Attack scenarios: the YAML vocabulary (and its errors), the ground truth file, and each attack doing
to the RAN or to the reports what it says."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from e2sim.attacks import (
    SHIPPED_ATTACKS,
    AttackRun,
    load_attack_scenario,
    parse_attack_scenario,
)
from e2sim.scenario import ScenarioError


def short(name: str, duration_s: float = 22.0, attack_s: float = 8.0):
    spec = load_attack_scenario(name)
    attacks = tuple(dataclasses.replace(a, at_s=10.0, duration_s=attack_s) for a in spec.attacks)
    return dataclasses.replace(spec, duration_s=duration_s, attacks=attacks)


@pytest.mark.parametrize("name", SHIPPED_ATTACKS)
def test_shipped_scenarios_load_and_label(name: str, tmp_path) -> None:
    spec = load_attack_scenario(name)
    run = AttackRun(spec, seed=5)
    labels = run.ground_truth()
    assert len(labels) == sum(a.n_ues if a.kind.startswith("ue_") else 1 for a in spec.attacks)
    path = run.write_ground_truth(tmp_path / "truth.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["subject"] for r in rows] == [lbl.subject for lbl in labels]
    for r in rows:
        assert r["subject"].split(":")[0] in ("ue", "e2node", "xapp")
        assert 0 <= r["start_s"] < r["end_s"] <= spec.duration_s


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"attacks": [{"kind": "meteor", "at_s": 1}]}, "attacks[0].kind"),
        ({"attacks": [{"kind": "ue_flood", "at_s": 1, "ues": [10_000]}]}, "attacks[0].ues"),
        ({"attacks": [{"kind": "ue_flood", "at_s": -1}]}, "attacks[0].at_s"),
        ({"attacks": [{"kind": "ue_flood", "at_s": 1, "colour": "red"}]}, "attacks[0]"),
        ({"attacks": [{"kind": "rogue_xapp", "at_s": 1, "harm": "nice"}]}, "attacks[0].harm"),
        ({"attacks": [{"kind": "rogue_xapp", "at_s": 1, "slice": "nope"}]}, "attacks[0].slice"),
        ({"attacks": "all"}, "attacks"),
        ({"duration_s": "long"}, "duration_s"),
    ],
)
def test_bad_attack_files_name_the_field(doc: dict, field: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_attack_scenario({"base": "small", **doc})
    assert err.value.field == field


def test_kpm_node_index_is_checked_against_the_ran() -> None:
    spec = parse_attack_scenario({"base": "small", "attacks": [{"kind": "kpm_freeze", "node": 6, "at_s": 1}]})
    AttackRun(spec)  # 7 nodes: fine
    spec = dataclasses.replace(spec, attacks=(dataclasses.replace(spec.attacks[0], node=7),))
    with pytest.raises(ScenarioError):
        AttackRun(spec)


def _run(spec, seed: int = 3):
    run = AttackRun(spec, seed=seed)
    rounds = []
    while not run.done:
        rounds.append(run.step())
    return run, rounds


def node_cells(run: AttackRun, node: int) -> list[int]:
    return list(run.nodes[node].cell_indices)


def test_inflated_and_deflated_load_only_inside_the_window() -> None:
    for name, factor in (("kpm_inflate", 2.5), ("kpm_deflate", 0.3)):
        run, rounds = _run(short(name))
        (c,) = node_cells(run, 2)
        for r in rounds:
            sent = r.cells[c].measurements["RRU.PrbTotDl"]
            want = min(r.true_load[c] * factor, 100.0) if 10.0 <= r.t_s < 18.0 else r.true_load[c]
            assert sent == pytest.approx(want), (name, r.t_s)
            other = r.cells[0].measurements["RRU.PrbTotDl"]
            assert other == pytest.approx(r.true_load[0])


def test_frozen_reports_repeat_and_replayed_ones_come_from_before() -> None:
    run, rounds = _run(short("kpm_freeze"))
    (c,) = node_cells(run, 2)
    during = [r.cells[c].measurements for r in rounds if 10.0 <= r.t_s < 18.0]
    assert len(during) >= 10 and all(m == during[0] for m in during)
    after = [r.cells[c].measurements for r in rounds if r.t_s >= 18.0]
    assert after[0] != during[0]

    run, rounds = _run(short("kpm_replay"))
    before = [r.cells[c].measurements for r in rounds if 5.0 <= r.t_s <= 10.0]
    during = [r.cells[c].measurements for r in rounds if 10.0 < r.t_s < 18.0]
    assert all(m in before for m in during)
    # the live reports of the same time differ (the RAN did not stand still)
    live = [r.true_load[c] for r in rounds if 10.0 < r.t_s < 18.0]
    assert len(set(live)) > 5


def test_drift_grows_with_time() -> None:
    run, rounds = _run(short("kpm_drift"))
    (c,) = node_cells(run, 2)
    _, clean = _run(dataclasses.replace(short("kpm_drift"), attacks=()))  # the same RAN, true reports
    growth = [
        a.cells[c].measurements["RRC.ConnMean"] / max(b.cells[c].measurements["RRC.ConnMean"], 1e-9)
        for a, b in zip(rounds, clean, strict=True)
        if 10 <= a.t_s < 18 and b.cells[c].measurements["RRC.ConnMean"] > 0
    ]
    assert growth[0] == pytest.approx(1.0, abs=0.06) and growth[-1] == pytest.approx(1.75, abs=0.06)


def test_flooding_ues_offer_more_and_stop_after() -> None:
    spec = short("ue_flood", duration_s=19.5, attack_s=6.0)  # before the scenario's traffic surge (20 s)
    run = AttackRun(spec, seed=3)
    ues = list(run.attack_ues[0])
    volumes: dict[str, list[float]] = {"before": [], "during": [], "after": []}
    while not run.done:
        r = run.step()
        phase = "before" if r.t_s < 10 else "during" if r.t_s < 16 else "after"
        volumes[phase].append(sum(r.ues[u].measurements["DRB.RlcSduTransmittedVolumeDL"] for u in ues))
    assert np.mean(volumes["during"]) > 5 * np.mean(volumes["before"])
    assert np.mean(volumes["after"][4:]) < 2 * np.mean(volumes["before"])
    assert np.allclose(run.model.traffic_scale, 1.0)


def test_storming_and_jumping_ues_change_cells_far_more_than_others() -> None:
    for name in ("ue_signalling_storm", "ue_abnormal_mobility"):
        run = AttackRun(short(name), seed=3)
        rogue = set(run.attack_ues[0])
        changes = np.zeros(run.model.n_ues)
        last = run.model.serving.copy()
        while not run.done:
            r = run.step()
            serving = np.array([u.serving_cell_index for u in r.ues])
            if 10 <= r.t_s < 18:
                changes += serving != last
            last = serving
        others = np.delete(changes, list(rogue))
        assert min(changes[u] for u in rogue) >= 6, name
        assert others.mean() < 1.0, name


def test_rogue_xapp_wants_harm_and_the_impersonator_claims_another_name() -> None:
    run = AttackRun(short("rogue_xapp"), seed=3)
    intents = []
    while not run.done:
        r = run.step()
        for i in r.intents:
            assert 10 <= r.t_s < 18.5
            assert i.target_cell_index == int(np.argmax(r.true_load))  # into the most loaded cell
            intents.append(i)
    assert len(intents) >= 25 and {i.subject for i in intents} == {"xapp:rogue"}
    assert all(i.signer == "rogue" for i in intents)

    run = AttackRun(short("rogue_xapp_impersonating"), seed=3)
    (label,) = run.ground_truth()
    assert label.subject == "xapp:rogue" and label.claimed == "xapp:twinric-control"
    r = next(r for r in iter(run.step, None) if r.intents)
    assert {(i.subject, i.signer, i.action, i.max_ratio) for i in r.intents} == {
        ("xapp:twinric-control", "rogue", "rc.slice_quota", 1)
    }
    ack = run.apply_control(r.intents[0])
    assert run.model.slice_quotas(r.intents[0].cell_index)[0].max_ratio == 1, ack
