"""Periods and ARR movements: quarters, month windows and the retention figures.

Quarters are strings like ``"2026Q3"``. Months are dates on the first day of the month
(docs/architecture.md, "Data contract": ``arr_history.month``). :func:`arr_movements` derives new,
expansion, contraction and churn from month-over-month ARR (docs/architecture.md, "Data contract");
:func:`retention_figures` feeds them to the formulas of docs/metrics.md, "Retention", so every
document computes retention the same way.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

import numpy as np
import pandas as pd

from valuelib.metrics._checks import whole
from valuelib.metrics.retention import crr, drr, grr, logo_churn, nrr, revenue_churn

__all__ = [
    "TREND_QUARTERS",
    "arr_movements",
    "latest_complete_quarter",
    "month_end",
    "months_between",
    "movement_totals",
    "parse_quarter",
    "quarter_at",
    "quarter_bounds",
    "quarter_index",
    "quarter_months",
    "quarter_of",
    "quarters_between",
    "retention_figures",
    "shift_quarter",
    "trailing_months",
]

_QUARTER = re.compile(r"([0-9]{4})Q([1-4])")
_HISTORY_COLUMNS = ("account_id", "month", "arr")
_AMOUNTS = ("start_arr", "end_arr", "new", "expansion", "contraction", "churned")
MOVEMENT_COLUMNS = ("account_id", *_AMOUNTS)
#: Quarters a review's trends show, the review quarter included (usage, NPS, support).
TREND_QUARTERS = 5


# --- quarters -------------------------------------------------------------------------


def _parse(value: object, name: str) -> tuple[int, int]:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string like '2026Q3', got {value!r}")
    match = _QUARTER.fullmatch(value)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{name} must look like '2026Q3' (year, 'Q', 1-4), got {value!r}")
    return int(match.group(1)), int(match.group(2))


def _format(year: int, quarter: int, name: str) -> str:
    if not 1 <= year <= 9999:
        raise ValueError(f"{name} moves the quarter outside the years 1-9999")
    return f"{year:04d}Q{quarter}"


def parse_quarter(q: str) -> tuple[int, int]:
    """Year and quarter number: ``"2026Q3"`` → ``(2026, 3)``.

    Anything else raises ValueError naming ``quarter``. Source: docs/metrics.md, "Periods and
    ARR movements" (``--quarter 2026Q3``).
    """
    return _parse(q, "quarter")


def quarter_bounds(q: str) -> tuple[date, date]:
    """First and last day of a quarter: ``"2026Q3"`` → (2026-07-01, 2026-09-30).

    Quarter k spans months 3k − 2 .. 3k. Source: docs/metrics.md, "Periods and ARR movements".
    """
    year, quarter = _parse(q, "quarter")
    last_month = 3 * quarter
    return (
        date(year, last_month - 2, 1),
        date(year, last_month, calendar.monthrange(year, last_month)[1]),
    )


def quarter_months(q: str) -> list[date]:
    """First days of a quarter's three months: ``"2026Q3"`` → July, August, September 1.

    Months 3k − 2 .. 3k of quarter k, as ``arr_history.month`` holds them (docs/architecture.md,
    "Data contract").
    """
    year, quarter = _parse(q, "quarter")
    return [date(year, 3 * quarter - 2 + i, 1) for i in range(3)]


def quarter_of(d: date) -> str:
    """The quarter a date (or datetime / Timestamp) falls in: 2026-08-15 → ``"2026Q3"``.

    Quarter = (month − 1) // 3 + 1. Source: docs/metrics.md, "Periods and ARR movements".
    """
    if not isinstance(d, date) or d is pd.NaT:
        raise ValueError(f"d must be a date, got {d!r}")
    return f"{d.year:04d}Q{(d.month - 1) // 3 + 1}"


def latest_complete_quarter(as_of: date) -> str:
    """The last quarter that ended on or before `as_of`: 2026-10-31 → ``"2026Q3"``."""
    q = quarter_of(as_of)
    return q if as_of >= quarter_bounds(q)[1] else shift_quarter(q, -1)


def quarter_index(q: str) -> int:
    """The quarter as a count of quarters, 4 × year + (quarter − 1): ``"2026Q3"`` → 8106."""
    year, quarter = _parse(q, "quarter")
    return year * 4 + quarter - 1


def quarter_at(index: int) -> str:
    """The quarter of a `quarter_index`: 8106 → ``"2026Q3"``."""
    return _format(index // 4, index % 4 + 1, "index")


def shift_quarter(q: str, n: int) -> str:
    """The quarter ``n`` quarters after ``q`` (before it when n < 0).

    Counts quarters as 4 × year + (quarter − 1) + n: ("2026Q3", 2) → "2027Q1". Used for
    quarter-over-quarter change (docs/metrics.md, "Review figures").
    """
    index = quarter_index(q) + whole("n", n, minimum=-(10**6))
    return _format(index // 4, index % 4 + 1, "n")


def quarters_between(a: str, b: str) -> list[str]:
    """Every quarter from ``a`` to ``b``, both included, in order; b before a is an error.

    Quarter-index range 4·year(a) + q(a) − 1 .. 4·year(b) + q(b) − 1, for trends
    (docs/metrics.md, "Review figures").
    """
    first = _parse(a, "a")
    last = _parse(b, "b")
    if last < first:
        raise ValueError(f"b must not be before a, got a={a!r}, b={b!r}")
    start = first[0] * 4 + first[1] - 1
    stop = last[0] * 4 + last[1] - 1
    return [f"{i // 4:04d}Q{i % 4 + 1}" for i in range(start, stop + 1)]


# --- months ---------------------------------------------------------------------------


def _month(value: object, name: str) -> pd.Period:
    """A first-of-month date as a monthly Period."""
    if not isinstance(value, date | np.datetime64) or value is pd.NaT:
        raise ValueError(f"{name} must be a date (the first day of a month), got {value!r}")
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ValueError(f"{name} must be a date (the first day of a month), got NaT")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    if stamp.day != 1 or stamp != stamp.normalize():
        raise ValueError(f"{name} must be the first day of a month, got {value!r}")
    return stamp.to_period("M")


def _first_day(period: pd.Period) -> date:
    return date(period.year, period.month, 1)


def trailing_months(end_month: date, n: int = 12) -> tuple[date, date]:
    """The ``n`` months ending with ``end_month``: (first month, end_month), both first days.

    start = end_month − (n − 1) months. Fed to :func:`arr_movements`, the window
    compares ARR n months before ``end_month`` with ARR in ``end_month``
    (trailing-twelve-month retention for n = 12; docs/metrics.md, "Retention").
    """
    end = _month(end_month, "end_month")
    count = whole("n", n, minimum=1)
    return _first_day(end - (count - 1)), _first_day(end)


def month_end(d: date) -> date:
    """The last day of the month `d` falls in: 2026-09-01 → 2026-09-30.

    A monthly figure dated by its month's first day (``arr_history.month``) holds for the
    whole month, so data that ends with it covers the month through this day.
    """
    if not isinstance(d, date) or d is pd.NaT:
        raise ValueError(f"d must be a date, got {d!r}")
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (0 when `end` is not after `start`).

    12 × (years apart) + (months apart), less one when `end`'s day of the month is before
    `start`'s: 2021-03-15 → 2026-09-30 is 66 months, → 2026-09-14 is 65.
    """
    for name, v in (("start", start), ("end", end)):
        if not isinstance(v, date) or v is pd.NaT:
            raise ValueError(f"{name} must be a date, got {v!r}")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day and end != month_end(end):
        months -= 1
    return max(months, 0)


# --- ARR movements --------------------------------------------------------------------


def _history(arr_history: object) -> pd.DataFrame:
    """arr_history checked, with a monthly ``period`` column and float ``arr``."""
    if not isinstance(arr_history, pd.DataFrame):
        raise ValueError(f"arr_history must be a pandas DataFrame, got {type(arr_history)}")
    absent = [c for c in _HISTORY_COLUMNS if c not in arr_history.columns]
    if absent:
        raise ValueError(f"arr_history lacks column(s) {', '.join(absent)}")
    if arr_history["account_id"].isna().any():
        raise ValueError("arr_history.account_id must not be missing")
    try:
        months = pd.to_datetime(arr_history["month"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"arr_history.month must hold dates: {error}") from None
    if months.isna().any():
        raise ValueError("arr_history.month must not be missing")
    if months.dt.tz is not None:
        months = months.dt.tz_localize(None)
    off = (months.dt.day != 1) | (months != months.dt.normalize())
    if off.any():
        raise ValueError(
            f"arr_history.month must be first days of months, got {months[off].iloc[0]}"
        )
    try:
        arr = pd.to_numeric(arr_history["arr"]).astype(float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"arr_history.arr must hold numbers: {error}") from None
    if not np.isfinite(arr.to_numpy()).all():
        raise ValueError("arr_history.arr must hold finite numbers (no NaN or infinity)")
    if (arr < 0).any():
        raise ValueError(f"arr_history.arr must be >= 0, got {arr[arr < 0].iloc[0]}")
    history = pd.DataFrame(
        {
            "account_id": arr_history["account_id"].to_numpy(),
            # A PeriodArray (not .to_numpy(), which would make a Python object of each month).
            "period": months.dt.to_period("M").array,
            "arr": arr.to_numpy(),
        }
    )
    repeated = history.duplicated(["account_id", "period"])
    if repeated.any():
        row = history[repeated].iloc[0]
        raise ValueError(
            f"arr_history has more than one row for account {row['account_id']!r} "
            f"in {row['period']}"
        )
    return history


def arr_movements(arr_history: pd.DataFrame, start_month: date, end_month: date) -> pd.DataFrame:
    """Per-account ARR movements over the months ``start_month``..``end_month``.

    Start ARR is each account's ARR in the month before ``start_month`` (the end of the
    previous period); end ARR its ARR in ``end_month``; a missing row counts as 0.
    churned = start if start > 0 and end = 0; new = end if start = 0 and end > 0;
    otherwise expansion = max(end − start, 0), contraction = max(start − end, 0).
    Returns one row per account with ARR at either point, columns account_id,
    start_arr, end_arr, new, expansion, contraction, churned (floats), sorted by
    account_id; no rows for an empty history. Sources: docs/architecture.md, "Data contract";
    docs/metrics.md, "Periods and ARR movements".
    """
    history = _history(arr_history)
    start = _month(start_month, "start_month")
    end = _month(end_month, "end_month")
    if end < start:
        raise ValueError(f"end_month must not be before start_month, got {end} < {start}")

    before = history.loc[history["period"] == start - 1].set_index("account_id")["arr"]
    after = history.loc[history["period"] == end].set_index("account_id")["arr"]
    ids = before.index.union(after.index)
    s = before.reindex(ids, fill_value=0.0).to_numpy(dtype=float)
    e = after.reindex(ids, fill_value=0.0).to_numpy(dtype=float)
    both = (s > 0) & (e > 0)
    keep = (s > 0) | (e > 0)
    movements = pd.DataFrame(
        {
            "account_id": ids[keep],
            "start_arr": s[keep],
            "end_arr": e[keep],
            "new": np.where((s == 0) & (e > 0), e, 0.0)[keep],
            "expansion": np.where(both, np.maximum(e - s, 0.0), 0.0)[keep],
            "contraction": np.where(both, np.maximum(s - e, 0.0), 0.0)[keep],
            "churned": np.where((s > 0) & (e == 0), s, 0.0)[keep],
        }
    )
    return movements.sort_values("account_id", kind="stable").reset_index(drop=True)


def movement_totals(movements: pd.DataFrame) -> dict[str, float | int]:
    """Sums of :func:`arr_movements` output and customer counts.

    Amounts (floats): start_arr, end_arr, new, expansion, contraction, churned.
    Counts (ints): start_customers (start_arr > 0), end_customers (end_arr > 0),
    new_customers (new > 0), cancelled_customers (churned > 0).
    Source: docs/metrics.md, "Retention" (S, E, N and the ARR inputs).
    """
    if not isinstance(movements, pd.DataFrame):
        raise ValueError(f"movements must be a pandas DataFrame, got {type(movements)}")
    absent = [c for c in _AMOUNTS if c not in movements.columns]
    if absent:
        raise ValueError(f"movements lacks column(s) {', '.join(absent)}")
    columns: dict[str, np.ndarray] = {}
    for name in _AMOUNTS:
        try:
            values = pd.to_numeric(movements[name]).to_numpy(dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"movements.{name} must hold numbers: {error}") from None
        if not np.isfinite(values).all():
            raise ValueError(f"movements.{name} must hold finite numbers (no NaN or infinity)")
        if (values < 0).any():
            raise ValueError(f"movements.{name} must be >= 0")
        columns[name] = values
    totals: dict[str, float | int] = {name: float(values.sum()) for name, values in columns.items()}
    totals["start_customers"] = int((columns["start_arr"] > 0).sum())
    totals["end_customers"] = int((columns["end_arr"] > 0).sum())
    totals["new_customers"] = int((columns["new"] > 0).sum())
    totals["cancelled_customers"] = int((columns["churned"] > 0).sum())
    return totals


#: The figures `retention_figures` returns, in this order.
RETENTION_FIGURES = ("grr", "nrr", "crr", "logo_churn", "gross_drr", "net_drr",
                     "gross_revenue_churn", "net_revenue_churn")


def retention_figures(movements: pd.DataFrame) -> dict[str, float | None]:
    """GRR, NRR, CRR, logo churn, gross/net DRR and gross/net revenue churn, in percent.

    Computed from :func:`movement_totals` with :func:`grr`, :func:`nrr`, :func:`crr`,
    :func:`logo_churn`, :func:`drr` and :func:`revenue_churn` (docs/metrics.md, "Retention").
    Keys: grr, nrr, crr, logo_churn, gross_drr, net_drr, gross_revenue_churn,
    net_revenue_churn. A figure is None when its denominator is 0 — no ARR (revenue
    figures) or no customers (crr, logo_churn) at the start of the window. This is the
    one place callers get "not enough data" as a value rather than a ValueError;
    malformed movements still raise.
    """
    totals = movement_totals(movements)
    figures: dict[str, float | None] = dict.fromkeys(RETENTION_FIGURES)
    arr = (totals["start_arr"], totals["churned"], totals["contraction"], totals["expansion"])
    if totals["start_arr"] > 0:
        figures["grr"] = grr(*arr[:3])
        figures["nrr"] = nrr(*arr)
        figures["gross_drr"] = drr(*arr, kind="gross")
        figures["net_drr"] = drr(*arr, kind="net")
        figures["gross_revenue_churn"] = revenue_churn(*arr, kind="gross")
        figures["net_revenue_churn"] = revenue_churn(*arr, kind="net")
    if totals["start_customers"] > 0:
        figures["crr"] = crr(
            totals["start_customers"], totals["end_customers"], totals["new_customers"]
        )
        figures["logo_churn"] = logo_churn(totals["start_customers"], totals["cancelled_customers"])
    return figures
