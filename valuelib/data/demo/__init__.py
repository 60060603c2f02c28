"""A deterministic, believable demo warehouse: fictitious accounts and every contract table.

`generate()` builds the tables as DataFrames from one seed (numpy's `default_rng`, no wall
clock), so the same seed always gives byte-identical data; `write()` loads them into a
`Warehouse`. Companies, people and figures are invented.

Conventions the data follows (the metrics and notebooks rely on them):

- Money is in the account's own currency (`accounts.currency`), rounded to whole units. ARR
  is drawn in USD by segment (SMB ~5-30k, Mid-Market ~30-150k, Enterprise ~150k-1.2M) and
  converted at fixed illustrative rates, so a GEL or MWK account's figures look local.
- `arr_history` has one row per month (first day) from the start month to `as_of`'s month; a
  churned account's rows stop with the month of its last day as a customer (churn_date - 1
  day). Churn happens at a renewal anniversary; a churned account's renewal_date is its
  churn_date (the renewal it did not take). Expansion, contraction and churn are the
  month-over-month changes.
- Value drivers: value delivered in a quarter = the improvement in the driver's desired
  direction (current - baseline for `higher_is_better`, baseline - current for
  `lower_is_better`; zero if it moved the wrong way) x unit_value, where current is the
  quarter's measurement and unit_value is currency per unit of improvement per quarter. After a
  re-baseline the baseline in force at a measurement's period_end (highest baseline_version
  whose baseline_date is on or before it) applies. unit_value is sized so that reaching the
  target is worth about 2-4.5x ARR a year across the account's drivers (the business case).
- `usage` has one row per Monday, account and feature. Every active user uses the "Core"
  feature, so an account's weekly active users = max(active_users) over its feature rows
  that week (= the Core row); active_users <= licensed_seats, and seats step with ARR.
- `success_plan` runs from the start quarter to the quarter after `as_of`'s quarter (next
  quarter's targets); statuses are as of `as_of`.
"""

from valuelib.data.demo.build import (
    BRAND_NEW,
    CHURNED_IN_QUARTER,
    CORE_FEATURE,
    DEFAULT_AS_OF,
    FEATURES,
    FX_PER_USD,
    HARD_CASES,
    INDUSTRIES,
    NO_NPS,
    NO_REVIEWS_NO_TICKETS,
    SEGMENTS,
    UNMEASURED_DRIVER,
    billing_only,
    generate,
    write,
)

__all__ = [
    "BRAND_NEW",
    "CHURNED_IN_QUARTER",
    "CORE_FEATURE",
    "DEFAULT_AS_OF",
    "FEATURES",
    "FX_PER_USD",
    "HARD_CASES",
    "INDUSTRIES",
    "NO_NPS",
    "NO_REVIEWS_NO_TICKETS",
    "SEGMENTS",
    "UNMEASURED_DRIVER",
    "billing_only",
    "generate",
    "write",
]
