"""Adoption figures: weekly active users against seats, seat utilisation, feature adoption.

Formulas (shown in every review's methodology appendix):
- weekly active users = the largest `active_users` among the week's feature rows (every active
  user uses at least the core feature); seats = the week's `licensed_seats`;
- seat utilisation = mean over the period's weeks of active users / seats × 100;
- feature adoption = mean over the period's weeks of the feature's active users / seats × 100.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

UTILISATION_FORMULA = "mean over the quarter's weeks of weekly active users / licensed seats × 100"
FEATURE_FORMULA = (
    "mean over the quarter's weeks of the feature's active users / licensed seats × 100"
)


def weekly_active(usage: pd.DataFrame) -> pd.DataFrame:
    """One row per account and week: active users (max over features) and licensed seats."""
    if usage.empty:
        return pd.DataFrame(columns=["account_id", "date", "active_users", "licensed_seats"])
    if "feature" not in usage.columns:  # already weekly (the portfolio bundle)
        return usage[["account_id", "date", "active_users", "licensed_seats"]].copy()
    out = (
        usage.groupby(["account_id", "date"], as_index=False)
        .agg(active_users=("active_users", "max"), licensed_seats=("licensed_seats", "max"))
        .sort_values(["account_id", "date"])
    )
    return out.reset_index(drop=True)


def _in_period(df: pd.DataFrame, first: dt.date, last: dt.date, col: str = "date") -> pd.DataFrame:
    d = pd.to_datetime(df[col])
    return df[((d >= pd.Timestamp(first)) & (d <= pd.Timestamp(last))).to_numpy()]


def utilisation_by_account(weekly: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Per account, seat utilisation in percent over the weeks in [first, last]."""
    w = _in_period(weekly, first, last)
    w = w[w["licensed_seats"] > 0]
    if w.empty:
        return pd.DataFrame(columns=["account_id", "utilisation_pct"])
    ratio = w["active_users"].astype(float) / w["licensed_seats"].astype(float) * 100.0
    out = ratio.groupby(w["account_id"]).mean().rename("utilisation_pct").reset_index()
    return out


def feature_adoption_by_account(usage: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Per account and feature, feature adoption in percent over the weeks in [first, last]."""
    u = _in_period(usage, first, last) if not usage.empty else usage
    u = u[u["licensed_seats"] > 0] if not u.empty else u
    if u.empty:
        return pd.DataFrame(columns=["account_id", "feature", "adoption_pct"])
    ratio = u["active_users"].astype(float) / u["licensed_seats"].astype(float) * 100.0
    out = (
        ratio.groupby([u["account_id"], u["feature"]]).mean().rename("adoption_pct").reset_index()
    )
    return out
