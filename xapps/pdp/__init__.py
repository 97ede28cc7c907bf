"""The zero-trust policy decision point xApp: Cedar policies from A1, trust scores from the twin (Redis),
signed requests over RMR and REST, RAN grants for e2term, revocations, and a decision log."""
