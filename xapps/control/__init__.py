"""The control xApp: KPM in, E2SM-RC control out, with the behaviour policy of the off-policy scheme.

Run with ``python -m xapps.control`` (descriptor from ``CONFIG_FILE``).
"""
