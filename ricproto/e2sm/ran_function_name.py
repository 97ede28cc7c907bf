"""RANfunction-Name (E2SM common): how a RAN function names itself in its definition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ricproto.e2sm.asn1spec import printable


@dataclass(frozen=True, slots=True)
class RanFunctionName:
    """RANfunction-Name (E2SM common)."""

    ran_function_short_name: str
    ran_function_e2sm_oid: str
    ran_function_description: str
    ran_function_instance: int | None = None

    def to_asn(self) -> dict:
        out: dict[str, Any] = {
            "ranFunction-ShortName": printable(self.ran_function_short_name, "RANfunction-Name"),
            "ranFunction-E2SM-OID": printable(self.ran_function_e2sm_oid, "RANfunction-Name"),
            "ranFunction-Description": printable(self.ran_function_description, "RANfunction-Name"),
        }
        if self.ran_function_instance is not None:
            out["ranFunction-Instance"] = self.ran_function_instance
        return out

    @classmethod
    def from_asn(cls, v: dict) -> RanFunctionName:
        return cls(
            v["ranFunction-ShortName"],
            v["ranFunction-E2SM-OID"],
            v["ranFunction-Description"],
            v.get("ranFunction-Instance"),
        )
