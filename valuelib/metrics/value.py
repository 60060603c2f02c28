"""Lifetime value and return: LTV, ROI, payback and value realized against a target.

Formulas and worked examples: docs/metrics.md, section "Lifetime and return".
"""

from __future__ import annotations

from valuelib.metrics._checks import fmt, in_range, non_negative, number, positive

__all__ = ["ltv", "payback_months", "roi", "roi_multiple", "value_realized_pct"]


def ltv(arpa: float, gross_margin: float, churn_rate: float) -> float:
    """B2B customer lifetime value: ARPA × gross margin / churn rate.

    All three per the same period (e.g. per month); ``gross_margin`` and ``churn_rate``
    are fractions (0.8 and 0.02, not 80 and 2). The expected lifetime is 1 / churn_rate.
    Source: docs/metrics.md, "Lifetime and return" (``ltv``).
    """
    revenue = non_negative("arpa", arpa)
    margin = in_range("gross_margin", gross_margin, 0.0, 1.0)
    churn = in_range("churn_rate", churn_rate, 0.0, 1.0, low_open=True)
    return float(revenue * margin / churn)


def roi(benefit: float, cost: float) -> float:
    """Return on investment in percent: (benefit − cost) / cost × 100.

    Show it with the multiple, :func:`roi_multiple`. Source: docs/metrics.md, "Lifetime and
    return" (``roi``).
    """
    gain = non_negative("benefit", benefit)
    spend = positive("cost", cost)
    return float((gain - spend) / spend * 100.0)


def roi_multiple(benefit: float, cost: float) -> float:
    """Return as a multiple: benefit / cost (2.5 is shown as "2.5×").

    Source: docs/metrics.md, "Lifetime and return" (``roi``: "also show the multiple").
    """
    gain = non_negative("benefit", benefit)
    spend = positive("cost", cost)
    return float(gain / spend)


def payback_months(cost: float, monthly_net_benefit: float) -> float:
    """Payback period in months: cost / monthly net benefit.

    For CAC payback the monthly net benefit is ARPA × gross margin. A benefit of zero
    or less never pays back and is refused. Source: docs/metrics.md, "Lifetime and return"
    (payback).
    """
    spend = non_negative("cost", cost)
    benefit = positive("monthly_net_benefit", monthly_net_benefit)
    return float(spend / benefit)


def value_realized_pct(baseline: float, current: float, target: float) -> float:
    """Progress from baseline to target in percent, clipped to 0–100.

    (current − baseline) / (target − baseline) × 100. The sign of (target − baseline)
    carries the direction, so it works unchanged when lower is better (target <
    baseline). Going the wrong way gives 0, passing the target gives 100.
    Source: docs/metrics.md, "Lifetime and return" (``value_realized_pct``).
    """
    start = number("baseline", baseline)
    now = number("current", current)
    goal = number("target", target)
    if goal == start:
        raise ValueError(f"target must differ from baseline (both are {fmt(goal)})")
    progress = (now - start) / (goal - start) * 100.0
    return float(min(max(progress, 0.0), 100.0))
