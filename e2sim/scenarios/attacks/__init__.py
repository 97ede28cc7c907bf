"""Attack scenarios shipped with e2sim (``e2sim.attacks.load_attack_scenario``): the small scenario
under one attack each, from 15 s for 15 s (runs of 50 s), and ``benign`` without any."""
