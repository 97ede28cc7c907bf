"""Local stand-in for the OSC E2 termination (ric-plt-e2) and the E2 setup part of e2mgr.

Accepts E2 nodes (SCTP where the kernel has it, length-framed TCP otherwise), answers E2 Setup and the
node-initiated global procedures itself, keeps the node inventory in Redis (``inventory``) and relays
E2AP PDUs between the nodes and RMR with OSC's message types and header fields (``uplink``).
"""
