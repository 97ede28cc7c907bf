"""The twin sidecar: a live digital twin of the RAN beside each control xApp (mirror, predictive models,
virtual planes, target-policy learner and promotion gate, planner; see README.md)."""
