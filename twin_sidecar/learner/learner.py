"""The target-policy learner: Q-learning from the xApp's logged behaviour with Retrace or V-trace.

``ingest`` is the sink the sidecar's stream consumer calls with decoded transitions in step order;
``update`` is one gradient step and reads top to bottom like the math; ``export`` gives the
``PolicySnapshot`` the gate may promote. Everything the learner knows is in its fields and in
``state_dict()`` (networks, optimiser, replay, counters, random generators), so a checkpoint taken
with the stream position restores it exactly.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from ricproto.policy_snapshot import PolicySnapshot
from ricproto.ran_space import RanSpace
from ricproto.transition import Transition
from twin_sidecar.learner.config import LearnerConfig
from twin_sidecar.learner.diagnostics import UpdateDiagnostics, effective_sample_size
from twin_sidecar.learner.dyna import model_rollouts
from twin_sidecar.learner.qnetwork import QNetwork, epsilon_greedy_probs
from twin_sidecar.learner.replay import SequenceBatch, SequenceReplay
from twin_sidecar.learner.search_targets import distillation_loss, search_policy_targets
from twin_sidecar.learner.targets import retrace_q_targets, vtrace_q_targets
from twin_sidecar.plane_dynamics import PlaneDynamics
from twin_sidecar.planner import Tree

UNKNOWN_VERSION_EXPORT = 0  # a behaviour version this learner did not export counts from update 0


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> count

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


class Learner:
    def __init__(
        self,
        config: LearnerConfig,
        space: RanSpace,
        mask: np.ndarray,
        dynamics: PlaneDynamics | None = None,
    ) -> None:
        self.config = config
        self.space = space
        self.obs_dim = space.max_cells * space.n_features
        self.n_actions = space.n_actions
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.n_actions,) or not mask.any():
            raise ValueError(f"the action mask must be bool [{self.n_actions}] with an allowed action")
        self.mask = torch.from_numpy(mask.copy())
        if config.dyna_ratio > 0.0 and dynamics is None:
            raise ValueError("dyna_ratio > 0 needs the twin's plane dynamics")
        if config.search_targets and dynamics is None:
            raise ValueError("search_targets needs the twin's plane dynamics")
        self.dynamics = dynamics

        torch.manual_seed(config.seed)
        self.q = QNetwork.for_space(space, config.hidden)
        self.q_target = QNetwork.for_space(space, config.hidden)
        self.q_target.load_state_dict(self.q.state_dict())
        self.q_target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=config.learning_rate, eps=config.adam_eps)
        self.replay = SequenceReplay(
            config.replay_capacity,
            self.obs_dim,
            config.sequence_length,
            prioritized=config.prioritized,
            alpha=config.priority_alpha,
        )
        self.rng = np.random.default_rng(config.seed)
        self.torch_rng = torch.Generator().manual_seed(config.seed)

        self.updates = 0
        self.versions: dict[str, int] = {}  # behaviour policy version -> id stored in the replay
        self.exported_at: dict[str, int] = {}  # versions this learner exported -> update count then
        self.last_step: tuple[str, int] | None = None  # (xapp instance, step) of the newest ingested
        self.ingested = 0
        self.rejected: collections.Counter[str] = collections.Counter()
        self._update_times: collections.deque[float] = collections.deque(maxlen=64)
        self._search_tree: Tree | None = None  # reused by every update's search (same shape)

    # --- the stream sink -------------------------------------------------------------------------
    def ingest(self, transitions: Sequence[Transition]) -> IngestResult:
        """Store decoded transitions (in step order); a malformed one is counted and skipped."""
        result = IngestResult()
        rows: list[tuple[Any, ...]] = []
        for msg in transitions:
            reason = self._invalid(msg)
            if reason:
                result.reject(reason)
                continue
            follows = self.last_step == (msg.xapp_instance, msg.step - 1)
            self.last_step = (msg.xapp_instance, msg.step)
            version = self.versions.setdefault(msg.policy_version, len(self.versions))
            rows.append((msg.s, msg.action, msg.reward, msg.s_next, msg.mu, version, follows))
        if rows:
            s, a, r, s_next, mu, version, follows = zip(*rows, strict=True)
            self.replay.add(
                np.asarray(s, dtype=np.float32),
                np.asarray(a, dtype=np.int64),
                np.asarray(r, dtype=np.float32),
                np.asarray(s_next, dtype=np.float32),
                np.asarray(mu, dtype=np.float32),
                np.asarray(version, dtype=np.int32),
                np.asarray(follows, dtype=bool),
            )
        result.accepted = len(rows)
        self.ingested += len(rows)
        self.rejected.update(result.rejected)
        return result

    def _invalid(self, msg: Transition) -> str:
        if len(msg.s) != self.obs_dim or len(msg.s_next) != self.obs_dim:
            return "observation_size"
        if msg.action >= self.n_actions:
            return "action_range"
        if not 0.0 < msg.mu <= 1.0 + 1e-6:
            return "mu_range"
        if not (np.isfinite(msg.reward) and np.isfinite(msg.s).all() and np.isfinite(msg.s_next).all()):
            return "non_finite"
        return ""

    # --- one gradient step -----------------------------------------------------------------------
    def ready(self) -> bool:
        return self.replay.size >= self.config.min_replay

    def update(self) -> UpdateDiagnostics:
        cfg = self.config
        if not self.ready():
            raise RuntimeError(f"the replay holds {self.replay.size} steps, fewer than {cfg.min_replay}")
        n_model = round(cfg.n_sequences * cfg.dyna_ratio) if self.dynamics is not None else 0

        # 1. B sequences of T steps: logged ones, and rollouts on the twin's planes when Dyna is on
        batch = self.replay.sample(cfg.n_sequences - n_model, self.rng, beta=cfg.priority_beta)
        if n_model:
            start = torch.from_numpy(self.replay.sample_observations(n_model, self.rng))
            rollouts = model_rollouts(
                self.dynamics,  # type: ignore[arg-type]
                self.q,
                start,
                self.mask,
                cfg.sequence_length,
                cfg.dyna_epsilon,
                cfg.dyna_members,
                self.torch_rng,
            )
            batch = SequenceBatch.concat(batch, rollouts)
        a = batch.action.unsqueeze(-1)  # [B, T, 1]

        # 2. Q(s_t, a_t) of the online network: the only term with a gradient
        q = self.q(batch.obs)  # [B, T, A]
        q_taken = q.gather(-1, a).squeeze(-1)  # [B, T]

        with torch.no_grad():
            # 3. the target policy pi (epsilon-greedy over the masked online Q) and the ratios pi/mu
            pi = epsilon_greedy_probs(q, self.mask, cfg.target_epsilon)  # [B, T, A]
            ratio = pi.gather(-1, a).squeeze(-1) / batch.mu.clamp_min(cfg.mu_floor)  # [B, T]

            # 4. V(s'_t) = E_pi Q'(s'_t, .): pi from the online net (double Q), values from the target net
            q_target_s, q_target_next = self.q_target(torch.stack([batch.obs, batch.next_obs])).unbind(0)
            q_pick_next = self.q(batch.next_obs) if cfg.double_q else q_target_next  # [B, T, A]
            v_next = (epsilon_greedy_probs(q_pick_next, self.mask, cfg.target_epsilon) * q_target_next).sum(
                -1
            )

            # 5. the multi-step off-policy target
            if cfg.target == "retrace":
                trace = cfg.retrace_lambda * ratio.clamp(max=1.0)  # c_t = lambda min(1, pi/mu)
                target = retrace_q_targets(
                    batch.reward, cfg.gamma, batch.cut, q_target_s.gather(-1, a).squeeze(-1), v_next, trace
                )
                truncated = ratio > 1.0
            else:
                v = (pi * q_target_s).sum(-1)  # V(s_t) = E_pi Q'(s_t, .)
                log_rho = torch.log(ratio.clamp_min(1e-30))
                target = vtrace_q_targets(
                    batch.reward,
                    cfg.gamma,
                    batch.cut,
                    v,
                    v_next,
                    log_rho,
                    cfg.vtrace_rho_bar,
                    cfg.vtrace_c_bar,
                )
                truncated = ratio > min(cfg.vtrace_rho_bar, cfg.vtrace_c_bar)

        # 6. Huber loss on the TD error, weighted by the prioritised-replay importance weights, plus the
        #    conservative term that keeps Q of actions the behaviour rarely took from floating up (CQL)
        td = target - q_taken  # [B, T]
        per_step = F.huber_loss(q_taken, target, reduction="none", delta=cfg.huber_delta)
        if cfg.conservative_weight > 0.0:
            soft_max = torch.logsumexp(q.masked_fill(~self.mask, float("-inf")), dim=-1)  # [B, T]
            per_step = per_step + cfg.conservative_weight * (soft_max - q_taken)
        loss = (batch.weight.unsqueeze(-1) * per_step).mean()
        search_loss = self._search_loss(batch, q) if cfg.search_targets else None
        if search_loss is not None:
            loss = loss + cfg.search_weight * search_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.q.parameters(), cfg.max_grad_norm)
        self.optimizer.step()

        # 7. target network, priorities, diagnostics
        self.updates += 1
        if self.updates % cfg.target_update_interval == 0:
            self._refresh_target()
        td_abs = td.detach().abs()
        n_real = batch.n_sequences - n_model
        self.replay.update_priorities(
            batch.start[:n_real], td_abs[:n_real].numpy(), cfg.priority_eta, cfg.priority_eps
        )
        self._update_times.append(time.perf_counter())
        diag = self._diagnostics(batch, n_real, n_model, loss, td_abs, q_taken, ratio, truncated)
        if search_loss is not None:
            diag = dataclasses.replace(diag, search_loss=float(search_loss.detach()))
        return diag

    def _search_loss(self, batch: SequenceBatch, q: torch.Tensor) -> torch.Tensor:
        """Cross-entropy from softmax(Q / T) at each sequence's first state to the improved policy of a
        Gumbel search from there on the twin's planes (priors and leaf values from the target net)."""
        cfg = self.config
        states = batch.obs[:, 0]  # [B, D]
        targets, self._search_tree = search_policy_targets(
            self.dynamics,  # type: ignore[arg-type]
            self.q_target,
            states,
            self.mask,
            simulations=cfg.search_simulations,
            max_depth=cfg.search_depth,
            discount=cfg.gamma,
            temperature=cfg.search_temperature,
            max_considered_actions=cfg.search_considered,
            generator=self.torch_rng,
            members=cfg.search_members,
            workspace=self._search_tree,
        )
        return distillation_loss(q[:, 0], targets, self.mask, cfg.search_temperature)

    def _refresh_target(self) -> None:
        tau = self.config.target_tau
        with torch.no_grad():
            for p_t, p in zip(self.q_target.parameters(), self.q.parameters(), strict=True):
                p_t.lerp_(p, tau)

    def _diagnostics(
        self,
        batch: SequenceBatch,
        n_real: int,
        n_model: int,
        loss: torch.Tensor,
        td_abs: torch.Tensor,
        q_taken: torch.Tensor,
        ratio: torch.Tensor,
        truncated: torch.Tensor,
    ) -> UpdateDiagnostics:
        real_ratio = ratio[:n_real]
        ess = effective_sample_size(real_ratio)
        lag = self.updates - self._export_update(batch.version[:n_real])
        times = self._update_times
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        return UpdateDiagnostics(
            update=self.updates,
            loss=float(loss.detach()),
            td_error=float(td_abs.mean()),
            q_mean=float(q_taken.detach().mean()),
            ess=ess,
            ess_fraction=ess / max(real_ratio.numel(), 1),
            truncation_rate=float(truncated[:n_real].float().mean()),
            policy_lag=float(lag.mean()),
            policy_lag_max=int(lag.max()),
            updates_per_s=rate,
            replay_size=self.replay.size,
            model_sequences=n_model,
        )

    def _export_update(self, version_ids: np.ndarray) -> np.ndarray:
        """Update count at which each logged step's behaviour version was exported ([...] like ids)."""
        table = np.full(max(len(self.versions), 1), UNKNOWN_VERSION_EXPORT, dtype=np.int64)
        for name, vid in self.versions.items():
            table[vid] = self.exported_at.get(name, UNKNOWN_VERSION_EXPORT)
        return table[version_ids]

    # --- export ----------------------------------------------------------------------------------
    def export(self, version: str | None = None) -> PolicySnapshot:
        """The online Q-network as a snapshot (output "q"); remembered for the policy-lag diagnostic."""
        version = version or f"q-{self.updates}"
        self.exported_at[version] = self.updates
        return self.q.to_snapshot(version)

    # --- checkpoint ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "space": {"obs_dim": self.obs_dim, "n_actions": self.n_actions},
            "mask": self.mask.numpy().copy(),
            "q": self.q.state_dict(),
            "q_target": self.q_target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "replay": self.replay.state_dict(),
            "updates": self.updates,
            "versions": dict(self.versions),
            "exported_at": dict(self.exported_at),
            "last_step": self.last_step,
            "ingested": self.ingested,
            "rejected": dict(self.rejected),
            "rng": self.rng.bit_generator.state,
            "torch_rng": self.torch_rng.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["space"] != {"obs_dim": self.obs_dim, "n_actions": self.n_actions}:
            raise ValueError(
                f"checkpoint is for {state['space']}, this learner has obs_dim={self.obs_dim}, "
                f"n_actions={self.n_actions}"
            )
        if LearnerConfig.from_dict(state["config"]) != self.config:
            raise ValueError("checkpoint was taken with another LearnerConfig")
        self.mask = torch.from_numpy(np.asarray(state["mask"], dtype=bool).copy())
        self.q.load_state_dict(state["q"])
        self.q_target.load_state_dict(state["q_target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.replay.load_state_dict(state["replay"])
        self.updates = int(state["updates"])
        self.versions = dict(state["versions"])
        self.exported_at = dict(state["exported_at"])
        self.last_step = tuple(state["last_step"]) if state["last_step"] is not None else None  # type: ignore[assignment]
        self.ingested = int(state["ingested"])
        self.rejected = collections.Counter(state["rejected"])
        self.rng.bit_generator.state = state["rng"]
        self.torch_rng.set_state(state["torch_rng"])
