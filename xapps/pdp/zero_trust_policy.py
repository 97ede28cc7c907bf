"""The zero-trust policy of A1 type ``twinric-zero-trust`` (21020): parse, validate, compile.

A policy takes effect only after it passed the type's JSON schema, its Cedar schema parsed, its Cedar
policies parsed and validated against that schema (``cedarpy.validate_policies``); otherwise
:class:`PolicyRejected` says why, the A1 handler answers ERROR (the mediator reports NOT_ENFORCED)
and the policy in force stays. The compiled ``cedarpy.PolicySet`` is what decisions evaluate, so no
decision re-parses policy text.

Why 21020: twinric's A1 types sit in one block, a decade per xApp (21010 the control xApp, 21020 the
PDP), away from the OSC examples (20008 traffic steering, 20010-20012 are RMR message types, not
type ids) and leaving room for revisions of each type next to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cedarpy
import jsonschema

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE / "default_policy"
RESOURCE_CLASSES = ("default", "e2node", "cell", "slice", "ue")


class PolicyRejected(ValueError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@cache
def policy_type() -> dict[str, Any]:
    return json.loads((HERE / "policy_type.json").read_text())


def policy_type_id() -> int:
    return int(policy_type()["policy_type_id"])


def default_policy_body() -> dict[str, Any]:
    """The zero-trust policy that ships with twinric (``twinric up`` PUTs it over A1 at start)."""
    settings = json.loads((DEFAULT_DIR / "settings.json").read_text())
    return {
        **settings,
        "cedar_policies": (DEFAULT_DIR / "zero-trust.cedar").read_text(),
        "cedar_schema": (DEFAULT_DIR / "zero-trust.cedarschema").read_text(),
    }


@dataclass(frozen=True)
class ZeroTrustPolicy:
    instance_id: str
    version: str  # label + digest of the body: what every decision logs
    cedar_policies: str
    cedar_schema: str
    policy_set: cedarpy.PolicySet = field(repr=False, compare=False)
    thresholds: dict[str, float]
    permit_ttl_s: float
    deny_ttl_s: float
    grant_ttl_s: float
    trust_max_age_s: float
    policy_ids: dict[str, str]  # Cedar's positional id (policy0) -> its @id annotation

    def threshold(self, resource_class: str) -> float:
        return self.thresholds.get(resource_class, self.thresholds["default"])

    def min_trust_milli(self, resource_class: str) -> int:
        """The class's threshold in thousandths, as the Cedar context carries it; rounded like the trust
        scores are (``trust_view.trust_milli``), so a score equal to the threshold passes it."""
        return round(self.threshold(resource_class) * 1000)

    def describe(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "version": self.version,
            "trust_thresholds": self.thresholds,
            "cache_ttl_s": {"permit": self.permit_ttl_s, "deny": self.deny_ttl_s},
            "grant_ttl_s": self.grant_ttl_s,
            "trust_max_age_s": self.trust_max_age_s,
            "policies": sorted(self.policy_ids.values()),
            "cedar_policies": self.cedar_policies,
            "cedar_schema": self.cedar_schema,
        }


def _policy_ids(text: str) -> dict[str, str]:
    """Map positional ids to @id annotations (policies without one keep their positional id)."""
    est = json.loads(cedarpy.policies_to_json_str(text))
    out: dict[str, str] = {}
    for pid, body in est.get("staticPolicies", {}).items():
        out[pid] = str((body.get("annotations") or {}).get("id") or pid)
    return out


def parse_policy(payload: dict[str, Any], instance_id: str) -> ZeroTrustPolicy:
    """Validate and compile an A1 instance body; raises PolicyRejected with the reason."""
    try:
        jsonschema.Draft7Validator(policy_type()["create_schema"]).validate(payload)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(body)"
        raise PolicyRejected(f"policy body at {where}: {exc.message}") from None
    policies, schema_text = payload["cedar_policies"], payload["cedar_schema"]
    try:
        schema = cedarpy.Schema.from_str(schema_text)
    except ValueError as exc:
        raise PolicyRejected(f"cedar_schema does not parse: {exc}") from None
    try:
        policy_set = cedarpy.PolicySet.from_str(policies)
    except ValueError as exc:
        raise PolicyRejected(f"cedar_policies do not parse: {exc}") from None
    if len(policy_set) == 0:
        raise PolicyRejected("cedar_policies hold no policy: nothing would ever be permitted")
    result = cedarpy.validate_policies(policies, schema)
    if not result.validation_passed:
        names = result.id_annotations_by_policy_id
        errors = "; ".join(
            f"{names.get(e.policy_id, e.policy_id) or 'policies'}: {e.error}" for e in result.errors
        )
        raise PolicyRejected(f"cedar_policies fail validation against cedar_schema: {errors}")
    thresholds = {k: float(v) for k, v in payload["trust_thresholds"].items()}
    ttl = payload.get("cache_ttl_s", {})
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
    label = payload.get("version") or instance_id
    return ZeroTrustPolicy(
        instance_id=instance_id,
        version=f"{label}@{digest}",
        cedar_policies=policies,
        cedar_schema=schema_text,
        policy_set=policy_set,
        thresholds=thresholds,
        permit_ttl_s=float(ttl.get("permit", 10.0)),
        deny_ttl_s=float(ttl.get("deny", 1.0)),
        grant_ttl_s=float(payload.get("grant_ttl_s", 10.0)),
        trust_max_age_s=float(payload.get("trust_max_age_s", 60.0)),
        policy_ids=_policy_ids(policies),
    )
