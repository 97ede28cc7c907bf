"""UE matching conditions of E2SM-KPM subscriptions, evaluated on the RAN model's UEs (vectorized).

Report style 4 selects the UEs it reports by a matchingUeCondList (test conditions), style 3 the
UEs each measurement is aggregated over by a matchingCond list (test conditions or a measurement
label). `UeCondition.parse` turns either into a condition or explains why the node cannot serve it;
`UeCondition.mask` then says, for an array of UE indices, which match at this moment.

Tests the model can evaluate: ``rSRP`` (dBm), ``rSRQ`` (dB), ``ul-rSRP`` (dBm, the UL RSRP at the
serving cell) and ``cQI`` with ``equal``/``greaterthan``/``lessthan``/``present`` and an integer or
real value; ``sNSSAI`` ``equal`` to an S-NSSAI as octets (SST, or SST + SD: 1 or 4 octets). Labels:
``noLabel`` (every UE) and ``sliceID`` (the UEs of that slice). Items are combined left to right; an
item's logicalOR joins it to the next one with OR, otherwise AND (KPM v2 has no logicalOR: AND).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from e2sim.ran.model import RanModel
from ricproto.e2sm import kpm
from ricproto.ran_space import Snssai

# TestCond-Type -> the model's UE radio quantity it compares (RanModel.ue_radio)
RADIO_TESTS = {"rSRP": "RSRP", "rSRQ": "RSRQ", "ul-rSRP": "L1M.UL-SRS-RSRP", "cQI": "CQI"}
TEST_TYPES = (*RADIO_TESTS, "sNSSAI")
EXPRESSIONS = ("equal", "greaterthan", "lessthan", "present")

# One test: (radio quantity or None, function of (UE indices, radio values) -> bool mask)
_Test = Callable[[np.ndarray, dict[str, np.ndarray]], np.ndarray]


def _compare(name: str, expr: str, value: float | None) -> _Test:
    def test(ues: np.ndarray, radio: dict[str, np.ndarray]) -> np.ndarray:
        x = radio[name]
        if expr == "present" or value is None:
            return np.ones(ues.size, dtype=bool)
        if expr == "equal":
            return x == value
        return x > value if expr == "greaterthan" else x < value

    return test


def _slice_test(model: RanModel, snssai: Snssai) -> _Test | str:
    if snssai not in model.slices:
        return f"slice {snssai} is not configured on this node"
    index = model.slices.index(snssai)

    def test(ues: np.ndarray, radio: dict[str, np.ndarray]) -> np.ndarray:
        return model.ue_slice[ues] == index

    return test


def _snssai_of_octets(raw: bytes) -> Snssai | None:
    if len(raw) == 1:
        return Snssai(raw[0])
    if len(raw) == 4:
        return Snssai(raw[0], int.from_bytes(raw[1:], "big"))
    return None


@dataclass(frozen=True)
class UeCondition:
    """A parsed condition list: which radio quantities it reads and how its tests combine."""

    radio_names: tuple[str, ...]
    tests: tuple[_Test, ...]
    ors: tuple[bool, ...]  # ors[n]: item n joins item n + 1 with OR

    @classmethod
    def parse(
        cls, model: RanModel, items: Sequence[tuple[kpm.TestCondInfo | kpm.MeasurementLabel, bool]]
    ) -> UeCondition | str:
        """The condition of ``items`` ((test or label, logicalOR) in order), or why it is not served."""
        tests: list[_Test] = []
        names: list[str] = []
        for n, (choice, _) in enumerate(items):
            test = cls._parse_one(model, choice)
            if isinstance(test, str):
                return f"condition {n}: {test}"
            name, fn = test
            if name is not None:
                names.append(name)
            tests.append(fn)
        return cls(tuple(dict.fromkeys(names)), tuple(tests), tuple(bool(o) for _, o in items))

    @staticmethod
    def _parse_one(
        model: RanModel, choice: kpm.TestCondInfo | kpm.MeasurementLabel
    ) -> tuple[str | None, _Test] | str:
        if isinstance(choice, kpm.MeasurementLabel):
            if choice == kpm.NO_LABEL:
                return None, lambda ues, radio: np.ones(ues.size, dtype=bool)
            s = choice.slice_id
            if s is not None and choice == kpm.MeasurementLabel(slice_id=s):
                test = _slice_test(model, Snssai(s.sst, s.sd))
                return test if isinstance(test, str) else (None, test)
            return "only noLabel and sliceID labels select UEs"
        t = choice
        if t.test_type not in TEST_TYPES:
            return f"test type {t.test_type!r} is not supported ({', '.join(TEST_TYPES)})"
        expr = t.test_expr or "present"
        if expr not in EXPRESSIONS:
            return f"test expression {expr!r} is not supported ({', '.join(EXPRESSIONS)})"
        if t.test_type == "sNSSAI":
            raw = t.test_value[1] if t.test_value is not None and t.test_value[0] == "valueOctS" else None
            snssai = _snssai_of_octets(raw) if isinstance(raw, bytes) and expr == "equal" else None
            if snssai is None:
                return "sNSSAI needs testExpr equal and an S-NSSAI as valueOctS (1 or 4 octets)"
            test = _slice_test(model, snssai)
            return test if isinstance(test, str) else (None, test)
        value = None
        if expr != "present":
            if t.test_value is None or t.test_value[0] not in ("valueInt", "valueReal"):
                return f"{t.test_type} {expr} needs an integer or real test value"
            value = float(t.test_value[1])
        name = RADIO_TESTS[t.test_type]
        return name, _compare(name, expr, value)

    def mask(
        self, model: RanModel, ues: np.ndarray, radio: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Which of ``ues`` match now (``radio``: their radio quantities, read here when not given)."""
        if radio is None or any(n not in radio for n in self.radio_names):
            radio = model.ue_radio(ues, self.radio_names)
        result = np.ones(ues.size, dtype=bool)
        for n, test in enumerate(self.tests):
            ok = test(ues, radio)
            result = ok if n == 0 else (result | ok if self.ors[n - 1] else result & ok)
        return result
