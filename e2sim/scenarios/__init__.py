"""Scenario YAML files shipped with the package (small, medium, large; crowd_small, hetnet_medium)."""
