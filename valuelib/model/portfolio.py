"""The portfolio review's figures for CS leadership, from the portfolio bundle.

Money is converted to one reporting currency with the FX rates the portfolio is given
(params/portfolio.yaml): retention ratios mix accounts in different currencies, so they are
computed on converted ARR. Retention uses `metrics.arr_movements` and
`metrics.retention_figures`, so it is fed the same way as everywhere else.

Parts whose data the warehouse did not provide (`parts`) are not computed. Every figure is
computed once over all accounts (vectorised), so a portfolio of 10,000 accounts with years of
monthly ARR takes seconds; tables and charts get at most a fixed number of groups, cohorts and
renewals (the constants below), with the rest pooled, so any shape of portfolio reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from valuelib import metrics
from valuelib.data import schema
from valuelib.data.bundle import Bundle
from valuelib.metrics import periods
from valuelib.model import adoption, health, parts, value

DEFAULT_MARGIN = 0.8
DEFAULT_ANNUAL_DISCOUNT = 0.10
PROJECTION_QUARTERS = 12
BACKTEST_QUARTERS = 4
MIN_SBG_ACCOUNTS = 10
#: Portfolios of any shape stay readable: a by-segment or by-CSM table lists this many groups
#: (largest starting ARR first) and pools the rest into one "other" row; a chart shows fewer.
TABLE_GROUPS = 20
CHART_GROUPS = 8
#: Segments (most accounts first) that get their own sBG projection; the rest are pooled.
PROJECTION_GROUPS = 6
#: Renewals listed one by one (about two pages; the largest ARR when there are more, shown by
#: date); the rest are summed in one line.
RENEWAL_ROWS = 60
#: Start-quarter cohorts shown one by one; with more, cohorts are pooled by start year, and
#: with more years than this, the earliest years into one "earlier" row.
COHORT_ROWS = 16


#: The index of a pooled row in `Portfolio.cohort_view`: the earliest start years together.
EARLIER = "earlier"
#: Why a segment has no sBG projection (`SegmentProjection.reason`).
NO_ACCOUNTS, TOO_LITTLE_DATA, FIT_FAILED = "no_accounts", "too_little_data", "fit_failed"
#: Why the health back-test has no ROC AUC (`Portfolio.backtest["reason"]`).
NO_HEALTH, ONE_OUTCOME = "no_health", "one_outcome"


class FXError(ValueError):
    """An account's currency has no FX rate to the reporting currency."""


@dataclass
class SegmentProjection:
    segment: str | None  # None for the pooled smaller segments (see `other`)
    accounts: int
    alpha: float | None
    beta: float | None
    observed: pd.DataFrame  # period, survival_pct
    projected: pd.DataFrame  # period, survival_pct
    arpa_quarter: float | None
    ltv: float | None
    #: Why there is no projection: "" (there is one), NO_ACCOUNTS, TOO_LITTLE_DATA (the
    #: oldest cohort is under MIN_SBG_ACCOUNTS or observed under 2 quarters) or FIT_FAILED.
    reason: str = ""
    other: int = 0  # > 0: the pooled projection of this many smaller segments

    @property
    def constant_churn(self) -> float | None:
        """Churn a quarter (0–1) when the fit found no heterogeneity between customers
        (the geometric model, see `metrics.sbg_constant_churn`), else None."""
        if self.alpha is None or self.beta is None:
            return None
        return metrics.sbg_constant_churn(self.alpha, self.beta)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


@dataclass
class Portfolio:
    quarter: str
    as_of: dt.date
    currency: str
    accounts: pd.DataFrame  # one row per account with ARR, health, band, renewal
    retention_quarter: dict
    retention_ttm: dict
    #: group, the retention figures, start_arr, accounts, other: at most TABLE_GROUPS groups,
    #: then (other > 0) one row pooling `other` smaller groups.
    by_segment: pd.DataFrame
    by_csm: pd.DataFrame
    cohorts: pd.DataFrame  # logo retention %, start quarter × quarters since start
    projections: list[SegmentProjection]
    renewals: pd.DataFrame  # every active account renewing in the next two quarters
    at_risk_by_band: pd.DataFrame
    backtest: dict
    value_quarter: float | None
    value_to_date: float | None
    #: segment, value_quarter, value_to_date, other: CHART_GROUPS segments, then the rest.
    value_by_segment: pd.DataFrame
    fx_rates: dict[str, float] = field(default_factory=dict)
    provided: frozenset[str] = frozenset(schema.TABLES)
    #: by_segment for the chart: at most CHART_GROUPS groups and the rest pooled.
    segment_bars: pd.DataFrame = field(default_factory=lambda: _empty(_GROUP_COLUMNS))
    cohort_sizes: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))
    #: The cohorts as shown: by start quarter, or by start year (`cohort_grain`) when there
    #: are more than COHORT_ROWS, the earliest years pooled under EARLIER when still too many.
    cohort_view: pd.DataFrame = field(default_factory=pd.DataFrame)
    cohort_grain: str = "quarter"
    #: The RENEWAL_ROWS largest renewals by date; the others' count and ARR in renewals_rest.
    renewals_shown: pd.DataFrame = field(default_factory=pd.DataFrame)
    renewals_rest: dict = field(default_factory=lambda: {"accounts": 0, "arr": 0.0})

    def shows(self, part: str) -> bool:
        """Whether the review has `part` (`parts.PART_SOURCES`): its tables were provided."""
        return parts.shows(self.provided, part)

    @property
    def not_provided(self) -> list[str]:
        """The tables the warehouse did not provide, for the methodology."""
        return parts.not_provided(self.provided)


_FIGURES = ["grr", "nrr", "crr", "logo_churn", "gross_drr", "net_drr", "gross_revenue_churn",
            "net_revenue_churn"]
_GROUP_COLUMNS = ["group", *_FIGURES, "start_arr", "accounts", "other"]


def _rate(currency: str, reporting: str, fx: dict[str, float]) -> float:
    if currency == reporting:
        return 1.0
    if currency not in fx:
        raise FXError(f"no FX rate from {currency} to {reporting}: add it to fx_rates in "
                      "params/portfolio.yaml")
    return float(fx[currency])


def _converted_arr(b: Bundle, reporting: str, fx: dict[str, float]) -> pd.DataFrame:
    acc = b.table("accounts")
    arr = b.table("arr_history")
    currency = arr["account_id"].map(dict(zip(acc["account_id"], acc["currency"], strict=True)))
    rates = {c: _rate(c, reporting, fx) for c in currency.dropna().unique()}
    return pd.DataFrame({
        "account_id": arr["account_id"].to_numpy(),
        "month": pd.to_datetime(arr["month"]).to_numpy(),
        "arr": arr["arr"].astype(float).to_numpy() * currency.map(rates).astype(float).to_numpy(),
    })


def _month(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, 1)


def _quarter_index(dates: pd.Series) -> np.ndarray:
    """4 × year + quarter − 1 of each date (NaT gives −1)."""
    d = pd.to_datetime(dates)
    out = (d.dt.year * 4 + (d.dt.month - 1) // 3).to_numpy(dtype=float)
    return np.where(np.isnan(out), -1, out).astype(np.int64)


def _quarter_label(i: int) -> str:
    return f"{i // 4:04d}Q{i % 4 + 1}"


def _movements(arr: pd.DataFrame, first_month: dt.date, last_month: dt.date) -> pd.DataFrame:
    """`metrics.arr_movements` over the window, fed only the two months it compares."""
    m = pd.to_datetime(arr["month"])
    before = pd.Timestamp(first_month) - pd.DateOffset(months=1)
    return metrics.arr_movements(arr[((m == before) | (m == pd.Timestamp(last_month)))
                                     .to_numpy()], first_month, last_month)


def _figures(mv: pd.DataFrame) -> dict:
    figs = metrics.retention_figures(mv)
    tot = metrics.movement_totals(mv)
    return {**figs, "start_arr": tot["start_arr"], "accounts": tot["start_customers"]}


def _group_retention(mv: pd.DataFrame, accounts: pd.DataFrame, by: str,
                     limit: int) -> pd.DataFrame:
    """Retention per value of `by`, by name: the `limit` groups with the most starting ARR,
    then one row (group None, other = their number) pooling the movements of the rest."""
    g = mv.assign(_g=mv["account_id"].map(dict(zip(accounts["account_id"], accounts[by],
                                                   strict=True))))
    rows = [{"group": group, **_figures(part.drop(columns=["_g"])), "other": 0}
            for group, part in g.groupby("_g", sort=True)]
    df = pd.DataFrame(rows, columns=_GROUP_COLUMNS)
    if len(df) <= limit:
        return df.reset_index(drop=True)
    ranked = df.sort_values(["start_arr", "group"], ascending=[False, True], kind="mergesort")
    rest = set(ranked["group"].iloc[limit:])
    pooled = {"group": None, **_figures(g[g["_g"].isin(rest)].drop(columns=["_g"])),
              "other": len(rest)}
    top = ranked.head(limit).sort_values("group", kind="mergesort")
    return pd.concat([top, pd.DataFrame([pooled], columns=_GROUP_COLUMNS)], ignore_index=True)


def _cohorts(arr: pd.DataFrame, accounts: pd.DataFrame,
             quarter: str) -> tuple[pd.DataFrame, pd.Series]:
    """Logo retention % by start-quarter cohort (rows) and quarters since start (columns),
    blank where not yet observed; and each cohort's number of accounts.

    An account is retained in a quarter when it has ARR above 0 in one of its months.
    """
    now = _quarter_index(pd.Series([pd.Timestamp(periods.quarter_bounds(quarter)[0])]))[0]
    sq = _quarter_index(accounts["start_date"])
    keep = (sq >= 0) & (sq <= now)
    start_of = dict(zip(accounts["account_id"].to_numpy()[keep], sq[keep], strict=True))
    live = arr[(arr["arr"] > 0).to_numpy()]
    a_sq = live["account_id"].map(start_of).to_numpy(dtype=float)
    offset = _quarter_index(live["month"]) - a_sq
    ok = ~np.isnan(a_sq) & (offset >= 0) & (a_sq + offset <= now)
    pairs = pd.DataFrame({"cohort": a_sq[ok].astype(np.int64),
                          "offset": offset[ok].astype(np.int64),
                          "account": live["account_id"].to_numpy()[ok]}).drop_duplicates()
    alive = pairs.groupby(["cohort", "offset"]).size()
    sizes = pd.Series(sq[keep]).value_counts().sort_index()
    if sizes.empty:
        empty = pd.DataFrame()
        empty.index.name = "cohort"
        return empty, pd.Series(dtype=int)
    span = int(now - sizes.index.min() + 1)
    grid = np.full((len(sizes), span), np.nan)
    for i, cohort in enumerate(sizes.index):
        grid[i, : now - cohort + 1] = 0.0
    if len(alive):
        rows = pd.Index(sizes.index).get_indexer(alive.index.get_level_values(0))
        cols = alive.index.get_level_values(1).to_numpy()
        grid[rows, cols] = alive.to_numpy() / sizes.to_numpy()[rows] * 100.0
    labels = [_quarter_label(int(c)) for c in sizes.index]
    df = pd.DataFrame(grid, index=pd.Index(labels, name="cohort"), columns=range(span))
    return df, pd.Series(sizes.to_numpy(), index=labels)


def cohort_view(cohorts: pd.DataFrame, sizes: pd.Series,
                max_rows: int = COHORT_ROWS) -> tuple[pd.DataFrame, str]:
    """The cohort grid to show and its grain ("quarter" or "year").

    Up to `max_rows` start quarters are shown as they are. With more, cohorts are pooled by
    start year: at each number of quarters since start, retained accounts / accounts observed
    that long × 100, over the year's quarterly cohorts; with more than `max_rows` years, the
    earliest are pooled the same way into one row indexed EARLIER.
    """
    if len(cohorts) <= max_rows:
        return cohorts, "quarter"
    n = sizes.reindex(cohorts.index).astype(float)
    alive = cohorts.mul(n, axis=0) / 100.0
    observed = cohorts.notna().mul(n, axis=0)
    years = [str(q)[:4] for q in cohorts.index]
    distinct = sorted(set(years))
    if len(distinct) > max_rows:
        kept = set(distinct[-(max_rows - 1):])
        years = [y if y in kept else EARLIER for y in years]
    order = ([EARLIER] if EARLIER in years else []) + [y for y in distinct if y in set(years)]
    a = alive.groupby(years).sum(min_count=1).reindex(order)
    m = observed.groupby(years).sum().reindex(order)
    view = a / m.where(m > 0) * 100.0
    view.index.name = "cohort"
    return view, "year"


def _projections(accounts: pd.DataFrame, arr: pd.DataFrame, quarter: str, margin: float,
                 annual_discount: float) -> list[SegmentProjection]:
    """One projection per segment (by name), for the PROJECTION_GROUPS segments with the
    most accounts; the other segments are fitted together as one pooled projection."""
    counts = accounts["segment"].value_counts()
    ranked = sorted(counts.index, key=lambda s: (-int(counts[s]), str(s)))
    groups: list[tuple[str | None, list]] = [(s, [s]) for s in sorted(ranked[:PROJECTION_GROUPS])]
    if len(ranked) > PROJECTION_GROUPS:
        groups.append((None, ranked[PROJECTION_GROUPS:]))
    now = _quarter_index(pd.Series([pd.Timestamp(periods.quarter_bounds(quarter)[0])]))[0]
    sq = _quarter_index(accounts["start_date"])
    churn_q = _quarter_index(accounts["churn_date"]).astype(float)
    churn_q[churn_q < 0] = np.inf
    _, qlast = periods.quarter_bounds(quarter)
    m = pd.to_datetime(arr["month"])
    latest = arr[((m == pd.Timestamp(_month(qlast))) & (arr["arr"] > 0)).to_numpy()]
    latest_arr = accounts["account_id"].map(
        latest.groupby("account_id")["arr"].sum()).to_numpy(dtype=float)
    seg = accounts["segment"].to_numpy()
    return [_projection(label, np.isin(seg, members), sq, churn_q, latest_arr, now, margin,
                        annual_discount, 0 if label is not None else len(members))
            for label, members in groups]


def _projection(segment: str | None, member: np.ndarray, sq: np.ndarray, churn_q: np.ndarray,
                latest_arr: np.ndarray, now: int, margin: float, annual_discount: float,
                other: int) -> SegmentProjection:
    """Fit sBG to the group's oldest full-year cohort, then project retention and LTV."""
    if not member.any():
        return SegmentProjection(segment, 0, None, None, pd.DataFrame(), pd.DataFrame(), None,
                                 None, NO_ACCOUNTS, other)
    first_q = sq[member].min()
    in_cohort = member & (sq >= first_q) & (sq < first_q + 4)
    n = int(in_cohort.sum())
    horizon = int(now - sq[in_cohort].max())
    lifetime = churn_q[in_cohort] - sq[in_cohort]  # quarters since start until churn
    survivors = [n, *[int((lifetime > k).sum()) for k in range(1, max(horizon, 0) + 1)]]
    observed = pd.DataFrame({"period": range(len(survivors)),
                             "survival_pct": [s / survivors[0] * 100 for s in survivors]})
    paying = latest_arr[member]
    paying = paying[~np.isnan(paying)]
    arpa_q = float(paying.mean() / 4.0) if len(paying) else None
    if n < MIN_SBG_ACCOUNTS or horizon < 2:
        return SegmentProjection(segment, n, None, None, observed, pd.DataFrame(), arpa_q,
                                 None, TOO_LITTLE_DATA, other)
    try:
        fit = metrics.fit_sbg(survivors)
    except ValueError:
        return SegmentProjection(segment, n, None, None, observed, pd.DataFrame(), arpa_q,
                                 None, FIT_FAILED, other)
    surv = metrics.sbg_survival(fit.alpha, fit.beta, PROJECTION_QUARTERS)
    projected = pd.DataFrame({"period": range(0, PROJECTION_QUARTERS + 1),
                              "survival_pct": [100.0, *(np.asarray(surv) * 100.0)]})
    ltv = None
    if arpa_q:
        d_q = (1 + annual_discount) ** 0.25 - 1
        ltv = metrics.sbg_ltv(fit.alpha, fit.beta, arpa_q, margin, d_q, PROJECTION_QUARTERS)
    return SegmentProjection(segment, n, fit.alpha, fit.beta, observed, projected, arpa_q, ltv,
                             "", other)


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
    """Per account id with value drivers, its value inputs (an account without drivers has
    no value figures: nothing to work out)."""
    drivers_all = b.table("value_drivers")
    if drivers_all.empty:
        return {}
    with_drivers = set(drivers_all["account_id"])
    meas_all = b.table("value_measurements")
    arr_all = b.table("arr_history")
    drivers = dict(tuple(drivers_all.groupby("account_id")))
    meas = dict(tuple(meas_all[meas_all["account_id"].isin(with_drivers)].groupby("account_id")))
    arr_by = dict(tuple(arr_all[arr_all["account_id"].isin(with_drivers)]
                        .groupby("account_id")))
    empty_m, empty_a = meas_all.iloc[0:0], arr_all.iloc[0:0]
    out = {}
    for account_id, d in drivers.items():
        m = meas.get(account_id, empty_m)
        a = arr_by.get(account_id, empty_a)
        out[account_id] = _AccountValueInputs(d, m, a, value.measurement_values(d, m),
                                              value.quarterly_cost(a))
    return out


def _health_table(b: Bundle, quarter: str, weights: dict[str, float] | None,
                  arr_conv: pd.DataFrame,
                  inputs: dict[str, _AccountValueInputs] | None = None) -> pd.DataFrame:
    """Health score, band and components for every account started by the quarter's end.

    `inputs` (from `_value_inputs`) may be shared between quarters. Components whose data
    was not provided are left out; with none provided, score and band are None.
    """
    first, last = periods.quarter_bounds(quarter)
    acc = b.table("accounts")
    show = {p: parts.shows(b.provided, p) for p in ("adoption", "value", "nps", "support",
                                                    "health")}
    util: dict = {}
    if show["adoption"]:
        u = adoption.utilisation_by_account(b.table("usage"), first, last)
        util = dict(zip(u["account_id"], u["utilisation_pct"], strict=True))
    nps_by: dict = {}
    if show["nps"]:
        nps = b.table("nps_responses")
        nps = nps[(pd.to_datetime(nps["responded_at"]) >= pd.Timestamp(first))
                  & (pd.to_datetime(nps["responded_at"]) <= pd.Timestamp(last))]
        nps_by = {a: metrics.nps(g["score"].astype(int).tolist())
                  for a, g in nps.groupby("account_id")}
    csat_by: dict = {}
    if show["support"]:
        t = b.table("support_tickets")
        t = t[(pd.to_datetime(t["opened_at"]) >= pd.Timestamp(first))
              & (pd.to_datetime(t["opened_at"]) < pd.Timestamp(last) + pd.Timedelta(days=1))]
        t = t.dropna(subset=["csat"])
        csat_by = {a: metrics.csat(g["csat"].astype(int).tolist())
                   for a, g in t.groupby("account_id")}
    if inputs is None:
        inputs = _value_inputs(b) if show["value"] else {}
    m = pd.to_datetime(arr_conv["month"])
    conv_now = arr_conv[(m == pd.Timestamp(_month(last))).to_numpy()]
    conv_now = conv_now.groupby("account_id")["arr"].sum()
    starts = pd.to_datetime(acc["start_date"])
    churns = pd.to_datetime(acc["churn_date"])
    renewals = pd.to_datetime(acc["renewal_date"])
    keep = (starts <= pd.Timestamp(last)).to_numpy()
    ids = acc["account_id"].to_numpy()[keep]
    start_d = [d.date() for d in starts[keep]]
    churn_d = [None if pd.isna(d) else d.date() for d in churns[keep]]
    rows = []
    for a in ids:
        vi = inputs.get(a)
        v = (value.summarize(vi.drivers, vi.measurements, vi.arr, quarter, values=vi.values,
                             cost=vi.cost) if vi is not None else None)
        realized = v.realized_vs_business_case_pct if v is not None else None
        comp = health.components(util.get(a), realized, nps_by.get(a), csat_by.get(a))
        h = health.assess(comp, weights, b.provided) if show["health"] else None
        rows.append({
            "score": None if h is None else h.score,
            "band": None if h is None else h.band,
            "missing": "" if h is None else ", ".join(h.missing),
            "drivers": "" if h is None else ", ".join(h.drivers[:2]),
            "value_quarter": (v.value_quarter or 0.0) if v is not None else 0.0,
            "value_to_date": v.value_to_date if v is not None else 0.0,
            **{f"c_{k}": val for k, val in comp.items()},
        })
    part = acc[keep]
    out = pd.DataFrame({
        "account_id": ids, "name": part["name"].to_numpy(), "segment": part["segment"].to_numpy(),
        "csm": part["csm"].to_numpy(), "currency": part["currency"].to_numpy(),
        "start_date": start_d, "churn_date": churn_d,
        "renewal_date": [d.date() for d in renewals[keep]],
        "active": [c is None or c > last for c in churn_d],
        "arr": pd.Series(ids).map(conv_now).fillna(0.0).astype(float).to_numpy(),
    })
    extra = pd.DataFrame(rows, index=out.index)
    if extra.empty:
        extra = pd.DataFrame(columns=["score", "band", "missing", "drivers", "value_quarter",
                                      "value_to_date"])
    out = pd.concat([out, extra.rename(columns={"score": "health"})], axis=1)
    out["health"] = out["health"].astype(float) if len(out) else out["health"]
    return out


def _backtest(b: Bundle, quarter: str, weights, arr_conv,
              inputs: dict[str, _AccountValueInputs] | None = None) -> dict:
    """Health BACKTEST_QUARTERS ago against who really churned since (ROC AUC)."""
    then = periods.shift_quarter(quarter, -BACKTEST_QUARTERS)
    _, then_last = periods.quarter_bounds(then)
    _, now_last = periods.quarter_bounds(quarter)
    result = {"quarter": then, "accounts": 0, "churned": 0, "auc": None,
              "curve": pd.DataFrame(columns=["fpr", "tpr"])}
    if not parts.shows(b.provided, "health"):
        result["reason"] = NO_HEALTH
        return result
    past = _health_table(b, then, weights, arr_conv, inputs)
    past = past[past["active"] & past["health"].notna()]
    churned = [(c is not None and then_last < c <= now_last) for c in past["churn_date"]]
    n_pos = int(sum(churned))
    result.update(accounts=int(len(past)), churned=n_pos)
    if n_pos == 0 or n_pos == len(past):
        result["reason"] = ONE_OUTCOME
        return result
    scores = (-past["health"].astype(float)).to_numpy()
    labels = np.asarray(churned, dtype=bool)
    result["auc"] = metrics.roc_auc(scores, labels)
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(labels[order])
    fp = np.cumsum(~labels[order])
    result["curve"] = pd.DataFrame({"fpr": np.r_[0, fp / fp[-1]], "tpr": np.r_[0, tp / tp[-1]]})
    return result


def _top_value(active: pd.DataFrame, rate: pd.Series) -> pd.DataFrame:
    """Value per segment (CHART_GROUPS with the most value this quarter, then the rest)."""
    cols = ["segment", "value_quarter", "value_to_date", "other"]
    by = (active.assign(vq=active["value_quarter"] * rate, vt=active["value_to_date"] * rate)
          .groupby("segment")[["vq", "vt"]].sum().reset_index()
          .rename(columns={"vq": "value_quarter", "vt": "value_to_date"}))
    by["other"] = 0
    if len(by) <= CHART_GROUPS:
        return by[cols]
    ranked = by.sort_values(["value_quarter", "segment"], ascending=[False, True],
                            kind="mergesort")
    rest = ranked.iloc[CHART_GROUPS:]
    pooled = {"segment": None, "value_quarter": float(rest["value_quarter"].sum()),
              "value_to_date": float(rest["value_to_date"].sum()), "other": len(rest)}
    return pd.concat([ranked.head(CHART_GROUPS)[cols], pd.DataFrame([pooled], columns=cols)],
                     ignore_index=True)


def _split_renewals(renewals: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The RENEWAL_ROWS largest renewals (by renewal date), and the rest's count and ARR."""
    if len(renewals) <= RENEWAL_ROWS:
        return renewals, {"accounts": 0, "arr": 0.0}
    ranked = renewals.sort_values(["arr", "account_id"], ascending=[False, True],
                                  kind="mergesort")
    rest = ranked.iloc[RENEWAL_ROWS:]
    shown = ranked.head(RENEWAL_ROWS).sort_values(["renewal_date", "account_id"])
    return shown.reset_index(drop=True), {"accounts": int(len(rest)),
                                          "arr": float(rest["arr"].sum())}


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
    show_value = parts.shows(b.provided, "value")

    # Value inputs are shared by this quarter's health and the back-test's.
    inputs = _value_inputs(b) if show_value else {}
    table = _health_table(b, quarter, weights, arr, inputs)
    mv_q = _movements(arr, first_m, last_m)
    by_seg = _group_retention(mv_q, accounts, "segment", TABLE_GROUPS)
    horizon_end = periods.quarter_bounds(periods.shift_quarter(quarter, 2))[1]
    active = table[table["active"]]
    renewals = active[(active["renewal_date"] > q_last) & (active["renewal_date"] <= horizon_end)]
    renewals = renewals.sort_values(["renewal_date", "account_id"]).reset_index(drop=True)
    shown, rest = _split_renewals(renewals)
    at_risk = pd.DataFrame([
        {"band": band, "accounts": int((renewals["band"] == band).sum()),
         "arr": float(renewals.loc[renewals["band"] == band, "arr"].sum())}
        for band in health.BAND_ORDER
    ])
    value_q = value_td = None
    value_by_seg = pd.DataFrame(columns=["segment", "value_quarter", "value_to_date", "other"])
    if show_value:
        # Value totals convert each account's value with its currency's rate.
        rates = {c: _rate(c, reporting_currency, fx) for c in active["currency"].unique()}
        rate = active["currency"].map(rates).astype(float)
        value_q = float((active["value_quarter"] * rate).sum())
        value_td = float((active["value_to_date"] * rate).sum())
        value_by_seg = _top_value(active, rate)
    cohorts, sizes = _cohorts(arr, accounts, quarter)
    view, grain = cohort_view(cohorts, sizes)
    return Portfolio(
        quarter=quarter,
        as_of=b.as_of,
        currency=reporting_currency,
        accounts=table.sort_values(["health", "account_id"], na_position="last")
        .reset_index(drop=True),
        retention_quarter=metrics.retention_figures(mv_q),
        retention_ttm=metrics.retention_figures(_movements(arr, ttm_first, ttm_last)),
        by_segment=by_seg,
        by_csm=_group_retention(mv_q, accounts, "csm", TABLE_GROUPS),
        cohorts=cohorts,
        projections=_projections(accounts, arr, quarter, gross_margin, annual_discount),
        renewals=renewals,
        at_risk_by_band=at_risk,
        backtest=_backtest(b, quarter, weights, arr, inputs),
        value_quarter=value_q,
        value_to_date=value_td,
        value_by_segment=value_by_seg,
        fx_rates=fx,
        provided=b.provided,
        segment_bars=_group_retention(mv_q, accounts, "segment", CHART_GROUPS),
        cohort_sizes=sizes,
        cohort_view=view,
        cohort_grain=grain,
        renewals_shown=shown,
        renewals_rest=rest,
    )
