"""The zero-trust part of ``twinric up``: identities, the PDP xApp's process, its A1 policy, default trust.

What a RIC deployment provisions by other means is done here for the local box:

* identities: an Ed25519 key pair per xApp and for the PDP (in a RIC: Kubernetes secrets), generated
  once per run directory: private keys under ``secrets/<name>/<name>.key`` (mode 0600), the public
  keys the PDP trusts under ``keys/xapps/<name>.pub`` and the PDP's own public key (which e2term and
  the PEPs verify grants and revocations with) under ``keys/twinric-pdp.pub``;
* the PDP xApp (``python -m xapps.pdp``) on the local port plan, e2term enforcing its grants;
* the default zero-trust policy over A1 (type 21020) once rtmgr routes it to the PDP;
* trust records for the control xApp and every E2 node of the scenario in the trust namespace, written
  as an operator would (source ``twinric-up``) until the twin's security analytics publish their own.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from ricproto import identity, mtypes, trust
from twinric.processes import wait_until
from twinric.stack import Service, StackFailed

HOST = "127.0.0.1"
PDP_NAME = "twinric-pdp"
CONTROL_NAME = "twinric-control"
DEFAULT_TRUST = 0.9
DEFAULT_TRUST_TTL_S = 7 * 86400.0  # the operator vouches for the defaults this long
POLICY_INSTANCE = "twinric-default"
TRUST_SOURCE = "twinric-up (operator default)"


@dataclass(frozen=True)
class Identities:
    """Where the key files of one run are."""

    root: Path

    @property
    def xapp_keys_dir(self) -> Path:
        return self.root / "keys" / "xapps"

    @property
    def pdp_public_key(self) -> Path:
        return self.root / "keys" / f"{PDP_NAME}.pub"

    def private_key(self, name: str) -> Path:
        return self.root / "secrets" / name / f"{name}{identity.PRIVATE_SUFFIX}"


def provision_identities(run_dir: Path, xapps: list[str]) -> Identities:
    """Key pairs for the PDP and each xApp (kept across runs of the same run directory)."""
    ids = Identities(run_dir)
    ids.xapp_keys_dir.mkdir(parents=True, exist_ok=True)
    for name in [PDP_NAME, *xapps]:
        _, public = identity.write_identity(ids.private_key(name).parent, name)
        target = ids.pdp_public_key if name == PDP_NAME else ids.xapp_keys_dir / public.name
        shutil.copyfile(public, target)
    return ids


def control_overrides(ids: Identities) -> dict[str, Any]:
    """What the control xApp's ``controls`` need to work with the PDP: its key, the PEP on."""
    return {
        "identity": {"key_file": str(ids.private_key(CONTROL_NAME))},
        "pep": {"enabled": True, "pdp_public_key": str(ids.pdp_public_key)},
    }


def e2term_args(ids: Identities, allow_ungranted: tuple[str, ...] = ()) -> list[str]:
    args = ["--control-grants", "enforce", "--pdp-public-key", str(ids.pdp_public_key)]
    for pattern in allow_ungranted:
        args += ["--allow-ungranted", pattern]
    return args


def pdp_config(run_dir: Path, ids: Identities, rtg_port: int) -> Path:
    """The PDP's descriptor with this run's keys, decision log file and route port."""
    import xapps.pdp

    descriptor = json.loads((Path(xapps.pdp.__file__).parent / "config-file.json").read_text())
    for port in descriptor["messaging"]["ports"]:
        if "route" in port["name"]:
            port["port"] = rtg_port
    ctl = descriptor["controls"]
    ctl["identity"] = {"key_file": str(ids.private_key(PDP_NAME)), "xapp_keys_dir": str(ids.xapp_keys_dir)}
    ctl["decision_log"] = {**ctl.get("decision_log", {}), "file": str(run_dir / "pdp-decisions.jsonl")}
    path = run_dir / "pdp-config.json"
    path.write_text(json.dumps(descriptor, indent=1))
    return path


def pdp_service(
    ports: dict[str, int], redis_url: str, log_level: str, run_dir: Path, ids: Identities
) -> Service:
    p = ports
    seed = run_dir / "pdp-seed.rt"
    a1 = f"{HOST}:{p['a1-rmr']}"
    seed.write_text(f"newrt|start\nmse|20011|-1|{a1}\nmse|20012|-1|{a1}\nnewrt|end\n")
    env = {
        "CONFIG_FILE": str(pdp_config(run_dir, ids, p["pdp-rtg"])),
        "TWINRIC_RMR_PORT": str(p["pdp-rmr"]),
        "TWINRIC_HTTP_PORT": str(p["pdp-http"]),
        "TWINRIC_HTTP_HOST": HOST,
        "TWINRIC_RMR_ENDPOINT": f"{HOST}:{p['pdp-rmr']}",
        "TWINRIC_HTTP_ENDPOINT": f"{HOST}:{p['pdp-http']}",
        "TWINRIC_REDIS_URL": redis_url,
        "TWINRIC_APPMGR_URL": f"http://{HOST}:{p['appmgr-http']}",
        "TWINRIC_LOG_LEVEL": log_level,
        "RMR_SEED_RT": str(seed),
        "RMR_SRC_ID": HOST,
        "RMR_RTG_SVC": str(p["pdp-rtg"]),
    }
    return Service(
        "pdp",
        [sys.executable, "-m", "xapps.pdp"],
        ready_port=p["pdp-http"],
        metrics_port=p["pdp-http"],
        env=env,
    )


def default_trust_subjects(ran: dict[str, Any]) -> list[str]:
    """The control xApp and every E2 node of ``controls.ran`` (what its controls touch)."""
    nodes = sorted({c["meid"] for c in ran["cells"]})
    return [f"xapp:{CONTROL_NAME}", *(f"e2node:{m}" for m in nodes)]


def write_trust(
    client: redis.Redis,
    subject: str,
    score: float,
    source: str,
    *,
    ttl_s: float | None = None,
    explanation: str | None = None,
) -> trust.TrustRecord:
    """Write one record and announce it (what the twin's security analytics will do)."""
    rec = trust.make_record(subject, score, source, ttl_s=ttl_s, explanation=explanation)
    client.set(trust.key(subject), trust.encode_record(rec))
    client.publish(trust.UPDATES_CHANNEL, subject)
    return rec


def write_default_trust(redis_url: str, subjects: list[str]) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for subject in subjects:
            write_trust(
                client,
                subject,
                DEFAULT_TRUST,
                TRUST_SOURCE,
                ttl_s=DEFAULT_TRUST_TTL_S,
                explanation="default until the twin's security analytics score it",
            )
    finally:
        client.close()


def pdp_policy_type() -> dict[str, Any]:
    from xapps.pdp.zero_trust_policy import policy_type

    return policy_type()


def put_default_policy(a1_url: str, appmgr_url: str, timeout_s: float = 30.0) -> None:
    """Create type 21020, wait until rtmgr routes it to the PDP, PUT the default policy, wait for ENFORCED."""
    from xapps.pdp.zero_trust_policy import default_policy_body

    ptype = pdp_policy_type()
    type_id = ptype["policy_type_id"]
    base = f"{a1_url}/A1-P/v2/policytypes/{type_id}"
    if httpx.get(base, timeout=5).status_code != 200:
        resp = httpx.put(base, json=ptype, timeout=5)
        if resp.status_code != 201:
            raise StackFailed(f"A1 policy type {type_id} refused: {resp.status_code} {resp.text}")

    def routed() -> bool:
        table = httpx.get(f"{appmgr_url}/ric/v1/routes", timeout=2).json().get("table", "")
        return f"mse|{mtypes.A1_POLICY_REQ}|{type_id}|" in table

    if not wait_until(routed, timeout_s, 0.2):
        raise StackFailed(f"rtmgr never routed A1 policy type {type_id} to the PDP")
    url = f"{base}/policies/{POLICY_INSTANCE}"
    resp = httpx.put(url, json=default_policy_body(), timeout=5)
    if resp.status_code not in (200, 201, 202):
        raise StackFailed(
            f"default zero-trust policy refused by the A1 mediator: {resp.status_code} {resp.text}"
        )

    def enforced() -> bool:
        r = httpx.get(f"{url}/status", timeout=2)
        return r.status_code == 200 and r.json().get("enforceStatus") == "ENFORCED"

    if not wait_until(enforced, timeout_s, 0.2):
        raise StackFailed("the PDP did not enforce the default zero-trust policy (see pdp.log)")
