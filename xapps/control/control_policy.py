"""The settings an A1 policy of type ``twinric-control`` gives the behaviour policy.

The schema (``policy_type.json``, also what an operator PUTs to the A1 mediator as the policy type)
is the single source of truth: a payload is validated against it, and only then turned into a
:class:`ControlSettings`. Missing keys keep their defaults, so ``{}`` is a valid policy.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema

POLICY_TYPE_FILE = Path(__file__).with_name("policy_type.json")
ExplorationKind = Literal["none", "epsilon_greedy", "boltzmann"]


class PolicyRejected(ValueError):
    """An A1 payload that does not satisfy the twinric-control schema; ``reason`` says where and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Exploration:
    kind: ExplorationKind = "epsilon_greedy"
    epsilon: float = 0.1
    temperature: float = 1.0


@dataclass(frozen=True)
class ControlSettings:
    throughput_weight: float = 1.0
    imbalance_weight: float = 0.5
    p5_weight: float = 1.0  # eMBB 5th-percentile throughput (ran_space p5_weight)
    sla_weight: float = 1.0  # URLLC delay-budget violations (ran_space sla_weight)
    cell_load_limit: float = 0.9
    exploration: Exploration = Exploration()
    planner_budget_ms: int = 0
    follow_promoted_policies: bool = True
    a1_instance: str = ""  # the A1 policy instance these settings came from ("" = defaults)

    def describe(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@cache
def policy_type() -> dict[str, Any]:
    return json.loads(POLICY_TYPE_FILE.read_text())


def policy_type_id() -> int:
    return int(policy_type()["policy_type_id"])


@cache
def _validator() -> jsonschema.Draft7Validator:
    schema = policy_type()["create_schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def settings_from_policy(
    payload: Any, instance_id: str, base: ControlSettings | None = None
) -> ControlSettings:
    """Validate an A1 payload and apply it on top of ``base`` (defaults when None)."""
    errors = sorted(_validator().iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise PolicyRejected(f"{where}: {first.message}")
    base = base or ControlSettings()
    weights = payload.get("objective_weights", {})
    explo = payload.get("exploration")
    exploration = base.exploration
    if explo is not None:
        exploration = Exploration(
            explo["kind"],
            float(explo.get("epsilon", Exploration.epsilon)),
            float(explo.get("temperature", Exploration.temperature)),
        )
    return ControlSettings(
        throughput_weight=float(weights.get("throughput", base.throughput_weight)),
        imbalance_weight=float(weights.get("load_imbalance", base.imbalance_weight)),
        p5_weight=float(weights.get("embb_p5_throughput", base.p5_weight)),
        sla_weight=float(weights.get("urllc_delay_violations", base.sla_weight)),
        cell_load_limit=float(payload.get("cell_load_limit", base.cell_load_limit)),
        exploration=exploration,
        planner_budget_ms=int(payload.get("planner_budget_ms", base.planner_budget_ms)),
        follow_promoted_policies=bool(payload.get("follow_promoted_policies", base.follow_promoted_policies)),
        a1_instance=instance_id,
    )
