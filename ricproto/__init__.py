"""Protocols of the near-RT RIC, without policy: RMR, E2AP, E2SM, A1 formats, message types.

This package depends on nothing else in twinric; every other layer may import it.
"""
