"""ARR history from what billing systems export: subscription lines or invoice lines.

Pure functions on DataFrames, no I/O. `arr_history` (account_id, month = first day, arr) is a
month-end snapshot: the row of a month holds the ARR in force on that month's last day (on the
as-of date in the as-of month), so a line that starts, changes or ends in July shows in July's
row and a quarter's retention (June's row against September's) spans exactly that quarter.
The rules, with a worked example, are in docs/import.md.

A line is in force from its start date (included) to its end date (excluded); no end date
means it goes on. Its annual value:

- a subscription line: amount × quantity × 12 / (months per interval × interval count);
- an invoice line: amount × 12 / calendar months of the period it covers.

An account's ARR on a day is the sum of the annual values of its lines in force that day, never
below 0 (credits beyond the charges count as 0). Overlapping lines add up; a credit or refund
line (a negative amount) subtracts for the period it covers. Rows run from an account's first
month with ARR to its last; months of a gap inside that span are rows of 0, so a return after
a gap counts as new again. Amounts are rounded to cents.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from valuelib.metrics.periods import arr_movements

__all__ = [
    "INTERVAL_MONTHS",
    "annual_value",
    "invoice_arr",
    "month_movements",
    "months_covered",
    "subscription_arr",
]

#: Months in one billing interval: the one place that annualises an amount.
INTERVAL_MONTHS: dict[str, float] = {
    "day": 12 / 365,
    "week": 12 / 52,
    "month": 1.0,
    "quarter": 3.0,
    "year": 12.0,
}

_SPAN_COLUMNS = ("account_id", "start", "end", "annual")


def annual_value(amount: float, interval: str, interval_count: float = 1,
                 quantity: float = 1) -> float:
    """ARR of one subscription line: amount × quantity × 12 / (months per interval × count).

    `interval` is one of INTERVAL_MONTHS (day, week, month, quarter, year); 100 a month for 3
    seats is 3,600 a year.
    """
    if interval not in INTERVAL_MONTHS:
        raise ValueError(f"interval must be one of {', '.join(INTERVAL_MONTHS)}, got {interval!r}")
    if not interval_count or interval_count <= 0:
        raise ValueError(f"interval_count must be more than 0, got {interval_count!r}")
    return float(amount) * float(quantity) * 12.0 / (INTERVAL_MONTHS[interval] * interval_count)


def months_covered(start: date, end: date) -> float:
    """Calendar months from `start` to `end` (excluded): whole months, then the days left as
    a fraction of the month they fall in. 5 Jan to 5 Feb is 1.0; 15 to 30 March is 15/31.
    """
    if end <= start:
        raise ValueError(f"a period must end after it starts, got {start} to {end}")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    anchor = _add_months(start, months)
    rest = (end - anchor).days
    if rest == 0:
        return float(months)
    days_in = calendar.monthrange(anchor.year, anchor.month)[1]
    return months + rest / days_in


def _add_months(d: date, n: int) -> date:
    index = d.year * 12 + d.month - 1 + n
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def subscription_arr(lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Month-end ARR snapshots from subscription lines.

    `lines` has account_id, start, end (missing: ongoing), amount, interval, and optionally
    interval_count and quantity (1 when absent). Returns account_id, month, arr.
    """
    _need(lines, ("account_id", "start", "end", "amount", "interval"), "lines")
    count = lines["interval_count"] if "interval_count" in lines else pd.Series(1, lines.index)
    qty = lines["quantity"] if "quantity" in lines else pd.Series(1, lines.index)
    annual = [
        annual_value(a, i, 1 if pd.isna(c) else c, 1 if pd.isna(q) else q)
        for a, i, c, q in zip(lines["amount"], lines["interval"], count, qty, strict=True)
    ]
    spans = pd.DataFrame({"account_id": lines["account_id"], "start": lines["start"],
                          "end": lines["end"], "annual": annual})
    return _snapshots(spans, as_of)


def invoice_arr(lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Month-end ARR snapshots from invoice or payment lines.

    `lines` has account_id, amount, period_start and period_end (excluded); each line counts
    for the period it covers, annualised by `months_covered`. A negative amount (a credit
    note or refund) subtracts for its period. Returns account_id, month, arr.
    """
    _need(lines, ("account_id", "amount", "period_start", "period_end"), "lines")
    annual = [
        float(a) * 12.0 / months_covered(_day(s), _day(e))
        for a, s, e in zip(lines["amount"], lines["period_start"], lines["period_end"],
                           strict=True)
    ]
    spans = pd.DataFrame({"account_id": lines["account_id"], "start": lines["period_start"],
                          "end": lines["period_end"], "annual": annual})
    return _snapshots(spans, as_of)


def month_movements(history: pd.DataFrame, last_month: date) -> pd.DataFrame:
    """Each account's movement in each month from its first row to `last_month`.

    Classified by `metrics.periods.arr_movements` one month at a time (the same rule as every
    document): columns account_id, month, arr, movement (new, expansion, contraction, churn
    or flat). A month after the last row of a churned account is its churn month.
    """
    _need(history, ("account_id", "month", "arr"), "history")
    if history.empty:
        return pd.DataFrame(columns=["account_id", "month", "arr", "movement"])
    months = pd.period_range(pd.Timestamp(min(history["month"])), pd.Timestamp(last_month),
                             freq="M")
    rows = []
    for period in months:
        first = date(period.year, period.month, 1)
        mv = arr_movements(history, first, first)
        for r in mv.itertuples(index=False):
            kind = ("new" if r.new > 0 else "churn" if r.churned > 0 else
                    "expansion" if r.expansion > 0 else
                    "contraction" if r.contraction > 0 else "flat")
            rows.append((r.account_id, first, float(r.end_arr), kind))
    out = pd.DataFrame(rows, columns=["account_id", "month", "arr", "movement"])
    return out.sort_values(["account_id", "month"], kind="stable").reset_index(drop=True)


def _need(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise ValueError(f"{name} lacks column(s) {', '.join(absent)}")


def _day(value: object) -> date:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        raise ValueError("a line lacks a date")
    return pd.Timestamp(value).date()


def _snapshots(spans: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """ARR on each month's last day (on `as_of` in its month) per account, trimmed to the
    account's first and last month with ARR; gaps in between are rows of 0."""
    columns = ["account_id", "month", "arr"]
    if spans.empty:
        return pd.DataFrame(columns=columns)
    start = pd.to_datetime(spans["start"]).dt.normalize()
    end = pd.to_datetime(spans["end"]).dt.normalize()
    if start.isna().any():
        raise ValueError("every line needs a start date")
    if ((end <= start) & end.notna()).any():
        bad = spans[(end <= start) & end.notna()].iloc[0]
        raise ValueError(f"a line of account {bad['account_id']!r} ends on or before it starts")
    annual = pd.to_numeric(spans["annual"]).astype(float).to_numpy()
    accounts = spans["account_id"].astype(str).to_numpy()
    cutoff = pd.Timestamp(as_of)
    first = start.min()
    if first > cutoff:
        return pd.DataFrame(columns=columns)
    frames = []
    for period in pd.period_range(first, cutoff, freq="M"):
        day = min(period.end_time.normalize(), cutoff)
        live = ((start <= day) & (end.isna() | (end > day))).to_numpy()
        if not live.any():
            continue
        sums = pd.Series(annual[live]).groupby(accounts[live]).sum()
        frames.append(pd.DataFrame({"account_id": sums.index, "period": period,
                                    "arr": sums.to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=columns)
    snap = pd.concat(frames, ignore_index=True)
    snap["arr"] = snap["arr"].clip(lower=0).round(2)
    rows = []
    for account, g in snap.groupby("account_id", sort=True):
        g = g.set_index("period")["arr"]
        paying = g[g > 0]
        if paying.empty:
            continue
        full = g.reindex(pd.period_range(paying.index.min(), paying.index.max(), freq="M"),
                         fill_value=0.0)
        rows.extend((account, date(p.year, p.month, 1), float(v)) for p, v in full.items())
    return pd.DataFrame(rows, columns=columns)
