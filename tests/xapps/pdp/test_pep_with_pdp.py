"""The xApp PEP (``xapps.common.pep``) against the real PDP process over RMR: signed permits with grants,
revocation of a cached permit, and deny when the PDP is killed."""

from __future__ import annotations

import signal
import threading

from pdp_fixtures import CELL, MEID, SUBJECT, set_trust
from pdp_process import RmrPeer, start_pdp

from ricproto import mtypes
from twinric.processes import wait_until
from xapps.common.metrics import XappMetrics
from xapps.common.pep import PepClient
from xapps.pdp.zero_trust_policy import default_policy_body, policy_type_id


def test_pep_permits_with_grant_drops_on_revocation_and_denies_when_the_pdp_dies(
    tmp_path, redis_url, redis_client, keys
):
    side = RmrPeer()  # the xApp's RMR: the PEP's requests out, answers and revocations in
    proc = start_pdp(
        tmp_path,
        redis_url,
        tmp_path / "pdp" / "twinric-pdp.key",
        keys.directory,
        [(mtypes.A1_POLICY_RESP, side.endpoint), (mtypes.TWINRIC_ACCESS_REVOKE, side.endpoint)],
    )
    side.route_to(proc.endpoint, policy_type_id())
    stop = threading.Event()
    pep = PepClient(
        SUBJECT,
        lambda m, p: side.ctx.send(m, p) == 0,
        XappMetrics("pep"),
        timeout_s=1.0,
        signing_key=keys.xapp,
        pdp_public_key=keys.pdp.public_key(),
    )

    def dispatch() -> None:
        while not stop.is_set():
            m = side.ctx.receive(0.1)
            if m is not None and m.mtype == mtypes.TWINRIC_ACCESS_RESP:
                pep.on_response(m.payload)
            elif m is not None and m.mtype == mtypes.TWINRIC_ACCESS_REVOKE:
                pep.on_revocation(m.payload)
            elif m is not None:
                side.backlog.append(m)

    try:
        set_trust(redis_client, SUBJECT, 0.9)
        set_trust(redis_client, f"e2node:{MEID}", 0.8)
        assert side.a1("CREATE", "zt", default_policy_body(), policy_type_id())["status"] == "OK"
        threading.Thread(target=dispatch, daemon=True).start()
        first = pep.check("rc.handover", CELL, {"meid": MEID})
        assert first.permitted and first.cause == "pdp" and first.grant, first.reason
        assert pep.check("rc.handover", CELL).cause == "cache"

        set_trust(redis_client, f"e2node:{MEID}", 0.2)  # the node the permit relied on is distrusted
        assert wait_until(lambda: pep.metrics.sample("twinric_pep_revocations_total") == 1, 5)
        again = pep.check("rc.handover", CELL, {"meid": MEID})
        assert again.cause == "pdp" and not again.permitted and again.reason.startswith("no_permit")

        set_trust(redis_client, f"e2node:{MEID}", 0.8)
        assert wait_until(lambda: pep.check("rc.handover", f"{CELL}0").permitted, 5)
        proc.process.popen.send_signal(signal.SIGKILL)
        proc.process.popen.wait(5)
        pep.invalidate()
        dead = pep.check("rc.handover", CELL)
        assert not dead.permitted and dead.cause == "pdp_unreachable" and dead.grant is None
        assert pep.metrics.error_count("pdp_unreachable") == 1
    finally:
        stop.set()
        proc.process.stop()
        side.close()
