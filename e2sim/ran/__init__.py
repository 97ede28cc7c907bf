"""The RAN model: topology, channel, scheduler, traffic, mobility, handover, counters and ``RanModel``."""
