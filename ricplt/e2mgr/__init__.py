"""The E2 manager's view for xApps: the R-NIB in SDL, RAN_CONNECTED notices and e2mgr's read-only REST."""
