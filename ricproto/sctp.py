"""Kernel SCTP detection.

E2 runs over SCTP (IPPROTO_SCTP, PPID 70). Python's standard socket module can open SCTP sockets
only when the kernel has the sctp module loaded; containers and CI machines often lack it, so the
E2 transports check here first and fall back to length-framed TCP with a clear reason.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

IPPROTO_SCTP: int = getattr(socket, "IPPROTO_SCTP", 132)
E2AP_PPID = 70  # SCTP payload protocol identifier assigned to E2AP


@dataclass(frozen=True)
class SctpSupport:
    available: bool
    reason: str


def kernel_sctp() -> SctpSupport:
    """Whether this kernel lets us open a one-to-one SCTP socket, and why not when it does not."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
    except OSError as exc:
        return SctpSupport(False, f"socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) failed: {exc.strerror or exc}"
                                  " (load the kernel module with `modprobe sctp`, or use length-framed TCP)")
    sock.close()
    return SctpSupport(True, "kernel SCTP sockets can be opened")
