"""Voice of the customer: NPS, CSAT and the online-review sales estimate.

Formulas and worked examples: docs/metrics.md, section "Voice of the customer".
"""

from __future__ import annotations

from collections.abc import Iterable

from valuelib.metrics._checks import fmt, non_negative, number, scale_scores

__all__ = ["csat", "nps", "review_sales_impact"]


def nps(scores: Iterable[float]) -> float:
    """Net Promoter Score, −100..100: % promoters (9–10) − % detractors (0–6).

    ``scores`` are whole numbers 0–10, one per answer; drop unanswered surveys before
    calling (a NaN is refused). Source: docs/metrics.md, "Voice of the customer" (``nps``).
    """
    answers = scale_scores("scores", scores, 0, 10)
    promoters = int((answers >= 9).sum())
    detractors = int((answers <= 6).sum())
    return float((promoters - detractors) / answers.size * 100.0)


def csat(ratings: Iterable[float]) -> float:
    """Customer satisfaction in percent: answers of 4 or 5 / all answers × 100.

    ``ratings`` are whole numbers 1–5; drop tickets without a rating before calling.
    Source: docs/metrics.md, "Voice of the customer" (``csat``).
    """
    answers = scale_scores("ratings", ratings, 1, 5)
    return float(int((answers >= 4).sum()) / answers.size * 100.0)


def review_sales_impact(
    positive: float,
    negative: float,
    resolved: float,
    *,
    clip: tuple[float, float] | None = None,
) -> float:
    """Estimated sales effect of online reviews, in percent (illustrative only).

    V% = 7.9 × (0.62·P − 0.17·N² + 0.15·R): P positive, N negative and R resolved
    negative reviews (R <= N). The raw formula is unbounded and depends on scale, so
    documents label it an estimate and pass ``clip=(lo, hi)`` to bound it.
    Source: docs/metrics.md, "Voice of the customer" (``review_sales_impact``; formula
    commissioned by Trustpilot, 2014).
    """
    p = non_negative("positive", positive)
    n = non_negative("negative", negative)
    r = non_negative("resolved", resolved)
    if r > n:
        raise ValueError(f"resolved must be <= negative ({fmt(n)}), got {fmt(r)}")
    impact = 7.9 * (0.62 * p - 0.17 * n * n + 0.15 * r)
    if clip is not None:
        if isinstance(clip, str | bytes) or not hasattr(clip, "__len__") or len(clip) != 2:
            raise ValueError(f"clip must be a (low, high) pair, got {clip!r}")
        low = number("clip[0]", clip[0])
        high = number("clip[1]", clip[1])
        if low > high:
            raise ValueError(f"clip must have low <= high, got ({fmt(low)}, {fmt(high)})")
        impact = min(max(impact, low), high)
    return float(impact)
