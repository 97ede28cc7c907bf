"""The sidecar's HTTP API: one router per concern, parts reached through ``deps``."""
