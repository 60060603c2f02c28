"""Customer and revenue retention: CRR, logo churn, GRR, NRR, DRR and revenue churn.

Formulas and worked examples: docs/metrics.md, section "Retention". All results are in
percent. Revenue inputs are ARR amounts for one period: ARR at its start (``start_arr``,
ARR₀) and the ARR lost to churned accounts, lost to contraction and gained by expansion
of accounts that were customers at the start. New customers' ARR is never an input.
"""

from __future__ import annotations

from valuelib.metrics._checks import fmt, non_negative, positive

__all__ = ["crr", "drr", "grr", "logo_churn", "nrr", "revenue_churn"]

_KINDS = ("net", "gross")
# Sums of per-account floats can overshoot by a rounding error; allow for that only.
_ROUNDING = 1e-9


def crr(start_customers: float, end_customers: float, new_customers: float) -> float:
    """Customer (logo) retention rate in percent.

    CRR = (E − N) / S × 100, with S customers at the start of the period, E at its end
    and N new customers won during it. Source: docs/metrics.md, "Retention" (``crr``).
    """
    start = positive("start_customers", start_customers)
    end = non_negative("end_customers", end_customers)
    new = non_negative("new_customers", new_customers)
    if new > end:
        raise ValueError(f"new_customers must be <= end_customers ({fmt(end)}), got {fmt(new)}")
    kept = end - new
    if kept > start:
        raise ValueError(
            f"end_customers - new_customers (customers kept, {fmt(kept)}) must be "
            f"<= start_customers ({fmt(start)})"
        )
    return float(kept / start * 100.0)


def logo_churn(start_customers: float, cancelled: float) -> float:
    """Logo churn in percent: customers who cancelled / customers at the start × 100.

    Source: docs/metrics.md, "Retention" (logo churn).
    """
    start = positive("start_customers", start_customers)
    lost = non_negative("cancelled", cancelled)
    if lost > start:
        raise ValueError(f"cancelled must be <= start_customers ({fmt(start)}), got {fmt(lost)}")
    return float(lost / start * 100.0)


def _lost_arr(start_arr: float, churned_arr: float, contraction_arr: float) -> tuple[float, float]:
    """Checked (ARR₀, churned + contraction); the loss can never exceed ARR₀."""
    start = positive("start_arr", start_arr)
    churned = non_negative("churned_arr", churned_arr)
    contraction = non_negative("contraction_arr", contraction_arr)
    lost = churned + contraction
    if lost > start * (1 + _ROUNDING):
        raise ValueError(
            f"churned_arr + contraction_arr ({fmt(lost)}) must be <= start_arr ({fmt(start)})"
        )
    return start, min(lost, start)


def _check_kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'net' or 'gross', got {kind!r}")
    return kind


def grr(start_arr: float, churned_arr: float, contraction_arr: float) -> float:
    """Gross revenue retention in percent, never above 100.

    GRR = (ARR₀ − churned − contraction) / ARR₀ × 100. Churned plus contraction may not
    exceed ARR₀. Source: docs/metrics.md, "Retention" (``grr``).
    """
    start, lost = _lost_arr(start_arr, churned_arr, contraction_arr)
    return float((start - lost) / start * 100.0)


def nrr(
    start_arr: float, churned_arr: float, contraction_arr: float, expansion_arr: float
) -> float:
    """Net revenue retention in percent (new customers excluded).

    NRR = (ARR₀ − churned − contraction + expansion) / ARR₀ × 100.
    Source: docs/metrics.md, "Retention" (``nrr``).
    """
    start, lost = _lost_arr(start_arr, churned_arr, contraction_arr)
    expansion = non_negative("expansion_arr", expansion_arr)
    return float((start - lost + expansion) / start * 100.0)


def drr(
    start_arr: float,
    churned_arr: float,
    contraction_arr: float,
    expansion_arr: float,
    kind: str = "net",
) -> float:
    """Dollar retention rate in percent: ``kind="net"`` is NRR, ``kind="gross"`` is GRR.

    Net: (ARR₀ − churned − contraction + expansion) / ARR₀ × 100; gross drops expansion.
    Documents must say which kind they show. Source: docs/metrics.md, "Retention" (``drr``);
    the (ARR₁ − new + expansion − contraction) / ARR₀ variant it warns about is not used.
    """
    _check_kind(kind)
    if kind == "gross":
        # Expansion is still validated so that a bad input is never silently ignored.
        non_negative("expansion_arr", expansion_arr)
        return grr(start_arr, churned_arr, contraction_arr)
    return nrr(start_arr, churned_arr, contraction_arr, expansion_arr)


def revenue_churn(
    start_arr: float,
    churned_arr: float,
    contraction_arr: float,
    expansion_arr: float = 0,
    kind: str = "gross",
) -> float:
    """Revenue churn in percent; net churn below zero is "negative churn".

    Gross = (churned + contraction) / ARR₀ × 100; net = (churned + contraction −
    expansion) / ARR₀ × 100. Source: docs/metrics.md, "Retention" (revenue churn).
    """
    _check_kind(kind)
    start, lost = _lost_arr(start_arr, churned_arr, contraction_arr)
    expansion = non_negative("expansion_arr", expansion_arr)
    if kind == "gross":
        return float(lost / start * 100.0)
    return float((lost - expansion) / start * 100.0)
