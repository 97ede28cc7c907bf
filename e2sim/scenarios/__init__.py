"""Scenario YAML files shipped with the package (small, medium, large)."""
