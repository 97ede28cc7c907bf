"""Byte equality with the standard E2AP ASN.1 compiled by asn1tools.

Modules: ../shared/asn1, e2sim's v03.01 and kpimon-go's v2.

asn1tools cannot compile parameterized types, so the modules are flattened in memory (reference e2.md §3.4):
the ProtocolIE containers become plain SEQUENCEs whose ``value`` is an open type, and the messages are built
in two passes (each IE value encoded by asn1tools with its standard type, then placed in its container). The
ASN.1 text is read from ../shared only; nothing of it is copied into the project.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import pickle
import re
from pathlib import Path
from typing import Any

import asn1tools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricproto.e2ap import (
    MESSAGE_SPECS,
    BitString,
    CauseE2node,
    CauseMisc,
    CauseProtocol,
    CauseRICrequest,
    CauseRICservice,
    CauseTransport,
    GlobalE2nodeEnbID,
    GlobalE2nodeEnGnbID,
    GlobalE2nodeGnbID,
    GlobalE2nodeNgEnbID,
    GlobalENBID,
    GlobalenGNBID,
    GlobalgNBID,
    GlobalngeNBID,
    GlobalRICID,
    TNLinformation,
    decode,
    encode,
    spec_of,
)
from ricproto.e2ap import ies as e2ap_ies

E2AP_SETS = {
    "v03.01": (
        "osc-sim-e2-interface",
        [
            "e2ap-common-v03.01.asn",
            "e2ap-constant-v03.01.asn",
            "e2ap-container-v03.01.asn",
            "e2ap-epd-v03.01.asn",
            "e2ap-ied-v03.01.asn",
            "e2ap-pdu-v03.01.asn",
        ],
    ),
    "v2": (
        "osc-kpimon-go/e2ap-v2",
        [
            "commonDefinition.asn",
            "constantDefinition.asn",
            "containerDefinition.asn",
            "elementryProcedureDefinition.asn",
            "informationElementDefinition.asn",
            "pduDefinition.asn",
        ],
    ),
}

FLAT_CONTAINERS = """
ProtocolIE-Container ::= SEQUENCE (SIZE (0..maxProtocolIEs)) OF ProtocolIE-Field
ProtocolIE-SingleContainer ::= ProtocolIE-Field
ProtocolIE-Field ::= SEQUENCE {
    id          ProtocolIE-ID,
    criticality Criticality,
    value       E2AP-PROTOCOL-IES.&Value
}
ProtocolIE-ContainerList ::= SEQUENCE (SIZE (1..maxProtocolIEs)) OF ProtocolIE-SingleContainer
END
"""


def _flatten(text: str) -> str:
    if "E2AP-PROTOCOL-IES ::= CLASS" in text:  # the containers module: drop the parameterized definitions
        return text[: text.index("ProtocolIE-Container {")] + FLAT_CONTAINERS
    text = re.sub(r"(ProtocolIE-[A-Za-z-]+)\s*\{\s*\{[^{}]*\}\s*\}", r"\1", text)
    text = re.sub(r"(ProtocolIE-[A-Za-z-]+)\{\}", r"\1", text)
    text = re.sub(r",\s*E2AP-PROTOCOL-IES-PAIR", "", text)
    # defects of e2sim's v03.01 text (../shared/asn1/README.md): missing import, RICquery/RICQuery case
    text = text.replace("\tRICsubsequentAction,\n", "\tRICsubsequentAction,\n\tRICtimeToWait,\n", 1)
    return re.sub(r"RICquery(Request|Response|Failure)", r"RICQuery\1", text)


@pytest.fixture(scope="module", params=sorted(E2AP_SETS))
def standard(request: pytest.FixtureRequest, shared_dir: Path) -> tuple[str, Any]:
    folder, names = E2AP_SETS[request.param]
    text = "\n".join(_flatten((shared_dir / "asn1" / folder / name).read_text()) for name in names)
    # compiled once and cached by content hash in pytest's cache dir (compiling takes about a second)
    pytest_cache = getattr(request.config, "cache", None)
    if pytest_cache is None:  # cache plugin disabled (-p no:cacheprovider)
        return request.param, asn1tools.compile_string(text, "per")
    cached = pytest_cache.mkdir("e2ap-asn1tools") / (hashlib.sha256(text.encode()).hexdigest() + ".pkl")
    if cached.exists():
        return request.param, pickle.loads(cached.read_bytes())
    spec = asn1tools.compile_string(text, "per")
    cached.write_bytes(pickle.dumps(spec))
    return request.param, spec


# ------------------------------------------------------------ our dataclasses -> asn1tools values

CAUSE_NAMES = {
    CauseRICrequest: "ricRequest",
    CauseRICservice: "ricService",
    CauseE2node: "e2Node",
    CauseTransport: "transport",
    CauseProtocol: "protocol",
    CauseMisc: "misc",
}
NODE_NAMES = {
    GlobalE2nodeGnbID: "gNB",
    GlobalE2nodeEnGnbID: "en-gNB",
    GlobalE2nodeNgEnbID: "ng-eNB",
    GlobalE2nodeEnbID: "eNB",
}
COMPONENT_NAMES = {
    cls: "e2nodeComponentInterfaceType" + cls.__name__.removeprefix("E2nodeComponentInterface")
    for cls in e2ap_ies.E2NODE_COMPONENT_ID_ALTERNATIVES
}
# single-container lists: our IE type name / field -> (item IE id, criticality, standard item type)
LIST_ITEMS = {
    "RANfunctions-List": (8, "ignore", "RANfunction-Item"),
    "RANfunctionsID-List": (6, "ignore", "RANfunctionID-Item"),
    "RANfunctionsIDcause-List": (7, "ignore", "RANfunctionIDcause-Item"),
    "RICaction-Admitted-List": (14, "ignore", "RICaction-Admitted-Item"),
    "RICaction-NotAdmitted-List": (16, "ignore", "RICaction-NotAdmitted-Item"),
    "RICactions-ToBeSetup-List": (19, "ignore", "RICaction-ToBeSetup-Item"),
    "E2nodeComponentConfigAddition-List": (51, "reject", "E2nodeComponentConfigAddition-Item"),
    "E2nodeComponentConfigUpdate-List": (34, "reject", "E2nodeComponentConfigUpdate-Item"),
    "E2nodeComponentConfigRemoval-List": (55, "reject", "E2nodeComponentConfigRemoval-Item"),
    "E2nodeComponentConfigAdditionAck-List": (53, "reject", "E2nodeComponentConfigAdditionAck-Item"),
    "E2nodeComponentConfigUpdateAck-List": (36, "reject", "E2nodeComponentConfigUpdateAck-Item"),
    "E2nodeComponentConfigRemovalAck-List": (57, "reject", "E2nodeComponentConfigRemovalAck-Item"),
    "E2nodeTNLassociationRemoval-List": (59, "reject", "E2nodeTNLassociationRemoval-Item"),
    "RICsubscription-List-withCause": (61, "ignore", "RICsubscription-withCause-Item"),
}
# E2AP v02.00 numbers RICsubscriptionDeleteRequired's IE and items 50/51 (clashing with
# E2nodeComponentConfigAddition) and bounds the list by 2^32-1; v3 uses 60/61 and 1024.
# The codec encodes the v3 form and decodes both.
V200_ITEM_IDS = {"RICsubscription-List-withCause": 51}

# IE value types whose standard name differs from our IEType name
IE_TYPE_NAMES = {"OCTET STRING": "RICcontrolHeader"}  # any unconstrained OCTET STRING type


def _bits(value: int, nbits: int) -> tuple[bytes, int]:
    nbytes = (nbits + 7) // 8
    return (value << (8 * nbytes - nbits)).to_bytes(nbytes, "big"), nbits


def _enum_name(item: enum.Enum) -> str:
    return item.name.rstrip("_").replace("_", "-")


class Converter:
    """Turns our values into asn1tools values of the standard types (two-pass for IE containers)."""

    def __init__(self, spec: Any, version: str) -> None:
        self.spec = spec
        # v2 names E2nodeComponentInterfaceE1's only component gNB-CU-CP-ID (same type, same encoding)
        self.e1_field = "gNB-CU-CP-ID" if version == "v2" else "gNB-CU-UP-ID"
        self.v200 = version == "v2"

    def container_list(self, list_name: str, items: list) -> list[dict]:
        item_id, criticality, item_type = LIST_ITEMS[list_name]
        if self.v200:
            item_id = V200_ITEM_IDS.get(list_name, item_id)
        return [
            {
                "id": item_id,
                "criticality": criticality,
                "value": self.spec.encode(item_type, item if isinstance(item, dict) else self.value(item)),
            }
            for item in items
        ]

    def value(self, v: Any) -> Any:
        if isinstance(v, bool | int | bytes | str):
            return v
        if type(v) in CAUSE_NAMES:
            return CAUSE_NAMES[type(v)], _enum_name(v)
        if isinstance(v, enum.Enum):
            return _enum_name(v)
        if isinstance(v, BitString):
            return _bits(v.value, v.length)
        if isinstance(v, GlobalgNBID):
            return {"plmn-id": v.plmn_id, "gnb-id": ("gnb-ID", _bits(*v.gnb_id))}
        if isinstance(v, GlobalenGNBID):
            return {"pLMN-Identity": v.pLMN_Identity, "gNB-ID": ("gNB-ID", _bits(*v.gNB_ID))}
        if isinstance(v, GlobalENBID):
            nbits = e2ap_ies.ENB_ID_BITS[v.eNB_ID_kind]
            return {
                "pLMN-Identity": v.pLMN_Identity,
                "eNB-ID": (_enum_name(v.eNB_ID_kind), _bits(v.eNB_ID, nbits)),
            }
        if isinstance(v, GlobalngeNBID):
            nbits = e2ap_ies.ENB_ID_CHOICE_BITS[v.enb_id_kind]
            return {"plmn-id": v.plmn_id, "enb-id": (_enum_name(v.enb_id_kind), _bits(v.enb_id, nbits))}
        if isinstance(v, GlobalRICID):
            return {"pLMN-Identity": v.pLMN_Identity, "ric-ID": _bits(v.ric_ID, 20)}
        if isinstance(v, TNLinformation):
            out = {"tnlAddress": _bits(*v.tnlAddress)}
            if v.tnlPort is not None:
                out["tnlPort"] = _bits(v.tnlPort, 16)
            return out
        if type(v) in NODE_NAMES:
            return NODE_NAMES[type(v)], self.fields(v)
        if type(v) in COMPONENT_NAMES:
            inner = self.fields(v)
            if "global-NG-RAN-Node-ID" in inner:
                node = v.global_NG_RAN_Node_ID
                inner["global-NG-RAN-Node-ID"] = (
                    "gNB" if isinstance(node, GlobalgNBID) else "ng-eNB",
                    inner["global-NG-RAN-Node-ID"],
                )
            if isinstance(v, e2ap_ies.E2nodeComponentInterfaceE1):
                inner = {self.e1_field: v.gNB_CU_UP_ID}
            return COMPONENT_NAMES[type(v)], inner
        if isinstance(v, list):
            return [self.value(item) for item in v]
        if dataclasses.is_dataclass(v):
            out = self.fields(v)
            if isinstance(v, e2ap_ies.RICsubscriptionDetails):
                out["ricAction-ToBeSetup-List"] = self.container_list(
                    "RICactions-ToBeSetup-List", v.ricAction_ToBeSetup_List
                )
            return out
        raise TypeError(f"no conversion for {v!r}")

    def fields(self, v: Any) -> dict:
        out = {}
        for f in dataclasses.fields(v):
            item = getattr(v, f.name)
            if item is not None and f.name != "ricAction_ToBeSetup_List":  # that one is a container list
                out[f.name.replace("_", "-")] = self.value(item)
        return out

    def pdu(self, message: Any) -> bytes:
        spec = next(s for s in MESSAGE_SPECS if s.cls is type(message))
        ies = []
        for ie in spec.ies:
            v = getattr(message, ie.field)
            if v is None:
                continue
            if ie.type.name in LIST_ITEMS:
                items = [{"ricActionID": n} for n in v] if ie.type.name == "RICaction-Admitted-List" else v
                asn_value, asn_type = self.container_list(ie.type.name, items), ie.type.name
            else:
                asn_value, asn_type = self.value(v), IE_TYPE_NAMES.get(ie.type.name, ie.type.name)
            ies.append(
                {
                    "id": ie.alt_id if self.v200 and ie.alt_id is not None else ie.id,
                    "criticality": ie.criticality.name,
                    "value": self.spec.encode(asn_type, asn_value),
                }
            )
        body = self.spec.encode(spec.name, {"protocolIEs": ies})
        kind = ("initiatingMessage", "successfulOutcome", "unsuccessfulOutcome")[spec.kind]
        return self.spec.encode(
            "E2AP-PDU",
            (
                kind,
                {"procedureCode": spec.procedureCode, "criticality": spec.criticality.name, "value": body},
            ),
        )


@pytest.mark.parametrize("cls", [spec.cls for spec in MESSAGE_SPECS], ids=lambda c: c.__name__)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_byte_equality_with_standard_asn1(
    cls: type, data: st.DataObject, standard: tuple[str, Any], e2ap_messages: dict, e2ap_v2_messages: dict
) -> None:
    version, spec = standard
    strategies = e2ap_v2_messages if version == "v2" else e2ap_messages
    message = data.draw(strategies[cls])
    expected = Converter(spec, version).pdu(message)
    if version == "v2" and any(ie.alt_id is not None for ie in spec_of(cls).ies):
        assert decode(expected) == message  # the v02.00 numbering is decoded; we send the v3 one
        return
    assert encode(message) == expected
    assert decode(expected) == message


def test_standard_decoder_reads_our_setup_request(standard: tuple[str, Any]) -> None:
    """The other direction: the standard modules decode our bytes (first pass + the IE values)."""
    from ricproto.e2ap import E2setupRequest, RANfunctionItem, plmn_to_bytes

    _, spec = standard
    node = GlobalE2nodeGnbID(GlobalgNBID(plmn_to_bytes("310411"), BitString(0xB5C67788 >> 3, 29)))
    message = E2setupRequest(1, node, [RANfunctionItem(2, b"\x01" * 200, 2, "OID123")], [])
    message.e2nodeComponentConfigAddition = [
        e2ap_ies.E2nodeComponentConfigAdditionItem(
            e2ap_ies.E2nodeComponentInterfaceType.ng,
            e2ap_ies.E2nodeComponentInterfaceNG("nginterf"),
            e2ap_ies.E2nodeComponentConfiguration(b"", b""),
        )
    ]
    kind, outcome = spec.decode("E2AP-PDU", encode(message))
    assert (kind, outcome["procedureCode"]) == ("initiatingMessage", 1)
    ies = {ie["id"]: ie["value"] for ie in spec.decode("E2setupRequest", outcome["value"])["protocolIEs"]}
    assert spec.decode("TransactionID", ies[49]) == 1
    assert spec.decode("GlobalE2node-ID", ies[3]) == (
        "gNB",
        {
            "global-gNB-ID": {
                "plmn-id": b"\x13\x10\x14",
                "gnb-id": ("gnb-ID", (0xB5C67788.to_bytes(4, "big"), 29)),
            }
        },
    )
    (item,) = spec.decode("RANfunctions-List", ies[10])
    assert spec.decode("RANfunction-Item", item["value"])["ranFunctionOID"] == "OID123"


# ------------------------------------------- the codec's IE tables against the standard's object sets

OCTET_STRING_TYPES = {
    "RICindicationHeader",
    "RICindicationMessage",
    "RICcallProcessID",
    "RICcontrolHeader",
    "RICcontrolMessage",
    "RICcontrolOutcome",
}


def _texts(shared_dir: Path, version: str) -> str:
    folder, names = E2AP_SETS[version]
    return "\n".join((shared_dir / "asn1" / folder / name).read_text() for name in names)


def _protocol_ie_ids(text: str) -> dict[str, int]:
    """{id-name: value} of the ProtocolIE-ID constants."""
    pairs = re.findall(r"^(id-[\w-]+)\s+ProtocolIE-ID\s*::=\s*(\d+)", text, re.M)
    return {name: int(value) for name, value in pairs}


def _object_set(text: str, name: str) -> list[tuple[str, str, str, str]]:
    """Root entries (before the extension marker) of an E2AP-PROTOCOL-IES object set."""
    match = re.search(rf"^{re.escape(name)}\s+E2AP-PROTOCOL-IES\s*::=\s*\{{(.*?)^\}}", text, re.M | re.S)
    assert match, f"object set {name} not found"
    root = match.group(1).split("...")[0]
    return re.findall(r"ID\s+(id-[\w-]+)\s+CRITICALITY\s+(\w+)\s+TYPE\s+([\w-]+)\s+PRESENCE\s+(\w+)", root)


# v2 made RANfunctionsAccepted mandatory in RICserviceUpdateAcknowledge; v3 relaxed it to optional. The codec
# follows v3 (accepts either on decode); a sender that talks to a v2 RIC must fill it.
V2_MANDATORY = {("v2", "RICserviceUpdateAcknowledge", 9)}


@pytest.mark.parametrize("version", sorted(E2AP_SETS))
def test_ie_tables_match_standard_object_sets(shared_dir: Path, version: str) -> None:
    text = _texts(shared_dir, version)
    ids = _protocol_ie_ids(text)
    procedures = dict(re.findall(r"^(id-[\w-]+)\s+ProcedureCode\s*::=\s*(\d+)", text, re.M))
    for spec in MESSAGE_SPECS:
        set_name = re.search(
            rf"^{spec.name}\s*::=\s*SEQUENCE\s*\{{\s*protocolIEs\s+ProtocolIE-Container\s*"
            r"\{\s*\{\s*([\w-]+)",
            text,
            re.M,
        )
        assert set_name, spec.name
        entries = _object_set(text, set_name.group(1))
        standard = [
            (ids[i], c, "optional" if (version, spec.name, ids[i]) in V2_MANDATORY else p)
            for i, c, _, p in entries
        ]
        ours = [
            (
                ie.alt_id if version == "v2" and ie.alt_id else ie.id,
                ie.criticality.name,
                "mandatory" if ie.mandatory else "optional",
            )
            for ie in spec.ies
        ]
        assert ours == standard, spec.name
        for (_, _, asn_type, _), ie in zip(entries, spec.ies, strict=True):
            assert asn_type == ie.type.name or (
                ie.type.name == "OCTET STRING" and asn_type in OCTET_STRING_TYPES
            )
        # procedure code and criticality from the elementary-procedure objects
        kind = ("INITIATING MESSAGE", "SUCCESSFUL OUTCOME", "UNSUCCESSFUL OUTCOME")[spec.kind]
        procedure = re.search(
            rf"\{{[^{{}}]*{kind}\s+{spec.name}\s[^{{}}]*PROCEDURE CODE\s+(id-[\w-]+)\s+"
            r"CRITICALITY\s+(\w+)",
            text,
        )
        assert procedure, spec.name
        assert int(procedures[procedure.group(1)]) == spec.procedureCode
        assert procedure.group(2) == spec.criticality.name


@pytest.mark.parametrize("version", sorted(E2AP_SETS))
def test_container_lists_match_standard(shared_dir: Path, version: str) -> None:
    """Item ids/criticalities used by the byte-equality test (and the codec) are the standard's."""
    text = _texts(shared_dir, version)
    ids = _protocol_ie_ids(text)
    for list_name, (item_id, criticality, item_type) in LIST_ITEMS.items():
        match = re.search(
            rf"^{list_name}\s*::=\s*SEQUENCE\s*\(SIZE\s*\([^)]*\)\)\s*OF\s+ProtocolIE-SingleContainer"
            r"\s*\{\s*\{\s*([\w-]+)",
            text,
            re.M,
        )
        assert match, list_name
        ((ie_name, crit, asn_type, _),) = _object_set(text, match.group(1))
        if version == "v2":
            item_id = V200_ITEM_IDS.get(list_name, item_id)
        assert (ids[ie_name], crit, asn_type) == (item_id, criticality, item_type), list_name


def test_v3_extension_additions_are_skipped(standard: tuple[str, Any]) -> None:
    """A v3 peer may add ricActionExecutionOrder (an extension addition): we decode the v2/v3 common part."""
    from ricproto.aper import AperReader
    from ricproto.e2ap.ie_codec import get_RICactionToBeSetupItem
    from ricproto.e2ap.ies import RICactionToBeSetupItem, RICactionType

    version, spec = standard
    if version != "v03.01":
        pytest.skip("ricActionExecutionOrder exists from E2AP v3 on")
    item = {
        "ricActionID": 4,
        "ricActionType": "policy",
        "ricActionDefinition": b"\x01",
        "ricActionExecutionOrder": 3,
    }
    reader = AperReader(spec.encode("RICaction-ToBeSetup-Item", item))
    assert get_RICactionToBeSetupItem(reader) == RICactionToBeSetupItem(4, RICactionType.policy, b"\x01")
