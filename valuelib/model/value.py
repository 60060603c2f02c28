"""Value realized against the business case: per driver, per quarter, and against cost.

Formulas (also in every review's methodology appendix):
- improvement = current − baseline for higher-is-better drivers, baseline − current otherwise;
  the baseline is the version in force at the measurement's period end;
- value delivered in a quarter = max(improvement, 0) × unit_value (currency per unit and quarter),
  taken from the driver's last measurement in that quarter;
- promised value per quarter = |target − business-case baseline| × unit_value;
- value realized vs business case = value delivered / promised value × 100;
- subscription cost of a quarter = Σ monthly ARR / 12 over its months;
- ROI, ROI multiple and payback use `valuelib.metrics` (roi, roi_multiple, payback_months), with
  payback = current ARR / (this quarter's value / 3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from valuelib import metrics
from valuelib.metrics import periods

GRADES = {"customer_confirmed": "A", "measured": "B", "estimated": "C"}


@dataclass(frozen=True)
class Driver:
    """One value driver's figures for the review quarter."""

    driver_id: str
    name: str
    unit: str
    direction: str
    unit_value: float
    baseline: float
    business_case_baseline: float
    rebaselined: bool
    rebaseline_date: dt.date | None
    target: float
    current: float | None
    current_period_end: dt.date | None
    stale: bool  # the latest measurement is older than the review quarter
    previous: float | None
    progress_pct: float | None
    business_case_progress_pct: float | None
    value_quarter: float | None
    value_previous_quarter: float | None
    value_to_date: float
    promised_quarter: float
    confidence: str
    grade: str


@dataclass(frozen=True)
class ValueSummary:
    """The account's value figures for one quarter."""

    quarter: str
    value_quarter: float | None
    value_to_date: float
    cost_quarter: float
    cost_to_date: float
    promised_quarter: float
    realized_vs_business_case_pct: float | None
    roi_pct: float | None
    roi_multiple: float | None
    payback_months: float | None
    drivers_measured: int
    drivers_total: int


def improvement(current: float, baseline: float, direction: str) -> float:
    """Movement from baseline in the driver's good direction (negative when it got worse)."""
    return current - baseline if direction == "higher_is_better" else baseline - current


def _as_date(v) -> dt.date:
    return pd.Timestamp(v).date()


def _baseline_at(versions: pd.DataFrame, when: dt.date) -> pd.Series:
    """The baseline version in force at `when` (the business case before any re-baseline)."""
    in_force = versions[pd.to_datetime(versions["baseline_date"]) <= pd.Timestamp(when)]
    rows = in_force if not in_force.empty else versions.iloc[:1]
    return rows.sort_values("baseline_version").iloc[-1]


_VALUE_COLUMNS = ["driver_id", "quarter", "period_end", "value", "confidence", "baseline",
                  "value_money"]


def _version_rows(drivers: pd.DataFrame) -> dict[object, list[tuple[pd.Timestamp, dict]]]:
    """Per driver, its baseline versions in version order as (baseline_date, row) pairs.

    The same order `_baseline_at` sees (``sort_values("baseline_version")`` per driver),
    read once instead of filtering the frame per measurement.
    """
    out: dict[object, list[tuple[pd.Timestamp, dict]]] = {}
    for driver_id, versions in drivers.groupby("driver_id", sort=False):
        versions = versions.sort_values("baseline_version")
        records = [
            {"baseline": baseline, "direction": direction, "unit_value": unit_value}
            for baseline, direction, unit_value in zip(
                versions["baseline"], versions["direction"], versions["unit_value"], strict=True
            )
        ]
        dates = pd.to_datetime(versions["baseline_date"])
        out[driver_id] = list(zip(dates, records, strict=True))
    return out


def _in_force(versions: list[tuple[pd.Timestamp, dict]], when: dt.date) -> dict:
    """`_baseline_at` on pre-read versions: the last version (in version order) dated on
    or before `when`, else the first (the business case)."""
    stamp = pd.Timestamp(when)
    chosen = None
    for date, row in versions:
        if date <= stamp:  # NaT compares False: never in force, as in `_baseline_at`
            chosen = row
    return chosen if chosen is not None else versions[0][1]


def measurement_values(drivers: pd.DataFrame, measurements: pd.DataFrame) -> pd.DataFrame:
    """Each measurement with its quarter, baseline in force, improvement and money value.

    Only the last measurement per driver and quarter counts; measurements of drivers the
    account does not have are left out (the contract check reports them).
    """
    cols = _VALUE_COLUMNS
    if drivers.empty or measurements.empty:
        return pd.DataFrame(columns=cols)
    m = measurements.sort_values("period_end")
    m = m.assign(quarter=[periods.quarter_of(_as_date(d)) for d in m["period_end"]])
    m = m.groupby(["driver_id", "quarter"], as_index=False).last()
    by_driver = _version_rows(drivers)
    rows = []
    # `m` is ordered by driver and quarter (the groupby's keys), the order of the result.
    for driver_id, quarter, period_end, raw, confidence in zip(
        m["driver_id"], m["quarter"], m["period_end"], m["value"], m["confidence"], strict=True
    ):
        versions = by_driver.get(driver_id)
        if not versions:
            continue
        when = _as_date(period_end)
        b = _in_force(versions, when)
        gain = improvement(float(raw), float(b["baseline"]), str(b["direction"]))
        rows.append(
            {
                "driver_id": driver_id,
                "quarter": quarter,
                "period_end": when,
                "value": float(raw),
                "confidence": confidence,
                "baseline": float(b["baseline"]),
                "value_money": max(gain, 0.0) * float(b["unit_value"]),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def quarterly_cost(arr_history: pd.DataFrame) -> pd.Series:
    """Subscription cost per quarter: Σ monthly ARR / 12, indexed by quarter."""
    if arr_history.empty:
        return pd.Series(dtype=float)
    q = [periods.quarter_of(_as_date(m)) for m in arr_history["month"]]
    return (arr_history["arr"].astype(float) / 12.0).groupby(q).sum().sort_index()


def value_over_time(drivers: pd.DataFrame, measurements: pd.DataFrame,
                    arr_history: pd.DataFrame, quarter: str, *,
                    values: pd.DataFrame | None = None,
                    cost: pd.Series | None = None) -> pd.DataFrame:
    """Per quarter up to `quarter`: value delivered, cost, and both cumulated.

    `values` (``measurement_values(drivers, measurements)``) and `cost`
    (``quarterly_cost(arr_history)``) may be passed in when the caller has them already.
    """
    if values is None:
        values = measurement_values(drivers, measurements)
    if cost is None:
        cost = quarterly_cost(arr_history)
    quarters = sorted(set(cost.index) | set(values["quarter"]))
    quarters = [q for q in quarters if q <= quarter]
    if not quarters:
        return pd.DataFrame(columns=["quarter", "period_end", "value", "cost",
                                     "cumulative_value", "cumulative_cost"])
    quarters = periods.quarters_between(quarters[0], quarter)
    by_q = values.groupby("quarter")["value_money"].sum() if not values.empty else pd.Series()
    df = pd.DataFrame({"quarter": quarters})
    df["period_end"] = [periods.quarter_bounds(q)[1] for q in quarters]
    df["value"] = [float(by_q.get(q, 0.0)) for q in quarters]
    df["cost"] = [float(cost.get(q, 0.0)) for q in quarters]
    df["cumulative_value"] = df["value"].cumsum()
    df["cumulative_cost"] = df["cost"].cumsum()
    return df


def _safe(fn, *args):
    """A metric, or None where its inputs make it meaningless (zero cost, no value)."""
    try:
        return fn(*args)
    except ValueError:
        return None


def summarize(drivers: pd.DataFrame, measurements: pd.DataFrame, arr_history: pd.DataFrame,
              quarter: str, *, values: pd.DataFrame | None = None,
              cost: pd.Series | None = None) -> ValueSummary:
    """Headline value figures for `quarter` (call it again for the previous quarter).

    `values` and `cost` as in `value_over_time`: computed once by a caller that
    summarizes several quarters of the same account.
    """
    if values is None:
        values = measurement_values(drivers, measurements)
    series = value_over_time(drivers, measurements, arr_history, quarter, values=values,
                             cost=cost)
    in_q = values[values["quarter"] == quarter] if not values.empty else values
    value_q = float(in_q["value_money"].sum()) if not in_q.empty else None
    row = series[series["quarter"] == quarter]
    value_to_date = float(row["cumulative_value"].iloc[0]) if not row.empty else 0.0
    cost_to_date = float(row["cumulative_cost"].iloc[0]) if not row.empty else 0.0
    cost_q = float(row["cost"].iloc[0]) if not row.empty else 0.0
    promised = promised_per_quarter(drivers, set(in_q["driver_id"]) if not in_q.empty else set())
    realized = value_q / promised * 100.0 if value_q is not None and promised > 0 else None
    arr_now = current_arr(arr_history, quarter)
    payback = None
    if value_q and arr_now:
        payback = _safe(metrics.payback_months, arr_now, value_q / 3.0)
    n_total = drivers["driver_id"].nunique() if not drivers.empty else 0
    # ROI needs at least one measurement up to the quarter: no measurement is no data, not 0×.
    measured = not values.empty and bool((values["quarter"] <= quarter).any())
    return ValueSummary(
        quarter=quarter,
        value_quarter=value_q,
        value_to_date=value_to_date,
        cost_quarter=cost_q,
        cost_to_date=cost_to_date,
        promised_quarter=promised,
        realized_vs_business_case_pct=realized,
        roi_pct=_safe(metrics.roi, value_to_date, cost_to_date) if measured else None,
        roi_multiple=_safe(metrics.roi_multiple, value_to_date, cost_to_date) if measured
        else None,
        payback_months=payback,
        drivers_measured=int(in_q["driver_id"].nunique()) if not in_q.empty else 0,
        drivers_total=int(n_total),
    )


def promised_per_quarter(drivers: pd.DataFrame, only: set[str] | None = None) -> float:
    """Σ |target − business-case baseline| × unit_value over the drivers (or those in `only`)."""
    if drivers.empty:
        return 0.0
    first = drivers.sort_values("baseline_version").groupby("driver_id").first()
    if only is not None:
        first = first[first.index.isin(only)]
    return float(((first["target"] - first["baseline"]).abs() * first["unit_value"]).sum())


def current_arr(arr_history: pd.DataFrame, quarter: str) -> float | None:
    """ARR in the last month of `quarter` that has a row (None if the account had none)."""
    _, last = periods.quarter_bounds(quarter)
    h = arr_history[pd.to_datetime(arr_history["month"]) <= pd.Timestamp(last)]
    if h.empty:
        return None
    return float(h.sort_values("month")["arr"].iloc[-1])


def drivers_for_quarter(drivers: pd.DataFrame, measurements: pd.DataFrame,
                        quarter: str, *, values: pd.DataFrame | None = None) -> list[Driver]:
    """Per driver: baselines, current and previous value, progress, money value, grade.

    `values` as in `value_over_time`.
    """
    if drivers.empty:
        return []
    first, last = periods.quarter_bounds(quarter)
    prev_q = periods.shift_quarter(quarter, -1)
    if values is None:
        values = measurement_values(drivers, measurements)
    out = []
    for driver_id, versions in drivers.groupby("driver_id", sort=True):
        versions = versions.sort_values("baseline_version")
        case = versions.iloc[0]
        now = _baseline_at(versions, last)
        v = values[values["driver_id"] == driver_id] if not values.empty else values
        upto = v[v["quarter"] <= quarter] if not v.empty else v
        cur = upto.iloc[-1] if not upto.empty else None
        prev_rows = v[v["quarter"] <= prev_q] if not v.empty else v
        prev = prev_rows.iloc[-1] if not prev_rows.empty else None
        in_q = v[v["quarter"] == quarter] if not v.empty else v
        in_prev = v[v["quarter"] == prev_q] if not v.empty else v
        current = float(cur["value"]) if cur is not None else None
        target = float(now["target"])
        rebaselined = int(now["baseline_version"]) > int(case["baseline_version"])
        confidence = str(cur["confidence"]) if cur is not None else str(now["confidence"])
        out.append(
            Driver(
                driver_id=str(driver_id),
                name=str(now["name"]),
                unit=str(now["unit"]),
                direction=str(now["direction"]),
                unit_value=float(now["unit_value"]),
                baseline=float(now["baseline"]),
                business_case_baseline=float(case["baseline"]),
                rebaselined=rebaselined,
                rebaseline_date=_as_date(now["baseline_date"]) if rebaselined else None,
                target=target,
                current=current,
                current_period_end=cur["period_end"] if cur is not None else None,
                stale=cur is not None and cur["period_end"] < first,
                previous=float(prev["value"]) if prev is not None else None,
                progress_pct=_safe(metrics.value_realized_pct, float(now["baseline"]), current,
                                   target) if current is not None else None,
                business_case_progress_pct=_safe(
                    metrics.value_realized_pct, float(case["baseline"]), current,
                    float(case["target"])) if current is not None else None,
                value_quarter=float(in_q["value_money"].sum()) if not in_q.empty else None,
                value_previous_quarter=(float(in_prev["value_money"].sum())
                                        if not in_prev.empty else None),
                value_to_date=float(upto["value_money"].sum()) if not upto.empty else 0.0,
                promised_quarter=abs(float(case["target"]) - float(case["baseline"]))
                * float(case["unit_value"]),
                confidence=confidence,
                grade=GRADES.get(confidence, "C"),
            )
        )
    return out
