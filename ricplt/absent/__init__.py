"""Answers for the OSC platform components that twinric's box does not run."""
