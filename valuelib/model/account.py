"""Everything a value review shows about one account, computed from its bundle.

`build(bundle)` returns an `AccountReview`: value, adoption, voice of the customer,
commercials, success plan, and (for the internal audience only) health, risks and notes.
Figures for the previous quarter are computed by the same functions, so quarter-over-quarter
changes compare like with like.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from valuelib import metrics
from valuelib.data import schema
from valuelib.data.bundle import Bundle
from valuelib.metrics import periods
from valuelib.metrics.periods import TREND_QUARTERS
from valuelib.model import adoption, health, parts, value, voice

EXPANSION_UTILISATION = 85.0
LOW_UTILISATION = 50.0
DEFAULT_REVIEW_CLIP = (-50.0, 50.0)


@dataclass(frozen=True)
class Headline:
    """One executive-summary figure with last quarter's value for the change."""

    key: str  # which figure (the report words it: report.record.HEADLINE_LABELS)
    kind: str  # money | pct | multiple | nps | months
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class Adoption:
    utilisation_pct: float | None
    previous_utilisation_pct: float | None
    seats: int | None
    active_users: float | None
    weekly: pd.DataFrame
    features: pd.DataFrame  # feature, adoption_pct, previous_pct, peer_pct
    peer_percentile: float | None
    peer_count: int
    min_peers: int
    expansion_signal: bool
    low_adoption: bool


@dataclass(frozen=True)
class Commercial:
    arr: float | None
    arr_start: float | None
    arr_history: pd.DataFrame  # month, arr
    events: pd.DataFrame  # month, kind, change
    renewal_date: dt.date | None
    days_to_renewal: int | None
    churned: bool
    churn_date: dt.date | None
    start_date: dt.date | None
    tenure_months: int | None = None  # whole months a customer, to the quarter's end or churn


#: Risk severities, most severe first.
HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITIES = (HIGH, MEDIUM, LOW)


@dataclass(frozen=True)
class Risk:
    """One rule-based risk: how severe, which rule flagged it, and the figures behind it
    (the report words it from `kind` and `fields`)."""

    severity: str  # SEVERITIES
    kind: str  # RISK_KINDS
    fields: dict[str, Any] = field(default_factory=dict)


#: Every rule of `_risks`, in the order it checks them.
RISK_KINDS = ("churned", "at_risk", "renewal", "low_adoption", "negative_nps", "contraction",
              "overdue_goals", "open_tickets", "below_baseline", "missing_component")


@dataclass
class AccountReview:
    """The computed review of one account for one quarter."""

    account: dict[str, Any]
    quarter: str
    previous_quarter: str
    as_of: dt.date
    audience: str
    currency: str
    locale: str
    value: value.ValueSummary
    value_previous: value.ValueSummary
    value_series: pd.DataFrame
    drivers: list[value.Driver]
    adoption: Adoption
    nps: pd.DataFrame
    support: pd.DataFrame
    reviews: voice.Reviews
    commercial: Commercial
    plan: pd.DataFrame
    next_plan: pd.DataFrame
    plan_completion_pct: float | None
    headline: list[Headline]
    #: This quarter's NPS comments from promoters, newest first (the customer's own words).
    promoter_comments: list[voice.Comment] = field(default_factory=list)
    health: health.Health | None = None
    health_previous: health.Health | None = None
    risks: list[Risk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    value_at_risk: float | None = None
    bundle_sha256: str = ""
    provided: frozenset[str] = frozenset(schema.TABLES)

    @property
    def next_quarter(self) -> str:
        return periods.shift_quarter(self.quarter, 1)

    def shows(self, part: str) -> bool:
        """Whether the document has `part` (`parts.PART_SOURCES`): its tables were provided."""
        return parts.shows(self.provided, part)

    @property
    def not_provided(self) -> list[str]:
        """The tables the warehouse did not provide, for the methodology appendix."""
        return parts.not_provided(self.provided)

    @property
    def name(self) -> str:
        return str(self.account.get("name", ""))

    def headline_figure(self, key: str) -> Headline:
        for h in self.headline:
            if h.key == key:
                return h
        raise KeyError(key)


def _d(v: Any) -> dt.date | None:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return None
    return pd.Timestamp(v).date()


def _trend_quarters(quarter: str, start: dt.date | None) -> list[str]:
    first = periods.shift_quarter(quarter, -(TREND_QUARTERS - 1))
    if start is not None:
        first = max(first, periods.quarter_of(start))
    return periods.quarters_between(min(first, quarter), quarter)


def _adoption(b: Bundle, quarter: str) -> Adoption:
    usage = b.table("usage")
    weekly = adoption.weekly_active(usage)
    first, last = periods.quarter_bounds(quarter)
    pfirst, plast = periods.quarter_bounds(periods.shift_quarter(quarter, -1))
    util = adoption.utilisation(weekly, first, last)
    prev = adoption.utilisation(weekly, pfirst, plast)
    wq = weekly[(pd.to_datetime(weekly["date"]) >= pd.Timestamp(first))
                & (pd.to_datetime(weekly["date"]) <= pd.Timestamp(last))]
    seats = int(wq.sort_values("date")["licensed_seats"].iloc[-1]) if not wq.empty else None
    active = float(wq["active_users"].mean()) if not wq.empty else None
    feats = adoption.feature_adoption_by_account(usage, first, last)
    feats_prev = adoption.feature_adoption_by_account(usage, pfirst, plast)
    peers = b.peers or {}
    medians = peers.get("feature_adoption_median_pct") or {}
    features = pd.DataFrame(
        {
            "feature": feats["feature"].astype(str),
            "adoption_pct": feats["adoption_pct"].astype(float),
        }
    )
    prev_map = dict(zip(feats_prev["feature"].astype(str), feats_prev["adoption_pct"],
                        strict=True))
    features["previous_pct"] = [prev_map.get(f) for f in features["feature"]]
    features["peer_pct"] = [medians.get(f) for f in features["feature"]]
    features = features.sort_values("adoption_pct", ascending=False).reset_index(drop=True)
    percentile = None
    peer_values = peers.get("utilisation_pct")
    if util is not None and peer_values:
        try:
            percentile = metrics.percentile_rank(util, peer_values)
        except ValueError:
            percentile = None
    return Adoption(
        utilisation_pct=util,
        previous_utilisation_pct=prev,
        seats=seats,
        active_users=active,
        weekly=weekly[pd.to_datetime(weekly["date"]) <= pd.Timestamp(last)],
        features=features,
        peer_percentile=percentile,
        peer_count=int(peers.get("count", 0)),
        min_peers=int(peers.get("min_peers", 5)),
        expansion_signal=util is not None and util >= EXPANSION_UTILISATION,
        low_adoption=util is not None and util < LOW_UTILISATION,
    )


def _commercial(b: Bundle, quarter: str, as_of: dt.date) -> Commercial:
    hist = b.table("arr_history").sort_values("month")
    _, last = periods.quarter_bounds(quarter)
    first, _ = periods.quarter_bounds(quarter)
    hist = hist[pd.to_datetime(hist["month"]) <= pd.Timestamp(last)]
    series = pd.DataFrame({"month": pd.to_datetime(hist["month"]),
                           "arr": hist["arr"].astype(float)}).reset_index(drop=True)
    events = []
    prev = 0.0
    for m, a in zip(series["month"], series["arr"], strict=True):
        if a != prev:
            kind = ("new" if prev == 0 else "expansion" if a > prev else "contraction")
            events.append({"month": m, "kind": kind, "change": a - prev})
        prev = a
    churn = _d(b.account.get("churn_date"))
    if churn is not None and churn <= last:
        events.append({"month": pd.Timestamp(churn), "kind": "churn", "change": -prev})
    before = series[series["month"] < pd.Timestamp(first)]
    renewal = _d(b.account.get("renewal_date"))
    churned = churn is not None and churn <= last
    start = _d(b.account.get("start_date"))
    return Commercial(
        arr=0.0 if churned else value.current_arr(hist, quarter),
        arr_start=float(before["arr"].iloc[-1]) if not before.empty else None,
        arr_history=series,
        events=pd.DataFrame(events, columns=["month", "kind", "change"]),
        renewal_date=renewal,
        days_to_renewal=(renewal - as_of).days if renewal else None,
        churned=churned,
        churn_date=churn,
        start_date=start,
        tenure_months=(periods.months_between(start, churn if churned else last)
                       if start is not None else None),
    )


def _plan(b: Bundle, quarter: str) -> tuple[pd.DataFrame, pd.DataFrame, float | None]:
    plan = b.table("success_plan")
    this = plan[plan["quarter"] == quarter].sort_values(["due_date", "goal"]).reset_index(drop=True)
    nxt = plan[plan["quarter"] == periods.shift_quarter(quarter, 1)]
    nxt = nxt.sort_values(["due_date", "goal"]).reset_index(drop=True)
    rated = this[this["status"] != "not_available"]
    done = None if rated.empty else float((rated["status"] == "completed").mean() * 100.0)
    return this, nxt, done


def _risks(r: AccountReview) -> list[Risk]:
    """Rule-based risks for the internal review, most severe first."""
    risks: list[Risk] = []
    a, c = r.adoption, r.commercial
    if c.churned:
        risks.append(Risk(HIGH, "churned", {"date": c.churn_date}))
    if r.health and r.health.band == health.AT_RISK:
        risks.append(Risk(HIGH, "at_risk", {"score": r.health.score}))
    if c.days_to_renewal is not None and 0 <= c.days_to_renewal <= 180 and r.health \
            and r.health.available and r.health.band != health.HEALTHY:
        risks.append(Risk(HIGH, "renewal", {"days": c.days_to_renewal, "band": r.health.band}))
    if a.low_adoption:
        risks.append(Risk(MEDIUM, "low_adoption",
                          {"utilisation": a.utilisation_pct, "threshold": LOW_UTILISATION}))
    nps_now = r.nps.iloc[-1]["nps"] if not r.nps.empty else None
    if nps_now is not None and not pd.isna(nps_now) and nps_now < 0:
        risks.append(Risk(MEDIUM, "negative_nps", {"nps": float(nps_now)}))
    if c.arr_start and c.arr is not None and c.arr < c.arr_start and not c.churned:
        drop = (c.arr_start - c.arr) / c.arr_start * 100
        risks.append(Risk(MEDIUM, "contraction", {"change": drop}))
    overdue = int((r.plan["status"] == "overdue").sum()) if not r.plan.empty else 0
    if overdue:
        risks.append(Risk(MEDIUM, "overdue_goals", {"count": overdue}))
    if not r.support.empty and int(r.support.iloc[-1]["open_at_end"]) > 0:
        still_open = int(r.support.iloc[-1]["open_at_end"])
        risks.append(Risk(LOW, "open_tickets", {"count": still_open}))
    worse = [d.name for d in r.drivers if d.current is not None
             and value.improvement(d.current, d.baseline, d.direction) < 0]
    if worse:
        risks.append(Risk(MEDIUM, "below_baseline", {"drivers": worse}))
    if r.health:
        for m in r.health.missing:
            risks.append(Risk(LOW, "missing_component", {"component": m}))
    return risks


def build(b: Bundle, *, audience: str | None = None, weights: dict[str, float] | None = None,
          review_clip: tuple[float, float] = DEFAULT_REVIEW_CLIP) -> AccountReview:
    """Compute the account's review for the bundle's quarter."""
    if b.kind != "account":
        raise ValueError(f"bundle {b.path or ''} is a {b.kind} bundle, not an account bundle")
    audience = audience or b.audience
    if audience not in ("customer", "internal"):
        raise ValueError(f"audience must be customer or internal, got {audience!r}")
    if audience == "internal" and b.audience != "internal":
        raise ValueError("an internal review needs an internal bundle (extracted with "
                         "--audience internal)")
    quarter = b.quarter
    prev_q = periods.shift_quarter(quarter, -1)
    drivers_df, meas = b.table("value_drivers"), b.table("value_measurements")
    arr = b.table("arr_history")
    # Measurement values and quarterly cost are computed once for every figure below.
    values = value.measurement_values(drivers_df, meas)
    cost = value.quarterly_cost(arr)
    v_now = value.summarize(drivers_df, meas, arr, quarter, values=values, cost=cost)
    v_prev = value.summarize(drivers_df, meas, arr, prev_q, values=values, cost=cost)
    start = _d(b.account.get("start_date"))
    quarters = _trend_quarters(quarter, start)
    nps_q = voice.nps_by_quarter(b.table("nps_responses"), quarters)
    support_q = voice.support_by_quarter(b.table("support_tickets"), quarters)
    r_first, _ = periods.quarter_bounds(periods.shift_quarter(quarter, -3))
    _, r_last = periods.quarter_bounds(quarter)
    reviews = voice.online_reviews(b.table("online_reviews"), r_first, r_last, review_clip)
    adopt = _adoption(b, quarter)
    commercial = _commercial(b, quarter, b.as_of)
    plan, next_plan, completion = _plan(b, quarter)

    def last_val(df: pd.DataFrame, col: str, idx: int):
        if len(df) < abs(idx):
            return None
        v = df.iloc[idx][col]
        return None if v is None or pd.isna(v) else float(v)

    shown = {p for p in parts.PART_SOURCES if parts.shows(b.provided, p)}
    headline = []
    if "value" not in shown:
        # Without value figures the summary leads with the commercial story.
        headline += [
            Headline("arr", "money", commercial.arr, commercial.arr_start),
            Headline("tenure", "months", commercial.tenure_months, None),
        ]
    else:
        headline += [
            Headline("value_quarter", "money", v_now.value_quarter, v_prev.value_quarter),
            Headline("value_to_date", "money", v_now.value_to_date, v_prev.value_to_date),
            Headline("roi_multiple", "multiple", v_now.roi_multiple, v_prev.roi_multiple),
            Headline("realized_vs_business_case", "pct", v_now.realized_vs_business_case_pct,
                     v_prev.realized_vs_business_case_pct),
        ]
    if "adoption" in shown:
        headline.append(Headline("utilisation", "pct", adopt.utilisation_pct,
                                 adopt.previous_utilisation_pct))
    if "nps" in shown:
        headline.append(Headline("nps", "nps", last_val(nps_q, "nps", -1),
                                 last_val(nps_q, "nps", -2)))
    review = AccountReview(
        account=dict(b.account),
        quarter=quarter,
        previous_quarter=prev_q,
        as_of=b.as_of,
        audience=audience,
        currency=str(b.account.get("currency") or "USD"),
        locale=str(b.account.get("locale") or "en-US"),
        value=v_now,
        value_previous=v_prev,
        value_series=value.value_over_time(drivers_df, meas, arr, quarter, values=values,
                                           cost=cost),
        drivers=value.drivers_for_quarter(drivers_df, meas, quarter, values=values),
        adoption=adopt,
        nps=nps_q,
        support=support_q,
        reviews=reviews,
        commercial=commercial,
        plan=plan,
        next_plan=next_plan,
        plan_completion_pct=completion,
        headline=headline,
        promoter_comments=voice.promoter_comments(b.table("nps_responses"), quarter),
        bundle_sha256=b.sha256,
        provided=b.provided,
    )
    if audience == "internal":
        csat_now = last_val(support_q, "csat", -1)
        review.health = health.assess(
            health.components(adopt.utilisation_pct, v_now.realized_vs_business_case_pct,
                              last_val(nps_q, "nps", -1), csat_now), weights, b.provided)
        review.health_previous = health.assess(
            health.components(adopt.previous_utilisation_pct,
                              v_prev.realized_vs_business_case_pct,
                              last_val(nps_q, "nps", -2), last_val(support_q, "csat", -2)),
            weights, b.provided)
        review.risks = _risks(review)
        notes = plan["internal_note"].dropna().astype(str) if "internal_note" in plan else []
        review.notes = [n for n in notes if n.strip()]
        arr_now = commercial.arr or 0.0
        review.value_at_risk = arr_now if review.health.band == health.AT_RISK else 0.0
    return review
