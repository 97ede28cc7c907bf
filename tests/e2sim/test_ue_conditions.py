"""UE matching conditions (KPM styles 3 and 4) on the RAN model: parsing, refusals, evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from e2sim.ran.model import RanModel
from e2sim.scenario import load_scenario
from e2sim.ue_conditions import UeCondition
from ricproto.e2sm import kpm
from ricproto.e2sm.identities import SNssai


@pytest.fixture(scope="module")
def model() -> RanModel:
    m = RanModel(load_scenario("small"), seed=4)
    m.run(0.5)
    return m


def cond_info(kind: str, expr: str | None = None, value: tuple | None = None) -> kpm.TestCondInfo:
    return kpm.TestCondInfo(kind, expr, value)


def mask(model: RanModel, items: list[tuple[object, bool]]) -> np.ndarray:
    condition = UeCondition.parse(model, items)  # type: ignore[arg-type]
    assert isinstance(condition, UeCondition), condition
    return condition.mask(model, np.arange(model.n_ues))


def test_tests_compare_the_models_radio_quantities(model: RanModel) -> None:
    radio = model.ue_radio(np.arange(model.n_ues))
    cut = float(np.median(radio["RSRQ"]))
    assert np.array_equal(
        mask(model, [(cond_info("rSRQ", "lessthan", ("valueReal", cut)), False)]), radio["RSRQ"] < cut
    )
    cqi_7 = mask(model, [(cond_info("cQI", "equal", ("valueInt", 7)), False)])
    assert np.array_equal(cqi_7, radio["CQI"] == 7)
    ul = radio["L1M.UL-SRS-RSRP"]
    assert np.array_equal(
        mask(model, [(cond_info("ul-rSRP", "greaterthan", ("valueInt", -110)), False)]), ul > -110
    )
    assert mask(model, [(cond_info("rSRP"), False)]).all()  # no expression: present


def test_or_and_and_combine_left_to_right(model: RanModel) -> None:
    radio = model.ue_radio(np.arange(model.n_ues))
    low, high = np.percentile(radio["RSRP"], [20, 80])
    lo = cond_info("rSRP", "lessthan", ("valueReal", float(low)))
    hi = cond_info("rSRP", "greaterthan", ("valueReal", float(high)))
    embb = kpm.MeasurementLabel(slice_id=SNssai(1, 1))
    either = mask(model, [(lo, True), (hi, False)])
    assert np.array_equal(either, (radio["RSRP"] < low) | (radio["RSRP"] > high))
    in_embb = model.ue_slice == model.slices.index(model.slices[0])
    both = mask(model, [(lo, True), (hi, False), (embb, False)])
    assert np.array_equal(both, either & in_embb)
    octets = mask(model, [(cond_info("sNSSAI", "equal", ("valueOctS", b"\x01\x00\x00\x01")), False)])
    assert np.array_equal(octets, in_embb)
    assert mask(model, [(kpm.NO_LABEL, False)]).all()


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (cond_info("gBR", "present"), "test type 'gBR' is not supported"),
        (cond_info("rSRP", "contains", ("valueInt", 1)), "test expression 'contains'"),
        (cond_info("rSRP", "lessthan", ("valuePrtS", "x")), "needs an integer or real test value"),
        (cond_info("sNSSAI", "equal", ("valueOctS", b"\x01\x02")), "S-NSSAI as valueOctS"),
        (cond_info("sNSSAI", "equal", ("valueOctS", b"\x09")), "slice 9 is not configured"),
        (kpm.MeasurementLabel(five_qi=9), "only noLabel and sliceID labels"),
    ],
)
def test_unsupported_conditions_say_why(model: RanModel, item: object, why: str) -> None:
    result = UeCondition.parse(model, [(cond_info("cQI", "present"), False), (item, False)])  # type: ignore[list-item]
    assert isinstance(result, str) and result.startswith("condition 1: ") and why in result
