"""Voice of the customer: NPS, CSAT and support per quarter; online reviews and their effect.

NPS, CSAT and the review sales effect come from `valuelib.metrics` (nps, csat,
review_sales_impact); this module only groups the account's rows by quarter. Resolution time is
the median of resolved_at − opened_at in hours over tickets opened in the quarter and resolved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from valuelib import metrics
from valuelib.metrics import periods


def _quarter_col(dates: pd.Series) -> list[str]:
    return [periods.quarter_of(pd.Timestamp(d).date()) for d in dates]


def _metric_or_none(fn, values):
    try:
        return fn(values)
    except ValueError:
        return None


@dataclass(frozen=True)
class Comment:
    """An NPS answer's comment with its score."""

    text: str
    score: int


def promoter_comments(responses: pd.DataFrame, quarter: str) -> list[Comment]:
    """The quarter's NPS comments from promoters (score 9–10), stripped, newest first."""
    if responses.empty:
        return []
    picked = [p for p in responses.itertuples()
              if not _missing(p.comment) and str(p.comment).strip() and p.score >= 9
              and periods.quarter_of(pd.Timestamp(p.responded_at).date()) == quarter]
    picked.sort(key=lambda p: p.responded_at, reverse=True)
    return [Comment(str(p.comment).strip(), int(p.score)) for p in picked]


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v))


def nps_by_quarter(responses: pd.DataFrame, quarters: list[str]) -> pd.DataFrame:
    """Per quarter: answers, promoters, passives, detractors and NPS (None without answers)."""
    rows = []
    q = _quarter_col(responses["responded_at"]) if not responses.empty else []
    r = responses.assign(quarter=q) if not responses.empty else responses
    for quarter in quarters:
        s = r[r["quarter"] == quarter]["score"].astype(int).tolist() if not r.empty else []
        rows.append(
            {
                "quarter": quarter,
                "responses": len(s),
                "promoters": sum(1 for x in s if x >= 9),
                "passives": sum(1 for x in s if 7 <= x <= 8),
                "detractors": sum(1 for x in s if x <= 6),
                "nps": _metric_or_none(metrics.nps, s) if s else None,
            }
        )
    return pd.DataFrame(rows)


def support_by_quarter(tickets: pd.DataFrame, quarters: list[str]) -> pd.DataFrame:
    """Per quarter: tickets opened, critical ones, median resolution hours, CSAT, still open."""
    rows = []
    t = tickets.assign(quarter=_quarter_col(tickets["opened_at"])) if not tickets.empty else None
    if t is not None:  # converted once, not once per quarter
        opened_all = pd.to_datetime(t["opened_at"])
        resolved_all = pd.to_datetime(t["resolved_at"])
        unresolved = resolved_all.isna()
    for quarter in quarters:
        _, last = periods.quarter_bounds(quarter)
        end = pd.Timestamp(last) + pd.Timedelta(days=1)
        s = t[t["quarter"] == quarter] if t is not None else pd.DataFrame()
        hours = None
        ratings: list[int] = []
        open_at_end = 0
        if t is not None and not s.empty:
            res = s.dropna(subset=["resolved_at"])
            res = res[pd.to_datetime(res["resolved_at"]) < end]
            if not res.empty:
                delta = pd.to_datetime(res["resolved_at"]) - pd.to_datetime(res["opened_at"])
                hours = float((delta.dt.total_seconds() / 3600.0).median())
            ratings = [int(x) for x in s["csat"].dropna()]
        if t is not None:
            opened = opened_all < end
            open_at_end = int((opened & (unresolved | (resolved_all >= end))).sum())
        rows.append(
            {
                "quarter": quarter,
                "tickets": int(len(s)),
                "critical": int((s["severity"] == "critical").sum()) if len(s) else 0,
                "median_resolution_hours": hours,
                "csat_responses": len(ratings),
                "csat": _metric_or_none(metrics.csat, ratings) if ratings else None,
                "open_at_end": open_at_end,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Reviews:
    """Online reviews over a window and their illustrative sales effect."""

    first: dt.date
    last: dt.date
    count: int
    positive: int
    negative: int
    resolved_negative: int
    average_rating: float | None
    impact_raw_pct: float | None
    impact_pct: float | None
    clip: tuple[float, float]


def online_reviews(reviews: pd.DataFrame, first: dt.date, last: dt.date,
                   clip: tuple[float, float]) -> Reviews:
    """Counts of positive, negative and resolved negative reviews in [first, last] and the
    Trustpilot-commissioned sales effect (raw, and clipped to `clip`)."""
    r = reviews
    if not r.empty:
        d = pd.to_datetime(r["posted_at"])
        r = r[((d >= pd.Timestamp(first)) & (d <= pd.Timestamp(last))).to_numpy()]
    if r.empty:
        return Reviews(first, last, 0, 0, 0, 0, None, None, None, clip)
    pos = int((r["sentiment"] == "positive").sum())
    neg_rows = r[r["sentiment"] == "negative"]
    neg = int(len(neg_rows))
    resolved = int(neg_rows["resolved"].astype(bool).sum())
    raw = metrics.review_sales_impact(pos, neg, resolved)
    clipped = metrics.review_sales_impact(pos, neg, resolved, clip=clip)
    return Reviews(first, last, int(len(r)), pos, neg, resolved,
                   float(r["rating"].astype(float).mean()), raw, clipped, clip)
