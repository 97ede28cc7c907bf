"""The security loop on e2sim directly (no RMR): an attack scenario, the twin's own security analytics,
the real PDP (Cedar, Ed25519, trust from a real Redis) and a load-balancing control xApp whose load
model (the twin's ``LoadForecaster``) is trained on the reports the training guard admits.

Per report round: the analytics score what the RAN reported and the controls decided last round; the
scores are published to the trust namespace and the PDP's view is refreshed; the control xApp and the
rogue xApp (if any) ask the PDP; permitted controls reach the RAN. ``defence=False`` is the same loop
with every subject published at trust 1 and no training guard: the baseline the defence is measured
against. Shared by ``bench/security.py`` and the tests.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import redis

from e2sim.attacks import AttackRun, AttackScenario, ControlIntent, Label, ObservedRound
from ricproto import access, identity, trust
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.security.analytics import AnalyticsConfig, SecurityAnalytics
from twin_sidecar.security.evidence import CellEvidence, ControlEvidence, SecurityRound, UeEvidence
from twin_sidecar.security.signals import BEST_RSRP
from xapps.common.metrics import XappMetrics
from xapps.pdp.decision_log import DecisionLog
from xapps.pdp.decision_point import PolicyDecisionPoint
from xapps.pdp.trust_view import TrustView
from xapps.pdp.zero_trust_policy import default_policy_body, parse_policy

# trust below which the default policy denies a subject (xApp and node: the cell class threshold;
# UE: the forbid of handovers of distrusted UEs)
DENY_BELOW = {"xapp": 0.5, "e2node": 0.5, "ue": 0.3}
STEER_ABOVE = 0.5  # the control xApp relieves a cell it predicts above this PRB load
STEER_MARGIN = 0.2  # into a neighbour predicted at least this much lower
MAX_STEERS = 2  # UEs per round
RECONCILE_ROUNDS = 10  # the control xApp re-asserts its slice quotas every this many rounds


class PdpHarness:
    """A real decision point over a real Redis; its trust view is refreshed synchronously per round."""

    def __init__(self, client: redis.Redis, workdir: Path, xapps: tuple[str, ...]) -> None:
        self.client = client
        keys_dir = workdir / "keys"
        self.keys: dict[str, identity.Ed25519PrivateKey] = {}
        for name in xapps:
            private, _ = identity.write_identity(keys_dir, name)
            self.keys[name] = identity.load_private_key(private)
        pdp_private, _ = identity.write_identity(workdir / "pdp", "twinric-pdp")
        metrics = XappMetrics("security-loop")
        self.view = TrustView(client, metrics, scan_s=3600.0)
        self.log = DecisionLog(None, metrics, file_path=workdir / "decisions.jsonl").start()
        self.point = PolicyDecisionPoint(
            self.view, identity.KeyRing(keys_dir), self.log, identity.load_private_key(pdp_private), metrics
        )
        self.point.set_policy(parse_policy(default_policy_body(), "default"))

    def refresh(self) -> None:
        self.view.refresh_all()

    def decide(self, intents: list[ControlIntent], resources: list[str]) -> list[tuple[bool, str]]:
        requests = []
        for n, (intent, resource) in enumerate(zip(intents, resources, strict=True)):
            req = access.AccessRequest(
                f"r{n}", intent.subject, intent.action, resource, {"meid": intent.meid}
            )
            requests.append(access.sign_request(req, self.keys[intent.signer]))
        if not requests:
            return []
        out = []
        for resp in self.point.decide_requests(requests, "bench"):
            out.append((resp.permitted, resp.reason.partition(":")[0]))
        return out

    def close(self) -> None:
        self.log.stop()


@dataclass
class RoundLog:
    t_s: float
    scores: dict[str, float]
    utility: float  # mean log(1 + DL volume, kbit) of the benign UEs this round
    benign_requests: int = 0
    benign_denied: int = 0
    rogue_requests: int = 0
    rogue_permitted: int = 0
    denied_codes: dict[str, int] = field(default_factory=dict)


class SecurityLoop:
    def __init__(
        self,
        spec: AttackScenario,
        pdp: PdpHarness,
        *,
        seed: int | None = None,
        defence: bool = True,
        attacks: bool = True,
        config: AnalyticsConfig | None = None,
    ) -> None:
        self.spec = spec if attacks else dataclasses.replace(spec, attacks=())
        self.run = AttackRun(self.spec, seed)
        self.labels: list[Label] = AttackRun(spec, seed).ground_truth()  # the attacked run's truth
        self.pdp = pdp
        self.defence = defence
        self.analytics = SecurityAnalytics(config, publish_to=pdp.client)
        self.analytics.register([f"xapp:{x}" for x in pdp.keys], 0.0)
        m = self.run.model
        self.cells = m.cells
        self.meid_of_cell = [self.run.meids[int(self.run.node_of_cell[c])] for c in range(m.n_cells)]
        self.cell_of_nr = {c.nr_cgi.nr_cell_id: c.index for c in self.cells}
        self.forecaster = LoadForecaster(lags=4, horizon=1, min_windows=40)
        self.loads: list[np.ndarray] = []
        self.present: list[np.ndarray] = []
        self.pending: list[ControlEvidence] = []
        self.rogue = {lbl.subject for lbl in self.labels}
        self.control_subject = f"xapp:{spec.control_xapp}"
        self.log: list[RoundLog] = []
        self.forecast_error: list[float] = []

    # --- one round -------------------------------------------------------------------------------
    def step(self) -> RoundLog:
        obs = self.run.step()
        rnd = self._evidence(obs)
        self.analytics.observe(rnd)
        self._publish(rnd)
        self.pdp.refresh()
        intents, resources = self._control(obs)
        rogue_intents = obs.intents
        answers = self.pdp.decide(
            intents + rogue_intents, resources + [self._resource(i) for i in rogue_intents]
        )
        entry = RoundLog(obs.t_s, self.analytics.scorer.snapshot(), self._utility(obs))
        self.pending = []
        for intent, (ok, code) in zip(intents + rogue_intents, answers, strict=True):
            rogue = intent.signer != self.spec.control_xapp
            if ok:
                self.run.apply_control(intent)
            else:
                entry.denied_codes[code] = entry.denied_codes.get(code, 0) + 1
            if rogue:
                entry.rogue_requests += 1
                entry.rogue_permitted += ok
            elif self._benign_request(intent):
                entry.benign_requests += 1
                entry.benign_denied += not ok
            self.pending.append(self._control_evidence(intent, ok, code))
        self.log.append(entry)
        return entry

    def run_all(self) -> list[RoundLog]:
        while not self.run.done:
            self.step()
        return self.log

    # --- evidence for the twin ---------------------------------------------------------------------
    def _evidence(self, obs: ObservedRound) -> SecurityRound:
        slices = self.run.model.slices
        cells = tuple(
            CellEvidence(
                self.meid_of_cell[r.cell_index],
                r.cell_index,
                r.measurements,
                {slices.index(s): v for s, v in r.slices.items()},
            )
            for r in obs.cells
        )
        ues = tuple(
            UeEvidence(
                u.ue_id,
                u.serving_cell_index,
                {
                    **u.measurements,
                    BEST_RSRP: max([u.measurements.get("RSRP", -200.0)] + [n.rsrp_dbm for n in u.neighbours]),
                },
                slices.index(u.snssai),
            )
            for u in obs.ues
        )
        return SecurityRound(obs.t_s, cells, ues, tuple(self.pending))

    def _publish(self, rnd: SecurityRound) -> None:
        if self.defence:
            self.analytics.publish()
            return
        # no defence: every subject vouched for at 1 (the PDP still checks identities)
        subjects = {f"e2node:{c.meid}" for c in rnd.cells} | {f"ue:{u.ue_id}" for u in rnd.ues}
        subjects |= {f"xapp:{x}" for x in self.pdp.keys}
        records = [trust.make_record(s, 1.0, "no-defence", ttl_s=60.0) for s in sorted(subjects)]
        self.analytics.scorer.publish(self.pdp.client, records)

    def _control_evidence(self, intent: ControlIntent, ok: bool, code: str) -> ControlEvidence:
        s = -1 if intent.snssai is None else self.run.model.slices.index(intent.snssai)
        return ControlEvidence(
            intent.subject,
            intent.action,
            intent.meid,
            intent.cell_index,
            ok,
            code,
            intent.target_cell_index,
            intent.ue_id,
            s,
            intent.max_ratio,
        )

    def _benign_request(self, intent: ControlIntent) -> bool:
        """Subject, node and UE all benign by the ground truth (whatever the time)."""
        return f"e2node:{intent.meid}" not in self.rogue and (
            intent.ue_id < 0 or f"ue:{intent.ue_id}" not in self.rogue
        )

    # --- the control xApp ------------------------------------------------------------------------------
    def _resource(self, intent: ControlIntent) -> str:
        if intent.action == "rc.handover":
            target = self.cells[intent.target_cell_index].nr_cgi.nr_cell_id
            return f"e2node:{intent.meid}/cell:{target}/ue:{intent.ue_id}"
        cell = self.cells[intent.cell_index].nr_cgi.nr_cell_id
        s = self.run.model.slices.index(intent.snssai) if intent.snssai else 0
        return f"e2node:{intent.meid}/cell:{cell}/slice:{s}"

    def _control(self, obs: ObservedRound) -> tuple[list[ControlIntent], list[str]]:
        reported = np.array([r.measurements.get("RRU.PrbTotDl", 0.0) / 100.0 for r in obs.cells])
        implied = np.zeros(len(obs.cells))
        avail = np.array([max(r.measurements.get("RRU.PrbAvailDl", 0.0), 1e-9) for r in obs.cells])
        for u in obs.ues:
            implied[u.serving_cell_index] += u.measurements.get("RRU.PrbUsedDl", 0.0)
        implied = np.minimum(implied / avail, 1.0)
        admitted = np.ones(len(obs.cells), dtype=bool)
        if self.defence:
            admitted = np.array(
                [
                    self.analytics.guard.admit([f"e2node:{self.meid_of_cell[c]}"], obs.t_s)
                    for c in range(len(obs.cells))
                ]
            )
        load = np.where(admitted, reported, implied)  # a distrusted node's own word is not used
        if self.loads:  # how far the model's one-step forecast was from the truth
            pred, _ = self.forecaster.predict(np.stack(self.loads[-self.forecaster.lags :]))
            self.forecast_error.append(float(np.mean(np.abs(pred[:, 0] - obs.true_load / 100.0))))
        self.loads.append(load)
        self.present.append(admitted)
        if len(self.loads) % 10 == 0:
            self.forecaster.fit(np.stack(self.loads), np.stack(self.present))
        pred, _ = self.forecaster.predict(np.stack(self.loads[-self.forecaster.lags :]))
        pred = pred[:, 0]
        intents: list[ControlIntent] = []
        resources: list[str] = []
        if len(self.loads) % RECONCILE_ROUNDS == 0:  # its RRM policy, as configured, in every cell
            for c in range(len(obs.cells)):
                for cfg in self.run.model.scenario.slices:
                    intent = ControlIntent(
                        self.control_subject,
                        self.spec.control_xapp,
                        "rc.slice_quota",
                        self.meid_of_cell[c],
                        c,
                        snssai=cfg.snssai,
                        max_ratio=cfg.max_ratio,
                        min_ratio=cfg.min_ratio,
                        dedicated_ratio=cfg.dedicated_ratio,
                    )
                    intents.append(intent)
                    resources.append(self._resource(intent))
        src = int(np.argmax(pred))
        if pred[src] <= STEER_ABOVE:
            return intents, resources
        steers = 0
        for u in obs.ues:
            if steers >= MAX_STEERS:
                break
            if u.serving_cell_index != src or not u.neighbours:
                continue
            best = u.neighbours[0]
            dst = self.cell_of_nr.get(best.nr_cgi.nr_cell_id)
            serving_rsrp = u.measurements.get("RSRP", -math.inf)
            if dst is None or pred[dst] > pred[src] - STEER_MARGIN or best.rsrp_dbm < serving_rsrp - 6.0:
                continue
            intent = ControlIntent(
                self.control_subject,
                self.spec.control_xapp,
                "rc.handover",
                self.meid_of_cell[src],
                src,
                dst,
                u.ue_id,
            )
            intents.append(intent)
            resources.append(self._resource(intent))
            steers += 1
        return intents, resources

    def _utility(self, obs: ObservedRound) -> float:
        vals = [
            math.log1p(max(u.measurements.get("DRB.RlcSduTransmittedVolumeDL", 0.0), 0.0))
            for u in obs.ues
            if f"ue:{u.ue_id}" not in self.rogue
        ]
        return float(np.mean(vals)) if vals else 0.0


# --- measures ---------------------------------------------------------------------------------------
def auc(scores_pos: list[float], scores_neg: list[float]) -> float:
    """Area under the ROC curve (Mann-Whitney U; ties count half)."""
    if not scores_pos or not scores_neg:
        return math.nan
    pos = np.asarray(scores_pos)[:, None]
    neg = np.asarray(scores_neg)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def detection(log: list[RoundLog], labels: list[Label]) -> dict[str, object]:
    """Per attack: AUC of the subjects' lowest trust during the attack (attacked vs every other subject
    of the same kind) and the time from the attack's start until the attacked subject's trust fell
    below the PDP's deny level."""
    if not labels:
        return {}
    kinds = {lbl.subject.partition(":")[0] for lbl in labels}
    start = min(lbl.start_s for lbl in labels)
    end = max(lbl.end_s for lbl in labels)
    worst: dict[str, float] = {}
    for entry in log:
        if start <= entry.t_s <= end:
            for s, score in entry.scores.items():
                if s.partition(":")[0] in kinds:
                    worst[s] = min(worst.get(s, 1.0), score)
    attacked = {lbl.subject for lbl in labels}
    pos = [1 - worst.get(s, 1.0) for s in attacked]
    neg = [1 - v for s, v in worst.items() if s not in attacked]
    times = []
    for lbl in labels:
        level = DENY_BELOW[lbl.subject.partition(":")[0]]
        t = next(
            (e.t_s for e in log if e.t_s >= lbl.start_s and e.scores.get(lbl.subject, 1.0) < level), None
        )
        times.append(math.inf if t is None else t - lbl.start_s)
    return {"auc": auc(pos, neg), "detect_s": max(times), "attacked_seen": sum(s in worst for s in attacked)}


def recovery_s(log: list[RoundLog], labels: list[Label]) -> float:
    """Seconds after the last attack ended until every attacked subject is above its deny level again."""
    if not labels:
        return 0.0
    end = max(lbl.end_s for lbl in labels)
    for e in log:
        if e.t_s >= end and all(
            e.scores.get(lbl.subject, 1.0) >= DENY_BELOW[lbl.subject.partition(":")[0]] for lbl in labels
        ):
            return e.t_s - end
    return math.inf


def benign_distrusted(log: list[RoundLog], labels: list[Label]) -> list[str]:
    """Benign subjects whose trust fell below their deny level at any time."""
    rogue = {lbl.subject for lbl in labels}
    out = set()
    for e in log:
        for s, score in e.scores.items():
            if s not in rogue and score < DENY_BELOW[s.partition(":")[0]]:
                out.add(s)
    return sorted(out)


def utility(log: list[RoundLog], from_s: float) -> float:
    vals = [e.utility for e in log if e.t_s >= from_s]
    return float(np.mean(vals)) if vals else 0.0
