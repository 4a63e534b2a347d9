"""``--json`` output is strict JSON: finite numbers as written, NaN and infinities as null."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from quantdesk.cli.common import print_json


def _printed(payload: object, capsys: pytest.CaptureFixture[str]) -> str:
    print_json(payload)
    return capsys.readouterr().out


def test_non_finite_numbers_anywhere_become_null(capsys: pytest.CaptureFixture[str]) -> None:
    payload = {
        "sharpe": float("nan"),
        "series": [1.5, float("inf"), -float("inf")],
        "nested": {"value": np.float64("nan"), "rows": ({"x": np.float32(2.5)},)},
    }
    assert json.loads(_printed(payload, capsys)) == {
        "sharpe": None,
        "series": [1.5, None, None],
        "nested": {"value": None, "rows": [{"x": 2.5}]},
    }


def test_finite_output_is_indented_json_of_plain_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = {
        "date": date(2024, 1, 2),
        "path": Path("/tmp/x"),
        "count": np.int64(3),
        "weight": np.float64(0.1),
        "flag": np.bool_(True),
        "pair": (1, 2),
        7: None,
    }
    text = _printed(payload, capsys)
    assert text.endswith("}\n")
    assert '\n  "date": "2024-01-02",' in text
    assert json.loads(text) == {
        "date": "2024-01-02",
        "path": "/tmp/x",
        "count": 3,
        "weight": 0.1,
        "flag": True,
        "pair": [1, 2],
        "7": None,
    }
