"""Quarters, month windows, ARR movements and the retention figures built on them."""

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from valuelib.metrics import (
    arr_movements,
    movement_totals,
    parse_quarter,
    periods,
    quarter_bounds,
    quarter_months,
    quarter_of,
    quarters_between,
    retention_figures,
    shift_quarter,
    trailing_months,
)

# --- quarters -------------------------------------------------------------------------


def test_parse_quarter():
    assert parse_quarter("2026Q3") == (2026, 3)
    assert parse_quarter("1999Q1") == (1999, 1)


@pytest.mark.parametrize(
    "bad",
    [
        "2026Q5",
        "2026Q0",
        "2026-Q3",
        "26Q3",
        "2026q3",
        " 2026Q3",
        "2026Q3\n",
        "",
        2026,
        None,
        "0000Q1",
    ],
)
def test_parse_quarter_rejects_malformed(bad):
    with pytest.raises(ValueError, match=r"^quarter\b"):
        parse_quarter(bad)


def test_quarter_bounds_and_months():
    assert quarter_bounds("2026Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert quarter_bounds("2024Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert quarter_bounds("2026Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_months("2026Q3") == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    with pytest.raises(ValueError, match=r"^quarter\b"):
        quarter_bounds("Q3 2026")
    with pytest.raises(ValueError, match=r"^quarter\b"):
        quarter_months("2026Q9")


def test_quarter_of():
    assert quarter_of(date(2026, 8, 15)) == "2026Q3"
    assert quarter_of(date(2026, 1, 1)) == "2026Q1"
    assert quarter_of(datetime(2026, 12, 31, 23, 59)) == "2026Q4"
    assert quarter_of(pd.Timestamp("2026-04-01")) == "2026Q2"
    with pytest.raises(ValueError, match=r"^d\b"):
        quarter_of("2026-08-15")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^d\b"):
        quarter_of(pd.NaT)


def test_shift_quarter():
    assert shift_quarter("2026Q3", 0) == "2026Q3"
    assert shift_quarter("2026Q3", 1) == "2026Q4"
    assert shift_quarter("2026Q3", 2) == "2027Q1"
    assert shift_quarter("2026Q1", -1) == "2025Q4"
    assert shift_quarter("2026Q3", -11) == "2023Q4"
    with pytest.raises(ValueError, match=r"^n\b"):
        shift_quarter("2026Q3", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^quarter\b"):
        shift_quarter("2026", 1)


def test_quarters_between():
    assert quarters_between("2025Q3", "2026Q2") == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert quarters_between("2026Q3", "2026Q3") == ["2026Q3"]
    with pytest.raises(ValueError, match=r"^b\b"):
        quarters_between("2026Q3", "2026Q2")
    with pytest.raises(ValueError, match=r"^a\b"):
        quarters_between("nope", "2026Q2")


def test_trailing_months():
    assert trailing_months(date(2026, 9, 1)) == (date(2025, 10, 1), date(2026, 9, 1))
    assert trailing_months(date(2026, 9, 1), 3) == (date(2026, 7, 1), date(2026, 9, 1))
    assert trailing_months(date(2026, 2, 1), 1) == (date(2026, 2, 1), date(2026, 2, 1))
    with pytest.raises(ValueError, match=r"^end_month\b"):
        trailing_months(date(2026, 9, 15))
    with pytest.raises(ValueError, match=r"^n\b"):
        trailing_months(date(2026, 9, 1), 0)


# --- ARR movements --------------------------------------------------------------------

JUL, SEP = date(2026, 7, 1), date(2026, 9, 1)


def _history(month_type="date"):
    rows = [
        # flat: 10k throughout
        ("A-flat", date(2026, 6, 1), 10_000),
        ("A-flat", date(2026, 7, 1), 10_000),
        ("A-flat", date(2026, 9, 1), 10_000),
        # expanded 20k -> 30k
        ("B-expand", date(2026, 6, 1), 20_000),
        ("B-expand", date(2026, 8, 1), 25_000),
        ("B-expand", date(2026, 9, 1), 30_000),
        # contracted 40k -> 30k
        ("C-contract", date(2026, 6, 1), 40_000),
        ("C-contract", date(2026, 9, 1), 30_000),
        # churned: 30k in June and July, no row in September
        ("D-churn", date(2026, 6, 1), 30_000),
        ("D-churn", date(2026, 7, 1), 30_000),
        # new in August, 15k in September
        ("E-new", date(2026, 8, 1), 12_000),
        ("E-new", date(2026, 9, 1), 15_000),
        # zero rows at both points, and an account that left long ago: not in the output
        ("F-zero", date(2026, 6, 1), 0),
        ("F-zero", date(2026, 9, 1), 0),
        ("G-gone", date(2026, 3, 1), 5_000),
        # came and went inside the window: neither a start nor an end customer
        ("H-blip", date(2026, 7, 1), 1_000),
    ]
    frame = pd.DataFrame(rows, columns=["account_id", "month", "arr"]).sample(
        frac=1, random_state=3
    )
    if month_type == "datetime64":
        frame["month"] = pd.to_datetime(frame["month"])
    return frame


@pytest.mark.parametrize("month_type", ["date", "datetime64"])
def test_arr_movements_hand_made_history(month_type):
    movements = arr_movements(_history(month_type), JUL, SEP)
    assert list(movements.columns) == [
        "account_id",
        "start_arr",
        "end_arr",
        "new",
        "expansion",
        "contraction",
        "churned",
    ]
    assert list(movements["account_id"]) == ["A-flat", "B-expand", "C-contract", "D-churn", "E-new"]
    expected = pd.DataFrame(
        {
            "start_arr": [10_000, 20_000, 40_000, 30_000, 0],
            "end_arr": [10_000, 30_000, 30_000, 0, 15_000],
            "new": [0, 0, 0, 0, 15_000],
            "expansion": [0, 10_000, 0, 0, 0],
            "contraction": [0, 0, 10_000, 0, 0],
            "churned": [0, 0, 0, 30_000, 0],
        },
        dtype=float,
    )
    pd.testing.assert_frame_equal(movements.drop(columns="account_id"), expected)


def test_movement_totals_and_retention_figures_by_hand():
    movements = arr_movements(_history(), JUL, SEP)
    totals = movement_totals(movements)
    assert totals == {
        "start_arr": 100_000.0,
        "end_arr": 85_000.0,
        "new": 15_000.0,
        "expansion": 10_000.0,
        "contraction": 10_000.0,
        "churned": 30_000.0,
        "start_customers": 4,
        "end_customers": 4,
        "new_customers": 1,
        "cancelled_customers": 1,
    }
    # ARR bridge: start - churned - contraction + expansion + new = end
    assert (
        totals["start_arr"]
        - totals["churned"]
        - totals["contraction"]
        + totals["expansion"]
        + totals["new"]
    ) == totals["end_arr"]

    figures = retention_figures(movements)
    assert figures == pytest.approx(
        {
            "grr": 60.0,  # (100k - 30k - 10k) / 100k
            "nrr": 70.0,  # (100k - 30k - 10k + 10k) / 100k
            "crr": 75.0,  # (4 end - 1 new) / 4 start
            "logo_churn": 25.0,  # 1 of 4
            "gross_drr": 60.0,
            "net_drr": 70.0,
            "gross_revenue_churn": 40.0,
            "net_revenue_churn": 30.0,
        }
    )


def test_trailing_window_compares_with_twelve_months_earlier():
    history = pd.DataFrame(
        {
            "account_id": ["a", "a", "b"],
            "month": [date(2025, 9, 1), date(2026, 9, 1), date(2025, 9, 1)],
            "arr": [100.0, 150.0, 50.0],
        }
    )
    movements = arr_movements(history, *trailing_months(date(2026, 9, 1)))
    figures = retention_figures(movements)
    assert figures["grr"] == pytest.approx(100 * 100 / 150)
    assert figures["nrr"] == pytest.approx(100.0)


def test_one_month_window():
    history = pd.DataFrame(
        {"account_id": ["a", "a"], "month": [date(2026, 8, 1), date(2026, 9, 1)], "arr": [100, 90]}
    )
    movements = arr_movements(history, SEP, SEP)
    assert movements["contraction"].tolist() == [10.0]


def test_no_starting_arr_gives_none_not_an_error():
    history = pd.DataFrame({"account_id": ["n1"], "month": [date(2026, 9, 1)], "arr": [500.0]})
    figures = retention_figures(arr_movements(history, JUL, SEP))
    assert figures == dict.fromkeys(figures)
    assert tuple(figures) == periods.RETENTION_FIGURES
    assert {"grr", "nrr", "crr", "logo_churn"} <= set(figures)


def test_empty_history_gives_empty_movements_and_no_figures():
    empty = pd.DataFrame(
        {
            "account_id": pd.Series([], dtype=object),
            "month": pd.Series([], dtype="datetime64[ns]"),
            "arr": pd.Series([], dtype=float),
        }
    )
    movements = arr_movements(empty, JUL, SEP)
    assert movements.empty
    assert list(movements.columns)[0] == "account_id"
    assert movement_totals(movements)["start_customers"] == 0
    assert all(v is None for v in retention_figures(movements).values())


def _frame(**changes):
    base = {
        "account_id": ["a", "b"],
        "month": [date(2026, 6, 1), date(2026, 9, 1)],
        "arr": [1.0, 2.0],
    }
    base.update(changes)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: arr_movements(_frame(), date(2026, 7, 2), SEP), "start_month"),
        (lambda: arr_movements(_frame(), JUL, datetime(2026, 9, 1, 12)), "end_month"),
        (lambda: arr_movements(_frame(), "2026-07-01", SEP), "start_month"),
        (lambda: arr_movements(_frame(), SEP, JUL), "end_month"),
        (lambda: arr_movements(_frame().drop(columns="arr"), JUL, SEP), "arr_history"),
        (lambda: arr_movements(_frame(arr=[-1.0, 2.0]), JUL, SEP), r"arr_history\.arr"),
        (lambda: arr_movements(_frame(arr=[np.nan, 2.0]), JUL, SEP), r"arr_history\.arr"),
        (lambda: arr_movements(_frame(arr=["x", "2"]), JUL, SEP), r"arr_history\.arr"),
        (
            lambda: arr_movements(_frame(month=[date(2026, 6, 3), date(2026, 9, 1)]), JUL, SEP),
            r"arr_history\.month",
        ),
        (
            lambda: arr_movements(_frame(account_id=["a", None]), JUL, SEP),
            r"arr_history\.account_id",
        ),
        (
            lambda: arr_movements(_frame(account_id=["a", "a"], month=[SEP, SEP]), JUL, SEP),
            "arr_history",
        ),
        (lambda: arr_movements([1, 2], JUL, SEP), "arr_history"),
        (lambda: movement_totals(pd.DataFrame({"start_arr": [1.0]})), "movements"),
        (
            lambda: retention_figures(arr_movements(_frame(), JUL, SEP).assign(churned=-1.0)),
            r"movements\.churned",
        ),
        (
            lambda: retention_figures(arr_movements(_frame(), JUL, SEP).assign(new=np.nan)),
            r"movements\.new",
        ),
    ],
)
def test_errors_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_quarter_year_must_be_ascii_digits():
    with pytest.raises(ValueError, match=r"^quarter\b"):
        parse_quarter("\u0662\u0660\u0662\u0666Q3")  # Arabic-Indic digits
