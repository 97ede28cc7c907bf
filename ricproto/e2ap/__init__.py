"""E2AP (O-RAN E2 Application Protocol) codec: typed messages <-> APER bytes, v2/v3 common subset.

``encode(message) -> bytes`` and ``decode(data) -> message`` are the entry points; both raise only
``ricproto.e2error.E2CodecError`` (naming the message and IE field). Messages are the dataclasses of
``messages``, IE values those of ``ies``; E2SM payloads (headers, messages, definitions) stay opaque bytes::

    from ricproto import e2ap
    node = e2ap.GlobalE2nodeGnbID(e2ap.GlobalgNBID(e2ap.plmn_to_bytes("00101"), e2ap.BitString(0x19B, 22)))
    pdu = e2ap.encode(e2ap.RICindication(e2ap.RICrequestID(1, 7), 2, 1, e2ap.RICindicationType.report,
                                         header_bytes, message_bytes))
    message = e2ap.decode(pdu)          # -> RICindication(...)
    e2ap.ran_name(node)                 # -> "gnb_001_001_00019b" (the MEID OSC E2T gives the node)

The APER codec is hand-written (``ie_codec``, ``codec``, on the bit codec ``ricproto.aper``) and checked
byte for byte against the standard E2AP modules (v2 and v3.01, asn1tools) and pycrate's compiled E2AP in
the tests.
"""

from ricproto.e2ap import ies as _ies
from ricproto.e2ap import messages as _messages
from ricproto.e2ap.codec import (
    MESSAGE_SPECS,
    MessageKind,
    MessageSpec,
    decode,
    decode_prefix,
    encode,
    spec_of,
)
from ricproto.e2ap.ies import *  # noqa: F403 - the IE value types are part of this package's API
from ricproto.e2ap.messages import *  # noqa: F403 - every message class is part of this package's API
from ricproto.e2ap.node_name import ran_name
from ricproto.e2error import E2CodecError
from ricproto.plmn import plmn_from_bytes, plmn_to_bytes

__all__ = [
    "MESSAGE_SPECS",
    "E2CodecError",
    "MessageKind",
    "MessageSpec",
    "decode",
    "decode_prefix",
    "encode",
    "plmn_from_bytes",
    "plmn_to_bytes",
    "ran_name",
    "spec_of",
    *_ies.__all__,
    *_messages.__all__,
]
