"""valuelib.metrics: every figure in a value review, as a pure function.

No I/O, no plotting, no logging (docs/architecture.md, "Data flow"). Each formula and its worked
example is in docs/metrics.md; percentages are returned in percent (90.0, not 0.9), and
an input that makes a formula meaningless raises ``ValueError`` naming that input.

Modules: ``retention`` (CRR, logo churn, GRR, NRR, DRR, revenue churn), ``value``
(LTV, ROI, payback, value realized), ``voice`` (NPS, CSAT, review impact), ``health``
(health score, ROC AUC), ``peers`` (percentile rank), ``adoption`` (seat utilisation and
feature adoption over usage rows), ``sbg`` (shifted-beta-geometric
retention) and ``periods`` (quarters, months, ARR movements, retention figures).
"""

from valuelib.metrics.health import HealthScore, health_score, roc_auc
from valuelib.metrics.peers import MIN_PEERS, percentile_rank
from valuelib.metrics.periods import (
    arr_movements,
    month_end,
    months_between,
    movement_totals,
    parse_quarter,
    quarter_bounds,
    quarter_months,
    quarter_of,
    quarters_between,
    retention_figures,
    shift_quarter,
    trailing_months,
)
from valuelib.metrics.retention import crr, drr, grr, logo_churn, nrr, revenue_churn
from valuelib.metrics.sbg import (
    GEOMETRIC_SCALE,
    SBGFit,
    fit_sbg,
    sbg_constant_churn,
    sbg_ltv,
    sbg_retention,
    sbg_survival,
)
from valuelib.metrics.value import ltv, payback_months, roi, roi_multiple, value_realized_pct
from valuelib.metrics.voice import csat, nps, review_sales_impact

__all__ = [
    # retention
    "crr",
    "logo_churn",
    "grr",
    "nrr",
    "drr",
    "revenue_churn",
    # lifetime and return
    "ltv",
    "roi",
    "roi_multiple",
    "payback_months",
    "value_realized_pct",
    # voice of the customer
    "nps",
    "csat",
    "review_sales_impact",
    # health
    "HealthScore",
    "health_score",
    "roc_auc",
    # peers
    "MIN_PEERS",
    "percentile_rank",
    # shifted-beta-geometric retention
    "GEOMETRIC_SCALE",
    "SBGFit",
    "fit_sbg",
    "sbg_constant_churn",
    "sbg_survival",
    "sbg_retention",
    "sbg_ltv",
    # periods and ARR movements
    "parse_quarter",
    "quarter_bounds",
    "quarter_months",
    "quarter_of",
    "shift_quarter",
    "quarters_between",
    "arr_movements",
    "month_end",
    "months_between",
    "movement_totals",
    "retention_figures",
    "trailing_months",
]
