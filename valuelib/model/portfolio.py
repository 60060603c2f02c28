"""The portfolio review's figures for CS leadership, from the portfolio bundle.

Money is converted to one reporting currency with the FX rates the portfolio is given
(params/portfolio.yaml): retention ratios mix accounts in different currencies, so they are
computed on converted ARR. Retention uses `metrics.arr_movements` and
`metrics.retention_figures`, so it is fed the same way as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import metrics
from ..bundle import Bundle
from ..metrics import periods
from . import adoption, health, value

DEFAULT_MARGIN = 0.8
DEFAULT_ANNUAL_DISCOUNT = 0.10
PROJECTION_QUARTERS = 12
BACKTEST_QUARTERS = 4
MIN_SBG_ACCOUNTS = 10


class FXError(ValueError):
    """An account's currency has no FX rate to the reporting currency."""


@dataclass
class SegmentProjection:
    segment: str
    accounts: int
    alpha: float | None
    beta: float | None
    observed: pd.DataFrame  # period, survival_pct
    projected: pd.DataFrame  # period, survival_pct
    arpa_quarter: float | None
    ltv: float | None
    note: str = ""


@dataclass
class Portfolio:
    quarter: str
    as_of: dt.date
    currency: str
    accounts: pd.DataFrame  # one row per account with ARR, health, band, renewal
    retention_quarter: dict
    retention_ttm: dict
    by_segment: pd.DataFrame
    by_csm: pd.DataFrame
    cohorts: pd.DataFrame
    projections: list[SegmentProjection]
    renewals: pd.DataFrame
    at_risk_by_band: pd.DataFrame
    backtest: dict
    value_quarter: float
    value_to_date: float
    value_by_segment: pd.DataFrame
    fx_rates: dict[str, float] = field(default_factory=dict)


def _rate(currency: str, reporting: str, fx: dict[str, float]) -> float:
    if currency == reporting:
        return 1.0
    if currency not in fx:
        raise FXError(f"no FX rate from {currency} to {reporting}: add it to fx_rates in "
                      "params/portfolio.yaml")
    return float(fx[currency])


def _converted_arr(b: Bundle, reporting: str, fx: dict[str, float]) -> pd.DataFrame:
    acc = b.table("accounts")[["account_id", "currency"]]
    arr = b.table("arr_history").merge(acc, on="account_id", how="left")
    rates = {c: _rate(c, reporting, fx) for c in arr["currency"].dropna().unique()}
    arr["arr"] = arr["arr"].astype(float) * arr["currency"].map(rates).astype(float)
    return arr[["account_id", "month", "arr"]]


def _month(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, 1)


def _retention(arr: pd.DataFrame, first_month: dt.date, last_month: dt.date,
               accounts: pd.DataFrame, by: str | None = None) -> pd.DataFrame | dict:
    mv = metrics.arr_movements(arr, first_month, last_month)
    if by is None:
        return metrics.retention_figures(mv)
    mv = mv.merge(accounts[["account_id", by]], on="account_id", how="left")
    rows = []
    for group, g in mv.groupby(by):
        figs = metrics.retention_figures(g.drop(columns=[by]))
        tot = metrics.movement_totals(g.drop(columns=[by]))
        rows.append({"group": group, **figs, "start_arr": tot["start_arr"],
                     "accounts": tot["start_customers"]})
    return pd.DataFrame(rows)


def _cohorts(arr: pd.DataFrame, accounts: pd.DataFrame, quarter: str) -> pd.DataFrame:
    """Logo retention % by start-quarter cohort (rows) and quarters since start (columns)."""
    start_q = {a: periods.quarter_of(pd.Timestamp(s).date())
               for a, s in zip(accounts["account_id"], accounts["start_date"], strict=True)}
    active_q: dict[str, set[str]] = {}
    for a, m, v in zip(arr["account_id"], arr["month"], arr["arr"], strict=True):
        if v > 0:
            active_q.setdefault(a, set()).add(periods.quarter_of(pd.Timestamp(m).date()))
    data: dict[str, dict[int, float]] = {}
    for cohort in sorted(set(start_q.values())):
        if cohort > quarter:
            continue
        members = [a for a, q in start_q.items() if q == cohort]
        span = len(periods.quarters_between(cohort, quarter))
        row = {}
        for k in range(span):
            q = periods.shift_quarter(cohort, k)
            alive = sum(1 for a in members if q in active_q.get(a, set()))
            row[k] = alive / len(members) * 100.0
        data[cohort] = row
    df = pd.DataFrame.from_dict(data, orient="index").sort_index()
    df.index.name = "cohort"
    return df


def _projection(segment: str, accounts: pd.DataFrame, arr: pd.DataFrame, quarter: str,
                margin: float, annual_discount: float) -> SegmentProjection:
    """Fit sBG to the segment's oldest full-year cohort, then project retention and LTV."""
    seg = accounts[accounts["segment"] == segment]
    starts = seg.assign(sq=[periods.quarter_of(pd.Timestamp(s).date()) for s in seg["start_date"]])
    if starts.empty:
        return SegmentProjection(segment, 0, None, None, pd.DataFrame(), pd.DataFrame(), None,
                                 None, "no accounts")
    first_q = min(starts["sq"])
    cohort_qs = {periods.shift_quarter(first_q, k) for k in range(4)}
    cohort = starts[starts["sq"].isin(cohort_qs)]
    last_cohort_q = max(cohort["sq"])
    horizon = len(periods.quarters_between(last_cohort_q, quarter)) - 1
    churn = {a: pd.Timestamp(c).date() for a, c in zip(seg["account_id"], seg["churn_date"],
                                                       strict=True) if not pd.isna(c)}
    survivors = [len(cohort)]
    for k in range(1, horizon + 1):
        alive = 0
        for a, sq in zip(cohort["account_id"], cohort["sq"], strict=True):
            _, end = periods.quarter_bounds(periods.shift_quarter(sq, k))
            if a not in churn or churn[a] > end:
                alive += 1
        survivors.append(alive)
    observed = pd.DataFrame({"period": range(len(survivors)),
                             "survival_pct": [s / survivors[0] * 100 for s in survivors]})
    mv = arr[arr["account_id"].isin(set(seg["account_id"]))]
    _, qlast = periods.quarter_bounds(quarter)
    latest = mv[pd.to_datetime(mv["month"]) == pd.Timestamp(_month(qlast))]
    latest = latest[latest["arr"] > 0]
    arpa_q = float(latest["arr"].mean() / 4.0) if not latest.empty else None
    if len(cohort) < MIN_SBG_ACCOUNTS or horizon < 2:
        return SegmentProjection(segment, len(cohort), None, None, observed, pd.DataFrame(),
                                 arpa_q, None, f"not enough data: the oldest cohort has "
                                 f"{len(cohort)} accounts over {horizon} quarters")
    try:
        fit = metrics.fit_sbg(survivors)
    except ValueError as exc:
        return SegmentProjection(segment, len(cohort), None, None, observed, pd.DataFrame(),
                                 arpa_q, None, f"not enough data: {exc}")
    surv = metrics.sbg_survival(fit.alpha, fit.beta, PROJECTION_QUARTERS)
    projected = pd.DataFrame({"period": range(0, PROJECTION_QUARTERS + 1),
                              "survival_pct": [100.0, *(np.asarray(surv) * 100.0)]})
    ltv = None
    if arpa_q:
        d_q = (1 + annual_discount) ** 0.25 - 1
        ltv = metrics.sbg_ltv(fit.alpha, fit.beta, arpa_q, margin, d_q, PROJECTION_QUARTERS)
    return SegmentProjection(segment, len(cohort), fit.alpha, fit.beta, observed, projected,
                             arpa_q, ltv)


@dataclass
class _AccountValueInputs:
    """One account's value inputs, and what `value.summarize` derives from them whatever
    the quarter (measurement values, quarterly cost): worked out once per portfolio."""

    drivers: pd.DataFrame
    measurements: pd.DataFrame
    arr: pd.DataFrame
    values: pd.DataFrame
    cost: pd.Series


def _value_inputs(b: Bundle) -> dict[str, _AccountValueInputs]:
    """Per account id, its value inputs (empty frames for an account without rows)."""
    drivers = dict(tuple(b.table("value_drivers").groupby("account_id")))
    meas = dict(tuple(b.table("value_measurements").groupby("account_id")))
    arr_by = dict(tuple(b.table("arr_history").groupby("account_id")))
    empty_d, empty_m = b.table("value_drivers").iloc[0:0], b.table("value_measurements").iloc[0:0]
    empty_a = b.table("arr_history").iloc[0:0]
    out = {}
    for account_id in b.table("accounts")["account_id"]:
        d = drivers.get(account_id, empty_d)
        m = meas.get(account_id, empty_m)
        a = arr_by.get(account_id, empty_a)
        out[account_id] = _AccountValueInputs(d, m, a, value.measurement_values(d, m),
                                              value.quarterly_cost(a))
    return out


def _health_table(b: Bundle, quarter: str, weights: dict[str, float] | None,
                  arr_conv: pd.DataFrame,
                  inputs: dict[str, _AccountValueInputs] | None = None) -> pd.DataFrame:
    """Health score, band and components for every account active at the quarter's end.

    `inputs` (from `_value_inputs`) may be shared between quarters.
    """
    first, last = periods.quarter_bounds(quarter)
    acc = b.table("accounts")
    util = adoption.utilisation_by_account(b.table("usage"), first, last)
    util = dict(zip(util["account_id"], util["utilisation_pct"], strict=True))
    nps = b.table("nps_responses")
    nps = nps[(pd.to_datetime(nps["responded_at"]) >= pd.Timestamp(first))
              & (pd.to_datetime(nps["responded_at"]) <= pd.Timestamp(last))]
    nps_by = {a: metrics.nps(g["score"].astype(int).tolist()) for a, g in nps.groupby("account_id")}
    t = b.table("support_tickets")
    t = t[(pd.to_datetime(t["opened_at"]) >= pd.Timestamp(first))
          & (pd.to_datetime(t["opened_at"]) < pd.Timestamp(last) + pd.Timedelta(days=1))]
    t = t.dropna(subset=["csat"])
    csat_by = {a: metrics.csat(g["csat"].astype(int).tolist()) for a, g in t.groupby("account_id")}
    if inputs is None:
        inputs = _value_inputs(b)
    conv_now = arr_conv[pd.to_datetime(arr_conv["month"]) == pd.Timestamp(_month(last))]
    conv_now = dict(zip(conv_now["account_id"], conv_now["arr"], strict=True))
    rows = []
    for a in acc.itertuples():
        start = pd.Timestamp(a.start_date).date()
        churn = None if pd.isna(a.churn_date) else pd.Timestamp(a.churn_date).date()
        if start > last:
            continue
        vi = inputs[a.account_id]
        v = value.summarize(vi.drivers, vi.measurements, vi.arr, quarter, values=vi.values,
                            cost=vi.cost)
        comp = health.components(util.get(a.account_id), v.realized_vs_business_case_pct,
                                 nps_by.get(a.account_id), csat_by.get(a.account_id))
        h = health.assess(comp, weights)
        rows.append({
            "account_id": a.account_id, "name": a.name, "segment": a.segment, "csm": a.csm,
            "currency": a.currency, "start_date": start, "churn_date": churn,
            "renewal_date": pd.Timestamp(a.renewal_date).date(),
            "active": churn is None or churn > last,
            "arr": float(conv_now.get(a.account_id, 0.0)),
            "health": h.score, "band": h.band, "missing": ", ".join(h.missing),
            "drivers": ", ".join(h.drivers[:2]),
            "value_quarter": v.value_quarter or 0.0, "value_to_date": v.value_to_date,
            **{f"c_{k}": val for k, val in comp.items()},
        })
    return pd.DataFrame(rows)


def _backtest(b: Bundle, quarter: str, weights, arr_conv,
              inputs: dict[str, _AccountValueInputs] | None = None) -> dict:
    """Health BACKTEST_QUARTERS ago against who really churned since (ROC AUC)."""
    then = periods.shift_quarter(quarter, -BACKTEST_QUARTERS)
    _, then_last = periods.quarter_bounds(then)
    _, now_last = periods.quarter_bounds(quarter)
    past = _health_table(b, then, weights, arr_conv, inputs)
    past = past[past["active"] & past["health"].notna()]
    churned = [(c is not None and then_last < c <= now_last) for c in past["churn_date"]]
    n_pos = int(sum(churned))
    result = {"quarter": then, "accounts": int(len(past)), "churned": n_pos, "auc": None,
              "curve": pd.DataFrame(columns=["fpr", "tpr"])}
    if n_pos == 0 or n_pos == len(past):
        result["note"] = "not enough data: no churned (or no retained) accounts to compare"
        return result
    scores = (-past["health"].astype(float)).to_numpy()
    labels = np.asarray(churned, dtype=bool)
    result["auc"] = metrics.roc_auc(scores, labels)
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(labels[order])
    fp = np.cumsum(~labels[order])
    result["curve"] = pd.DataFrame({"fpr": np.r_[0, fp / fp[-1]], "tpr": np.r_[0, tp / tp[-1]]})
    return result


def build(b: Bundle, *, reporting_currency: str = "USD", fx_rates: dict[str, float] | None = None,
          weights: dict[str, float] | None = None, gross_margin: float = DEFAULT_MARGIN,
          annual_discount: float = DEFAULT_ANNUAL_DISCOUNT) -> Portfolio:
    """Compute the portfolio review for the bundle's quarter."""
    if b.kind != "portfolio":
        raise ValueError(f"bundle {b.path} is a {b.kind} bundle, not the portfolio bundle")
    fx = dict(fx_rates or {})
    quarter = b.quarter
    q_first, q_last = periods.quarter_bounds(quarter)
    accounts = b.table("accounts")
    arr = _converted_arr(b, reporting_currency, fx)
    first_m, last_m = _month(q_first), _month(q_last)
    ttm_first, ttm_last = metrics.trailing_months(last_m, 12)

    inputs = _value_inputs(b)  # shared by this quarter's health and the back-test's
    table = _health_table(b, quarter, weights, arr, inputs)
    by_seg = _retention(arr, first_m, last_m, accounts, "segment")
    by_csm = _retention(arr, first_m, last_m, accounts, "csm")
    horizon_end = periods.quarter_bounds(periods.shift_quarter(quarter, 2))[1]
    active = table[table["active"]]
    renewals = active[(active["renewal_date"] > q_last) & (active["renewal_date"] <= horizon_end)]
    renewals = renewals.sort_values(["renewal_date", "account_id"]).reset_index(drop=True)
    bands = ["At risk", "Watch", health.HEALTHY]
    at_risk = pd.DataFrame([
        {"band": band, "accounts": int((renewals["band"] == band).sum()),
         "arr": float(renewals.loc[renewals["band"] == band, "arr"].sum())}
        for band in bands
    ])
    # Value totals convert each account's value with its currency's rate.
    rate = active["currency"].map(lambda c: _rate(c, reporting_currency, fx)).astype(float)
    value_q = float((active["value_quarter"] * rate).sum())
    value_td = float((active["value_to_date"] * rate).sum())
    value_by_seg = (active.assign(vq=active["value_quarter"] * rate,
                                  vt=active["value_to_date"] * rate)
                    .groupby("segment")[["vq", "vt"]].sum().reset_index()
                    .rename(columns={"vq": "value_quarter", "vt": "value_to_date"}))
    projections = [_projection(s, accounts, arr, quarter, gross_margin, annual_discount)
                   for s in sorted(accounts["segment"].unique())]
    return Portfolio(
        quarter=quarter,
        as_of=b.as_of,
        currency=reporting_currency,
        accounts=table.sort_values(["health", "account_id"], na_position="last")
        .reset_index(drop=True),
        retention_quarter=_retention(arr, first_m, last_m, accounts),
        retention_ttm=_retention(arr, ttm_first, ttm_last, accounts),
        by_segment=by_seg,
        by_csm=by_csm,
        cohorts=_cohorts(arr, accounts, quarter),
        projections=projections,
        renewals=renewals,
        at_risk_by_band=at_risk,
        backtest=_backtest(b, quarter, weights, arr, inputs),
        value_quarter=value_q,
        value_to_date=value_td,
        value_by_segment=value_by_seg,
        fx_rates=fx,
    )
