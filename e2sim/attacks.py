"""Attack scenarios: a base scenario plus scripted attacks, with labelled ground truth.

An attack file is YAML::

    name: kpm_inflate
    base: small              # a shipped scenario or a path
    seed: 11                 # optional: overrides the base scenario's
    duration_s: 40
    report_period_s: 0.5
    control_xapp: twinric-control
    attacks:
      - {kind: kpm_inflate, node: 2, at_s: 15, duration_s: 15, factor: 2.5}

Attack kinds (``AttackConfig``), grouped by who attacks:

* rogue UEs (``ues`` or ``n_ues`` picked from the seed): ``ue_flood`` (traffic rate times ``factor``),
  ``ue_signalling_storm`` (falsified measurement reports that trigger handover churn, ``rate_per_s``
  handovers a second, and re-establishments), ``ue_abnormal_mobility`` (the UE jumps across the map every
  report period: a cloned or spoofed identity);
* a compromised E2 node (``node``: index into the RAN's nodes) whose cell-level KPM is falsified while
  its per-UE reports stay true: ``kpm_inflate`` / ``kpm_deflate`` (load measurements times ``factor``),
  ``kpm_freeze`` (the report of the attack's start, repeated), ``kpm_replay`` (the reports of ``lag_s``
  earlier, replayed in a loop), ``kpm_drift`` (load times ``1 + rate_per_s * t``: a slow drift);
* a rogue xApp (``xapp``) sending harmful RC controls (``harm``: ``steer_to_overloaded`` hands UEs over
  into the most loaded cell, ``starve_slice`` caps ``slice`` at 1 % PRBs) at ``rate_per_s``; with
  ``impersonate`` it claims that xApp's identity (it has only its own key, so its signatures are wrong).

``AttackRun`` steps the model one report period at a time and returns what the RIC would see
(``ObservedRound``: cell reports as sent, possibly falsified; true per-UE reports; the controls the
rogue xApp wants to send). Controls only reach the RAN through ``apply_control`` (the caller decides,
e.g. by asking the PDP). ``ground_truth()`` lists the attacked subjects, named as trust subjects
(``ue:<id>``, ``e2node:<ran name>``, ``xapp:<name>``), with their attack windows; ``write_ground_truth``
writes them as JSON lines.
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from e2sim.ran.model import CellReport, ControlResult, RanModel, UeReport
from e2sim.scenario import Scenario, ScenarioError, load_scenario
from ricproto.ran_space import Snssai

AttackKind = Literal[
    "ue_flood",
    "ue_signalling_storm",
    "ue_abnormal_mobility",
    "kpm_inflate",
    "kpm_deflate",
    "kpm_freeze",
    "kpm_replay",
    "kpm_drift",
    "rogue_xapp",
]
UE_ATTACKS = ("ue_flood", "ue_signalling_storm", "ue_abnormal_mobility")
KPM_ATTACKS = ("kpm_inflate", "kpm_deflate", "kpm_freeze", "kpm_replay", "kpm_drift")
ATTACK_KINDS = (*UE_ATTACKS, *KPM_ATTACKS, "rogue_xapp")
SHIPPED_ATTACKS = (
    "benign",
    "ue_flood",
    "ue_signalling_storm",
    "ue_abnormal_mobility",
    "kpm_inflate",
    "kpm_deflate",
    "kpm_freeze",
    "kpm_replay",
    "kpm_drift",
    "rogue_xapp",
    "rogue_xapp_starve",
    "rogue_xapp_impersonating",
)
# Cell-level measurements that say how loaded a cell is (what a falsifier inflates or deflates).
LOAD_MEASUREMENTS = (
    "RRU.PrbTotDl",
    "RRU.PrbTotUl",
    "RRU.PrbUsedDl",
    "RRU.PrbUsedUl",
    "RRC.ConnMean",
    "RRC.ConnMax",
    "DRB.MeanActiveUeDl",
)
PERCENT_MEASUREMENTS = ("RRU.PrbTotDl", "RRU.PrbTotUl")


@dataclass(frozen=True)
class AttackConfig:
    kind: AttackKind
    at_s: float
    duration_s: float | None = None  # None = to the end of the run
    ues: tuple[int, ...] = ()  # UE attacks: these UEs, else n_ues drawn from the seed
    n_ues: int = 1
    node: int = 0  # KPM attacks: index into the RAN's E2 nodes
    factor: float = 1.0  # ue_flood: rate multiplier; kpm_inflate/deflate: load multiplier
    rate_per_s: float = 1.0  # storm: handovers/s; drift: relative growth/s; rogue xApp: controls/s
    lag_s: float = 5.0  # kpm_replay: how far back the replayed reports are
    xapp: str = "rogue"  # rogue_xapp: its own instance name (and key)
    impersonate: str | None = None  # rogue_xapp: the xApp name it claims to be
    harm: Literal["steer_to_overloaded", "starve_slice"] = "steer_to_overloaded"
    slice_name: str | None = None  # starve_slice: the slice starved (default: the first)

    def active(self, t_s: float) -> bool:
        return t_s >= self.at_s and (self.duration_s is None or t_s < self.at_s + self.duration_s)

    def end_s(self, run_s: float) -> float:
        return run_s if self.duration_s is None else min(run_s, self.at_s + self.duration_s)


@dataclass(frozen=True)
class AttackScenario:
    name: str
    scenario: Scenario
    duration_s: float
    report_period_s: float
    attacks: tuple[AttackConfig, ...]
    control_xapp: str = "twinric-control"


@dataclass(frozen=True)
class Label:
    """Ground truth: ``subject`` was attacking (or attacked, for a falsified node) in [start_s, end_s)."""

    subject: str
    kind: str
    start_s: float
    end_s: float
    claimed: str | None = None  # an impersonator: the identity it claims

    def covers(self, t_s: float) -> bool:
        return self.start_s <= t_s < self.end_s


@dataclass(frozen=True)
class ControlIntent:
    """An RC control a (rogue) xApp wants to send; ``subject`` is who it claims to be, ``signer`` whose
    key it signs with (they differ for an impersonator)."""

    subject: str
    signer: str
    action: Literal["rc.handover", "rc.slice_quota"]
    meid: str
    cell_index: int
    target_cell_index: int = -1
    ue_id: int = -1
    snssai: Snssai | None = None
    max_ratio: int = 100
    min_ratio: int | None = None  # rc.slice_quota: None = the current one, lowered to max_ratio if above
    dedicated_ratio: int | None = None  # likewise


@dataclass
class ObservedRound:
    t_s: float
    cells: list[CellReport]  # as sent by the nodes (possibly falsified)
    ues: list[UeReport]  # true per-UE reports
    intents: list[ControlIntent] = field(default_factory=list)
    true_load: np.ndarray = field(default_factory=lambda: np.zeros(0))  # PrbTotDl the cells really had


def load_attack_scenario(name_or_path: str | Path, seed: int | None = None) -> AttackScenario:
    if str(name_or_path) in SHIPPED_ATTACKS:
        text = resources.files("e2sim.scenarios.attacks").joinpath(f"{name_or_path}.yaml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError("<file>", f"{path} is not a shipped attack scenario nor a file")
        text = path.read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError("<file>", f"not valid YAML: {exc}") from None
    return parse_attack_scenario(doc, seed)


def _num(path: str, value: Any, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(path, f"must be a number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ScenarioError(path, f"{value} is outside [{lo}, {hi}]")
    return float(value)


def parse_attack_scenario(doc: Any, seed: int | None = None) -> AttackScenario:
    if not isinstance(doc, dict):
        raise ScenarioError("<root>", "an attack scenario is a YAML mapping")
    base = doc.get("base", "small")
    if not isinstance(base, str):
        raise ScenarioError("base", "must name a scenario")
    seed = seed if seed is not None else doc.get("seed")
    scenario = load_scenario(base, seed)
    duration = _num("duration_s", doc.get("duration_s", 40), 1)
    period = _num("report_period_s", doc.get("report_period_s", 0.5), scenario.step_s, 10)
    raw = doc.get("attacks", []) or []
    if not isinstance(raw, list):
        raise ScenarioError("attacks", "must be a list")
    n_nodes = len({c for c in range(scenario.n_cells)})  # upper bound; refined in AttackRun
    attacks = []
    for i, item in enumerate(raw):
        p = f"attacks[{i}]"
        if not isinstance(item, dict):
            raise ScenarioError(p, "must be a mapping")
        values = dict(item)
        if "ues" in values:
            values["ues"] = tuple(values["ues"])
        if "slice" in values:
            values["slice_name"] = values.pop("slice")
        try:
            attack = AttackConfig(**values)
        except TypeError as exc:
            raise ScenarioError(p, f"unknown or missing key ({exc})") from None
        if attack.kind not in ATTACK_KINDS:
            raise ScenarioError(
                f"{p}.kind", f"unknown attack {attack.kind!r}; one of {', '.join(ATTACK_KINDS)}"
            )
        _num(f"{p}.at_s", attack.at_s, 0)
        if attack.duration_s is not None:
            _num(f"{p}.duration_s", attack.duration_s, 0)
        _num(f"{p}.factor", attack.factor, 0)
        _num(f"{p}.rate_per_s", attack.rate_per_s, 0)
        _num(f"{p}.lag_s", attack.lag_s, period)
        if any(
            isinstance(u, bool) or not isinstance(u, int) or not 0 <= u < scenario.n_ues for u in attack.ues
        ):
            raise ScenarioError(f"{p}.ues", f"UE ids must be in 0..{scenario.n_ues - 1}")
        if attack.kind in KPM_ATTACKS and not 0 <= attack.node < n_nodes:
            raise ScenarioError(f"{p}.node", f"node index {attack.node} out of range")
        if attack.harm not in ("steer_to_overloaded", "starve_slice"):
            raise ScenarioError(f"{p}.harm", f"unknown harm {attack.harm!r}")
        names = [s.name for s in scenario.slices]
        if attack.slice_name is not None and attack.slice_name not in names:
            raise ScenarioError(f"{p}.slice", f"unknown slice {attack.slice_name!r}")
        attacks.append(attack)
    control = str(doc.get("control_xapp", "twinric-control"))
    return AttackScenario(
        str(doc.get("name", "unnamed")), scenario, duration, period, tuple(attacks), control
    )


class AttackRun:
    """Steps a RAN model under attack, one report period per ``step``."""

    def __init__(self, attack: AttackScenario, seed: int | None = None) -> None:
        self.spec = attack
        scenario = attack.scenario if seed is None else dataclasses.replace(attack.scenario, seed=int(seed))
        self.model = RanModel(scenario)
        self.rng = np.random.default_rng(self.model.seed + 7919)
        self.nodes = self.model.nodes
        self.meids = [n.ran_name for n in self.nodes]
        self.node_of_cell = np.zeros(self.model.n_cells, dtype=np.intp)
        for i, node in enumerate(self.nodes):
            self.node_of_cell[list(node.cell_indices)] = i
        for a in attack.attacks:
            if a.kind in KPM_ATTACKS and a.node >= len(self.nodes):
                raise ScenarioError("attacks.node", f"node index {a.node} but the RAN has {len(self.nodes)}")
        # UE attacks: their UEs, drawn once (from the run's own generator, not the model's)
        self.attack_ues: list[tuple[int, ...]] = []
        for a in attack.attacks:
            if a.ues or a.kind not in UE_ATTACKS:
                self.attack_ues.append(a.ues)
            else:
                self.attack_ues.append(
                    tuple(int(u) for u in self.rng.choice(self.model.n_ues, a.n_ues, replace=False))
                )
        self._started: set[int] = set()
        self._history: deque[tuple[float, list[CellReport]]] = deque()
        self._frozen: dict[int, list] = {}  # attack -> the frozen report(s) or the replayed recording
        self._rogue_credit = [0.0] * len(attack.attacks)

    @property
    def now_s(self) -> float:
        return self.model.now_s

    @property
    def done(self) -> bool:
        return self.model.now_s + 1e-9 >= self.spec.duration_s

    def ground_truth(self) -> list[Label]:
        out = []
        for a, ues in zip(self.spec.attacks, self.attack_ues, strict=True):
            end = a.end_s(self.spec.duration_s)
            if a.kind in UE_ATTACKS:
                out += [Label(f"ue:{u}", a.kind, a.at_s, end) for u in ues]
            elif a.kind in KPM_ATTACKS:
                out.append(Label(f"e2node:{self.meids[a.node]}", a.kind, a.at_s, end))
            else:
                claimed = f"xapp:{a.impersonate}" if a.impersonate else None
                out.append(Label(f"xapp:{a.xapp}", a.kind, a.at_s, end, claimed))
        return out

    def write_ground_truth(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as fh:
            for label in self.ground_truth():
                fh.write(json.dumps(dataclasses.asdict(label)) + "\n")
        return path

    # --- one report period ---------------------------------------------------------------------
    def step(self) -> ObservedRound:
        m = self.model
        period = m.start_period()
        steps = max(1, round(self.spec.report_period_s / m.dt))
        for _ in range(steps):
            self._ue_attacks(m.dt)
            m.step()
        t = m.now_s
        true_cells = m.cell_reports(period)
        ues = m.ue_reports(period)
        sent = [self._falsify(r, t) for r in true_cells]
        self._history.append((t, true_cells))
        horizon = (
            max([a.lag_s for a in self.spec.attacks if a.kind == "kpm_replay"] + [0.0])
            + 2 * self.spec.report_period_s
        )
        while self._history and self._history[0][0] < t - horizon:
            self._history.popleft()
        true_load = np.array([r.measurements.get("RRU.PrbTotDl", 0.0) for r in true_cells])
        return ObservedRound(t, sent, ues, self._rogue_intents(true_load), true_load)

    def _ue_attacks(self, dt: float) -> None:
        m = self.model
        t = m.now_s
        for i, (a, ues) in enumerate(zip(self.spec.attacks, self.attack_ues, strict=True)):
            if a.kind not in UE_ATTACKS:
                continue
            idx = np.array(ues, dtype=np.intp)
            if a.kind == "ue_flood":
                on = a.active(t)
                if on and i not in self._started:
                    m.traffic_scale[idx] *= a.factor
                    self._started.add(i)
                elif not on and i in self._started:
                    m.traffic_scale[idx] /= a.factor
                    self._started.discard(i)
            elif not a.active(t):
                continue
            elif a.kind == "ue_signalling_storm":
                # falsified A3 reports at random instants (rate_per_s each): the network hands the UE to
                # one of its strong neighbours, and A3 brings it back a time-to-trigger later
                for u in idx[self.rng.random(idx.size) < a.rate_per_s * dt]:
                    order = np.argsort(-m.rsrp_dbm[u])
                    near = [int(c) for c in order if c != m.serving[u] and m.cell_active[c]][:3]
                    if near:
                        target = near[int(self.rng.integers(len(near)))]
                        m.command_handover(int(u), m.cells[target].nr_cgi)
            elif (
                a.kind == "ue_abnormal_mobility"
                and m.step_count % max(1, round(self.spec.report_period_s / dt)) == 0
            ):
                x0, y0, x1, y1 = m.topology.area
                m.mobility.xy[idx] = np.stack(
                    [self.rng.uniform(x0, x1, idx.size), self.rng.uniform(y0, y1, idx.size)], axis=1
                )

    def _falsify(self, report: CellReport, t: float) -> CellReport:
        node = int(self.node_of_cell[report.cell_index])
        for i, a in enumerate(self.spec.attacks):
            if a.kind not in KPM_ATTACKS or a.node != node or not a.active(t):
                continue
            if a.kind in ("kpm_inflate", "kpm_deflate", "kpm_drift"):
                factor = a.factor if a.kind != "kpm_drift" else 1.0 + a.rate_per_s * (t - a.at_s)
                report = _scaled(report, factor)
            elif a.kind == "kpm_freeze":
                frozen = self._frozen.setdefault(
                    i, [r for r in (self._history[-1][1] if self._history else [])]
                )
                report = next((r for r in frozen if r.cell_index == report.cell_index), report)
            elif a.kind == "kpm_replay":
                # the reports of the lag_s before the attack, in a loop (recorded when it starts)
                recording = self._frozen.setdefault(
                    i, [h for ts, h in self._history if ts > a.at_s - a.lag_s - 1e-9]
                )
                if recording:
                    k = round((t - a.at_s) / self.spec.report_period_s) % len(recording)
                    report = next((r for r in recording[k] if r.cell_index == report.cell_index), report)
        return report

    def _rogue_intents(self, true_load: np.ndarray) -> list[ControlIntent]:
        m = self.model
        out: list[ControlIntent] = []
        t = m.now_s
        for i, a in enumerate(self.spec.attacks):
            if a.kind != "rogue_xapp" or not a.active(t):
                continue
            self._rogue_credit[i] += a.rate_per_s * self.spec.report_period_s
            n = int(self._rogue_credit[i])
            self._rogue_credit[i] -= n
            claimed = f"xapp:{a.impersonate or a.xapp}"
            signer = a.xapp
            if a.harm == "steer_to_overloaded":
                target = int(np.argmax(np.where(m.cell_active, true_load, -1.0)))
                movable = np.flatnonzero(m.serving != target)
                for u in self.rng.choice(movable, size=min(n, movable.size), replace=False):
                    src = int(m.serving[u])
                    out.append(
                        ControlIntent(
                            claimed,
                            signer,
                            "rc.handover",
                            self.meids[self.node_of_cell[src]],
                            src,
                            target,
                            int(u),
                        )
                    )
            else:
                names = [s.name for s in m.scenario.slices]
                s = names.index(a.slice_name) if a.slice_name else 0
                for c in self.rng.choice(m.n_cells, size=min(n, m.n_cells), replace=False):
                    out.append(
                        ControlIntent(
                            claimed,
                            signer,
                            "rc.slice_quota",
                            self.meids[self.node_of_cell[c]],
                            int(c),
                            snssai=m.slices[s],
                            max_ratio=1,
                        )
                    )
        return out

    def apply_control(self, intent: ControlIntent) -> ControlResult:
        """Carry out a control the RIC let through (as e2term would, with a grant)."""
        m = self.model
        if intent.action == "rc.handover":
            return m.command_handover(intent.ue_id, m.cells[intent.target_cell_index].nr_cgi)
        assert intent.snssai is not None
        s = m.slices.index(intent.snssai)
        cur = m.slice_quotas(intent.cell_index)[s]
        return m.set_slice_quota(
            m.cells[intent.cell_index].nr_cgi,
            intent.snssai,
            min(cur.min_ratio, intent.max_ratio) if intent.min_ratio is None else intent.min_ratio,
            intent.max_ratio,
            min(cur.dedicated_ratio, intent.max_ratio)
            if intent.dedicated_ratio is None
            else intent.dedicated_ratio,
        )


def _scaled(report: CellReport, factor: float) -> CellReport:
    meas = dict(report.measurements)
    for name in LOAD_MEASUREMENTS:
        if name in meas:
            v = meas[name] * factor
            meas[name] = min(v, 100.0) if name in PERCENT_MEASUREMENTS else v
    slices = {
        s: {k: (v * factor if k == "RRU.PrbUsedDl" else v) for k, v in vals.items()}
        for s, vals in report.slices.items()
    }
    return dataclasses.replace(report, measurements=meas, slices=slices)
