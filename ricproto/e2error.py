"""The one error type of the E2 codecs (E2AP and the E2 service models)."""

from __future__ import annotations


class E2CodecError(ValueError):
    """Encoding or decoding of an E2 message failed.

    ``message`` names the PDU or service-model message, ``field`` the field (dotted path) that failed
    when known, and ``reason`` says what was wrong. ``str()`` of the error is one readable line.
    """

    def __init__(self, message: str, reason: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        self.reason = reason
        where = f"{message}.{field}" if field else message
        super().__init__(f"{where}: {reason}")
