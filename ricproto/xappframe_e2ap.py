"""A pure-Python ``libriclibe2ap.so`` for ``ricxappframe.e2ap``, built on :mod:`ricproto.e2ap`.

``ricxappframe.e2ap.asn1`` (IndicationMsg, SubResponseMsg, SubRequestMsg, ControlRequestMsg) calls the C
functions of OSC's ``ric-plt-libe2ap`` through ctypes: it sets ``restype``/``argtypes`` on
``asn1_c_lib.<name>`` and passes ctypes arrays and structures. The import hook answers the module that
loads the library (``ricxappframe.e2ap.asn1clib.asn1clib``) with this one, so ``asn1_c_lib`` here is an
object whose attributes are those functions, taking the same arguments and giving the same results:

* ``e2ap_decode_ric_indication_message(buffer, size)`` and
  ``e2ap_decode_ric_subscription_response_message(buffer, size)`` return a pointer to the C structure
  (``restype``), or a NULL pointer when the bytes are not that message (a C NULL: ``asn1.py`` then fails
  on ``.contents`` exactly as with the real library);
* ``e2ap_encode_ric_subscription_request_message`` and ``e2ap_encode_ric_control_request_message``
  write APER into the caller's buffer and return its length, or -1 when the message cannot be encoded
  or does not fit;
* the sequence-number helpers and ``e2ap_encode_ric_subscription_delete_request_message`` of the same
  library, and ``e2ap_free_decoded_ric_indication_message`` (nothing to free here).

Field meanings are the library's: ``requestorID`` = ricRequestorID, ``requestSequenceNumber`` =
ricInstanceID, action types report/insert/policy = 0/1/2, subsequent action continue/wait = 0/1 with
RICtimeToWait as its enumeration index, a control's call process id is sent when its buffer is given
and the ack request when it is not -1. Cause types in a subscription response are the CHOICE positions
of E2AP v2/v3 (ricRequest 1, ricService 2, transport 4, protocol 5, misc 6); like the library, an
e2Node cause leaves type and value 0. Lists are capped at the structure's 16 entries (the library
writes past them). An unknown function name raises AttributeError, as ctypes does.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from ricproto import e2ap
from ricproto.e2error import E2CodecError

MAX_ACTIONS = 16  # the C structures hold 16 action ids
# E2AP v2/v3 Cause CHOICE position (asn1c's ``present``) of each alternative the library's switch handles
_CAUSE_TYPE = {
    e2ap.CauseRICrequest: 1,
    e2ap.CauseRICservice: 2,
    e2ap.CauseTransport: 4,
    e2ap.CauseProtocol: 5,
    e2ap.CauseMisc: 6,
}


# ---- ctypes argument handling -------------------------------------------------------------------------


def _int(value: Any) -> int:
    """A C integer argument as Python passes it: int, c_long(...), c_size_t(...), ..."""
    return int(getattr(value, "value", value))


def _bytes(buffer: Any, size: Any) -> bytes:
    """``size`` bytes of a C buffer argument (bytes, ctypes array or pointer, or an address)."""
    n = _int(size)
    if n <= 0 or buffer is None:
        return b""
    if isinstance(buffer, bytes | bytearray | memoryview):
        return bytes(buffer[:n])
    if isinstance(buffer, ctypes.Array):
        return ctypes.string_at(ctypes.addressof(buffer), min(n, ctypes.sizeof(buffer)))
    if isinstance(buffer, ctypes._Pointer):
        return ctypes.string_at(buffer, n) if buffer else b""
    address = _int(buffer)
    return ctypes.string_at(address, n) if address else b""


def _message_bytes(buffer: Any, size: Any) -> bytes:
    """The PDU handed to a decode function. ``ricxappframe`` passes the payload itself with
    ``sys.getsizeof(payload)`` as size (larger than the PDU; asn1c stops at the PDU's end)."""
    if isinstance(buffer, bytes | bytearray | memoryview):
        return bytes(buffer)
    return _bytes(buffer, size)


def _write(buffer: Any, size: Any, pdu: bytes) -> int:
    """Copy ``pdu`` into the caller's buffer; its length, or -1 if it does not fit (asn1c's answer)."""
    if len(pdu) > _int(size):
        return -1
    if isinstance(buffer, bytearray):
        buffer[: len(pdu)] = pdu
    else:
        ctypes.memmove(buffer, pdu, len(pdu))
    return len(pdu)


def _encode(message: e2ap.E2APMessage) -> bytes | None:
    try:
        return e2ap.encode(message)
    except (E2CodecError, ValueError, TypeError):
        return None


def _decode(buffer: Any, size: Any) -> e2ap.E2APMessage | None:
    """The PDU at the start of a C buffer; like asn1c's decoder, octets after it are not looked at
    (callers pass a buffer and its capacity: ricxappframe's set-sequence-number helpers do)."""
    try:
        return e2ap.decode_prefix(_message_bytes(buffer, size))[0]
    except (E2CodecError, ValueError, TypeError, OSError):
        return None


def _null(restype: Any) -> Any:
    """What ctypes returns for a NULL result of ``restype``: a NULL pointer (falsy), or None."""
    if isinstance(restype, type) and issubclass(restype, ctypes._Pointer):
        return restype()
    return None


def _structure(restype: Any, values: list[Any]) -> Any:
    """``restype`` (POINTER(struct)) to a new struct whose fields, in C order, take ``values``."""
    struct = restype._type_()
    for (name, ctype, *_), value in zip(struct._fields_, values, strict=True):
        if isinstance(value, bytes):  # a uint8_t* field: point at a copy that the struct keeps alive
            array = (ctypes.c_uint8 * max(1, len(value))).from_buffer_copy(value or b"\0")
            setattr(struct, name, ctypes.cast(array, ctype) if value else ctype())
        elif isinstance(value, list | tuple):
            setattr(struct, name, _array(ctype, value))
        else:
            setattr(struct, name, value)
    return ctypes.pointer(struct)


def _array(ctype: Any, values: Any) -> Any:
    if isinstance(values, tuple) and hasattr(ctype, "_fields_"):  # a nested structure
        inner = ctype()
        for (name, field_type, *_), value in zip(ctype._fields_, values, strict=True):
            setattr(inner, name, _array(field_type, value) if isinstance(value, list | tuple) else value)
        return inner
    array = ctype()
    for i, value in enumerate(values[: len(array)]):
        array[i] = _array(ctype._type_, value) if isinstance(value, tuple) else value
    return array


# ---- the library's functions ------------------------------------------------------------------------


def _decode_indication(restype: Any, buffer: Any, size: Any) -> Any:
    message = _decode(buffer, size)
    if not isinstance(message, e2ap.RICindication):
        return _null(restype)
    rid = message.ricRequestID
    header, body = message.ricIndicationHeader, message.ricIndicationMessage
    call = message.ricCallProcessID or b""
    return _structure(restype, [
        rid.ricRequestorID, rid.ricInstanceID, message.ranFunctionID, message.ricActionID,
        message.ricIndicationSN or 0, message.ricIndicationType.value,
        header, len(header), body, len(body), call, len(call),
    ])


def _cause_item(cause: Any) -> tuple[int, int]:
    kind = _CAUSE_TYPE.get(type(cause))
    return (kind, cause.value) if kind is not None else (0, 0)


def _decode_subscription_response(restype: Any, buffer: Any, size: Any) -> Any:
    message = _decode(buffer, size)
    if not isinstance(message, e2ap.RICsubscriptionResponse):
        return _null(restype)
    admitted = list(message.ricActionsAdmitted)[:MAX_ACTIONS]
    refused = list(message.ricActionsNotAdmitted or [])[:MAX_ACTIONS]
    rid = message.ricRequestID
    return _structure(restype, [
        rid.ricRequestorID, rid.ricInstanceID, message.ranFunctionID,
        (admitted, len(admitted)),
        ([a.ricActionID for a in refused], [_cause_item(a.cause) for a in refused], len(refused)),
    ])


def _sequence_number(kind: type) -> Callable[..., int]:
    def get(restype: Any, buffer: Any, size: Any) -> int:
        message = _decode(buffer, size)
        return message.ricRequestID.ricInstanceID if isinstance(message, kind) else -1  # type: ignore[attr-defined]

    return get


def _set_sequence_number(kind: type) -> Callable[..., int]:
    def set_(restype: Any, buffer: Any, size: Any, sequence_number: Any) -> int:
        message = _decode(buffer, size)
        if not isinstance(message, kind):
            return -1
        message.ricRequestID = e2ap.RICrequestID(message.ricRequestID.ricRequestorID, _int(sequence_number))  # type: ignore[attr-defined]
        pdu = _encode(message)
        return -1 if pdu is None else _write(buffer, size, pdu)

    return set_


def _encode_subscription_request(
    restype: Any, buffer: Any, size: Any, requestor: Any, sequence: Any, function: Any, trigger: Any,
    trigger_size: Any, count: Any, action_ids: Any, action_types: Any, definitions: Any, subsequent: Any,
) -> int:
    try:
        actions = []
        for i in range(_int(count)):
            definition = definitions[i]
            length = _int(definition.size)
            follow = subsequent[i]
            actions.append(e2ap.RICactionToBeSetupItem(
                ricActionID=_int(action_ids[i]),
                ricActionType=e2ap.RICactionType(_int(action_types[i])),
                ricActionDefinition=_bytes(definition.action_definition, length) if length else None,
                ricSubsequentAction=e2ap.RICsubsequentAction(
                    e2ap.RICsubsequentActionType(_int(follow.subsequent_action_type)),
                    e2ap.RICtimeToWait(_int(follow.time_to_wait)),
                ) if _int(follow.is_valid) else None,
            ))
        message = e2ap.RICsubscriptionRequest(
            e2ap.RICrequestID(_int(requestor), _int(sequence)), _int(function),
            e2ap.RICsubscriptionDetails(_bytes(trigger, trigger_size), actions),
        )
    except (ValueError, TypeError, AttributeError, IndexError):
        return -1
    pdu = _encode(message)
    return -1 if pdu is None else _write(buffer, size, pdu)


def _encode_subscription_delete_request(
    restype: Any, buffer: Any, size: Any, requestor: Any, sequence: Any, function: Any
) -> int:
    rid = e2ap.RICrequestID(_int(requestor), _int(sequence))
    message = e2ap.RICsubscriptionDeleteRequest(rid, _int(function))
    pdu = _encode(message)
    return -1 if pdu is None else _write(buffer, size, pdu)


def _encode_control_request(
    restype: Any, buffer: Any, size: Any, requestor: Any, sequence: Any, function: Any, call_process: Any,
    call_process_size: Any, header: Any, header_size: Any, body: Any, body_size: Any, ack_request: Any,
) -> int:
    ack = _int(ack_request)
    try:
        message = e2ap.RICcontrolRequest(
            e2ap.RICrequestID(_int(requestor), _int(sequence)), _int(function),
            _bytes(header, header_size), _bytes(body, body_size),
            ricCallProcessID=None if call_process is None else _bytes(call_process, call_process_size),
            ricControlAckRequest=None if ack == -1 else e2ap.RICcontrolAckRequest(ack),
        )
    except ValueError:  # an ack request outside the enumeration: asn1c's constraint check fails
        return -1
    pdu = _encode(message)
    return -1 if pdu is None else _write(buffer, size, pdu)


def _free(restype: Any, *_: Any) -> None:
    return None  # the structures here belong to Python's garbage collector


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "e2ap_decode_ric_indication_message": _decode_indication,
    "e2ap_free_decoded_ric_indication_message": _free,
    "e2ap_decode_ric_subscription_response_message": _decode_subscription_response,
    "e2ap_encode_ric_subscription_request_message": _encode_subscription_request,
    "e2ap_encode_ric_subscription_delete_request_message": _encode_subscription_delete_request,
    "e2ap_encode_ric_control_request_message": _encode_control_request,
    "e2ap_get_ric_subscription_request_sequence_number": _sequence_number(e2ap.RICsubscriptionRequest),
    "e2ap_set_ric_subscription_request_sequence_number": _set_sequence_number(e2ap.RICsubscriptionRequest),
    "e2ap_get_ric_subscription_response_sequence_number": _sequence_number(e2ap.RICsubscriptionResponse),
    "e2ap_set_ric_subscription_response_sequence_number": _set_sequence_number(e2ap.RICsubscriptionResponse),
    "e2ap_get_ric_subscription_failure_sequence_number": _sequence_number(e2ap.RICsubscriptionFailure),
    "e2ap_get_ric_subscription_delete_request_sequence_number": _sequence_number(
        e2ap.RICsubscriptionDeleteRequest),
    "e2ap_set_ric_subscription_delete_request_sequence_number": _set_sequence_number(
        e2ap.RICsubscriptionDeleteRequest),
    "e2ap_get_ric_subscription_delete_response_sequence_number": _sequence_number(
        e2ap.RICsubscriptionDeleteResponse),
    "e2ap_set_ric_subscription_delete_response_sequence_number": _set_sequence_number(
        e2ap.RICsubscriptionDeleteResponse),
    "e2ap_get_ric_subscription_delete_failure_sequence_number": _sequence_number(
        e2ap.RICsubscriptionDeleteFailure),
}


class LibraryFunction:
    """One function of the library, called like a ctypes foreign function (``restype`` is honoured
    for the structures a decode returns; ``argtypes`` is accepted and not needed)."""

    def __init__(self, name: str, implementation: Callable[..., Any]) -> None:
        self.__name__ = name
        self.implementation = implementation
        self.restype: Any = ctypes.c_int
        self.argtypes: Any = None

    def __call__(self, *args: Any) -> Any:
        return self.implementation(self.restype, *args)

    def __repr__(self) -> str:
        return f"<ricproto E2AP function {self.__name__}>"


class E2apLibrary:
    """Stands where ``ctypes.CDLL("libriclibe2ap.so")`` would (functions by attribute, one object each)."""

    _name = "libriclibe2ap.so (ricproto)"

    def __init__(self) -> None:
        self._functions: dict[str, LibraryFunction] = {}

    def __getattr__(self, name: str) -> LibraryFunction:
        if name.startswith("__") or name not in FUNCTIONS:
            raise AttributeError(f"{self._name}: undefined symbol: {name}")
        function = self._functions.get(name)
        if function is None:
            function = self._functions[name] = LibraryFunction(name, FUNCTIONS[name])
        return function

    def __getitem__(self, name: str) -> LibraryFunction:
        return self.__getattr__(name)


asn1_c_lib = E2apLibrary()
