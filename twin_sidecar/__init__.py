"""The twin sidecar: mirror, predictive models, virtual planes, target-policy learner and promotion gate."""
