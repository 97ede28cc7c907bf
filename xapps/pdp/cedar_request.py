"""How an access request becomes a Cedar request (pure functions).

* principal: the subject, ``xapp:<name>`` -> ``Xapp::"<name>"`` (``e2node:``/``ue:`` likewise);
* action: ``Action::"<action>"`` (``rc.handover``, ``rc.slice_quota``, ...);
* resource: ``e2node:<meid>[/cell:<id>[/slice:<s> | /neighbour:<id>]]`` or ``.../ue:<id>``: the type
  is the last segment's kind (``E2Node``, ``Cell`` (a cell, or a cell's relation to a neighbour, as
  cell individual offsets are), ``Slice``, ``Ue``; anything else ``Resource``), the id the
  whole string (an ``E2Node``/``Ue`` resource uses its own id, so its trust entity is the resource);
  the *resource class* (which A1 threshold applies) is that last kind, ``default`` for others;
* context: ``min_trust`` (the class's threshold in thousandths), ``node`` (the E2 node entity, when
  the resource names one), ``ue`` (likewise) and ``pep`` (what the PEP sent).

The context goes to cedarpy as JSON text, which it parses faster than a dict it would serialise.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from ricproto.access import AccessRequest

KIND_TYPES = {"e2node": "E2Node", "cell": "Cell", "neighbour": "Cell", "slice": "Slice", "ue": "Ue"}
SUBJECT_TYPES = {"xapp": "Xapp", "e2node": "E2Node", "ue": "Ue"}
CLASS_OF_TYPE = {"E2Node": "e2node", "Cell": "cell", "Slice": "slice", "Ue": "ue"}  # A1 threshold classes


@dataclass(frozen=True, slots=True)
class ResourceRef:
    cedar_type: str
    cedar_id: str
    resource_class: str
    meid: str | None  # the E2 node the resource belongs to
    ue: str | None

    @property
    def node_subject(self) -> str | None:
        return f"e2node:{self.meid}" if self.meid else None

    @property
    def ue_subject(self) -> str | None:
        return f"ue:{self.ue}" if self.ue else None


@functools.lru_cache(maxsize=65536)  # a loop keeps acting on the same few resources
def parse_resource(resource: str) -> ResourceRef:
    meid = ue = None
    last_kind, last_id = "", resource
    for segment in resource.split("/"):
        kind, sep, ident = segment.partition(":")
        if not sep or not ident:
            return ResourceRef("Resource", resource, "default", None, None)
        if kind == "e2node" and meid is None:
            meid = ident
        elif kind == "ue":
            ue = ident
        last_kind, last_id = kind, ident
    cedar_type = KIND_TYPES.get(last_kind, "Resource")
    cedar_id = last_id if cedar_type in ("E2Node", "Ue") else resource
    return ResourceRef(cedar_type, cedar_id, CLASS_OF_TYPE.get(cedar_type, "default"), meid, ue)


def principal_uid(subject: str) -> dict[str, str] | None:
    kind, sep, ident = subject.partition(":")
    if not sep or not ident or kind not in SUBJECT_TYPES:
        return None
    return {"type": SUBJECT_TYPES[kind], "id": ident}


def cedar_request(req: AccessRequest, ref: ResourceRef, min_trust_milli: int) -> dict:
    principal = principal_uid(req.subject)
    context: dict = {"min_trust": min_trust_milli, "pep": req.context}
    if ref.meid:
        context["node"] = {"__entity": {"type": "E2Node", "id": ref.meid}}
    if ref.ue:
        context["ue"] = {"__entity": {"type": "Ue", "id": ref.ue}}
    return {
        "principal": principal,
        "action": {"type": "Action", "id": req.action},
        "resource": {"type": ref.cedar_type, "id": ref.cedar_id},
        "context": json.dumps(context, separators=(",", ":")),
    }
