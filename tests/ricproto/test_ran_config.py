"""controls.ran parses into the geometry the xApp and the twin share, and bad sections are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricproto.ran_config import RanConfig, RanConfigError
from ricproto.ran_space import Snssai

DESCRIPTOR = Path(__file__).resolve().parents[2] / "xapps" / "control" / "config-file.json"


def test_the_shipped_descriptor() -> None:
    ran = json.loads(DESCRIPTOR.read_text())["controls"]["ran"]
    cfg = RanConfig.from_config(ran)
    assert cfg.space.max_cells == 7 and cfg.space.slices[1] == Snssai(2, 2)
    assert cfg.layout.nr_cell_ids[0] == 16385 and cfg.layout.neighbours[0] == (1, 2, 3)
    assert cfg.cells[6].meid == "gnb_001_001_000007" and len(cfg.meids) == 7
    assert cfg.report_period_ms == 100 and cfg.default_quotas[1].dedicated_ratio == 10


@pytest.mark.parametrize(
    "ran, reason",
    [
        ({"slices": [{"sst": 1}]}, "cells"),
        ({"slices": [{"sst": 1}], "cells": [{"nr_cell_id": 1, "meid": "a", "neighbours": [9]}]}, "9"),
        (
            {
                "slices": [{"sst": 1}],
                "max_cells": 1,
                "cells": [{"nr_cell_id": 1, "meid": "a"}, {"nr_cell_id": 2, "meid": "a"}],
            },
            "max_cells",
        ),
        ({"slices": [{"sst": 300}], "cells": []}, "SST"),
        (
            {"slices": [{"sst": 1}], "cells": [{"nr_cell_id": 1, "meid": "a"}], "report_period_ms": 0},
            "period",
        ),
    ],
)
def test_bad_sections_are_refused(ran: dict, reason: str) -> None:
    with pytest.raises(RanConfigError, match=reason):
        RanConfig.from_config(ran)
