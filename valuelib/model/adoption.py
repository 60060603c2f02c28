"""One account's adoption figures, from the formulas in `valuelib.metrics.adoption`.

The per-account and per-feature formulas live in metrics, below the data stage, because the
extract computes the same figures for the anonymous peer aggregates; they are imported here so
the review's code keeps reading them as `adoption.weekly_active` and so on.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from valuelib.metrics.adoption import (
    FEATURE_FORMULA,
    UTILISATION_FORMULA,
    feature_adoption_by_account,
    utilisation_by_account,
    weekly_active,
)

__all__ = ["FEATURE_FORMULA", "UTILISATION_FORMULA", "feature_adoption_by_account",
           "utilisation", "utilisation_by_account", "weekly_active"]


def utilisation(weekly: pd.DataFrame, first: dt.date, last: dt.date) -> float | None:
    """One account's seat utilisation in percent over [first, last]; None without usage."""
    df = utilisation_by_account(weekly, first, last)
    return None if df.empty else float(df["utilisation_pct"].iloc[0])
