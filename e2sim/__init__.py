"""E2 node simulator: a vectorized RAN model (``e2sim.ran``), scenarios (``e2sim.scenario``), an E2
agent speaking E2AP over it (``e2sim.agent``, ``python -m e2sim``) and a Gymnasium env (``e2sim.gym``).

Depends only on ``ricproto``.
"""
