"""Bundle serialisation: the column-at-a-time conversion gives exactly what `cell` gives."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from valuelib.data import bundle


def _reference(df: pd.DataFrame) -> dict:
    """The definition: `bundle.cell` applied to every value, row by row."""
    rows = [[bundle.cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return {"columns": [str(c) for c in df.columns], "rows": rows}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": ["a", None, "ქართული", "Հայերեն"],
            "day": pd.to_datetime(["2026-01-31", None, "2026-03-31", "2026-02-28"]),
            "stamp": pd.to_datetime(
                ["2026-01-31 10:15:00", None, "2026-03-31 00:00:00", "2026-02-28 00:00:00"]
            ),
            "amount": [1.5, np.nan, -0.0, 1e12],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "whole": np.array([1, 2, 3, 4], dtype="int64"),
            "flag": pd.array([True, None, False, True], dtype="boolean"),
            "plain_flag": [True, False, True, False],
            "mixed": [dt.date(2026, 1, 1), 2, 2.5, None],
        }
    )


def test_frame_to_json_equals_cell_by_cell():
    df = _frame()
    assert bundle.dumps(bundle.frame_to_json(df)) == bundle.dumps(_reference(df))


@pytest.mark.parametrize("rows", [slice(0, 0), slice(0, 1), slice(1, 2)])
def test_frame_to_json_on_slices(rows):
    df = _frame().iloc[rows].reset_index(drop=True)
    assert bundle.frame_to_json(df) == _reference(df)


def test_frame_to_json_is_json_safe():
    payload = bundle.frame_to_json(_frame())
    text = json.dumps(payload, allow_nan=False)  # NaN/NaT/NA would raise here
    assert '"2026-01-31T10:15:00"' in text and '"2026-01-31"' in text
    assert payload["rows"][1] == [None, None, None, None, None, 2, None, False, 2]


def test_timestamps_with_and_without_fractions_of_a_second_as_cell_gives_them():
    df = pd.DataFrame({
        "seconds": pd.to_datetime(["1999-12-31 23:59:59", None, "2026-03-01 00:00:00",
                                   "2026-03-01 00:00:01"]),
        "fractions": pd.to_datetime(["2026-01-31 10:15:00.25", None, "2026-03-01",
                                     "2026-03-01 00:00:00.000001"], format="ISO8601"),
    })
    assert bundle.frame_to_json(df) == _reference(df)
    assert bundle.frame_to_json(df)["rows"][0] == ["1999-12-31T23:59:59",
                                                   "2026-01-31T10:15:00.250000"]
