"""Shifted-beta-geometric (sBG) retention: fit a cohort, project survival and LTV.

Model: Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer Retention",
Journal of Interactive Marketing 21(1). Summary and worked example: docs/metrics.md,
section "Shifted-beta-geometric retention".

Each customer churns at the end of any period with a probability θ that stays fixed
for that customer; θ varies across customers as Beta(α, β). Then

    r_t = (β + t − 1) / (α + β + t − 1)          retention in period t
    S(t) = r_1 · r_2 · … · r_t                   survival, S(0) = 1
    P(T = t) = S(t − 1) · α / (α + β + t − 1)    churn in period t

which is the same as P(T=1) = α/(α+β), P(T=t) = P(T=t−1)·(β+t−2)/(α+β+t−1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from valuelib.metrics._checks import fmt, in_range, non_negative, number_array, positive, whole

__all__ = [
    "GEOMETRIC_SCALE", "SBGFit", "fit_sbg", "sbg_constant_churn", "sbg_ltv", "sbg_retention",
    "sbg_survival",
]

# Search box for log α and log β. When a cohort shows no spread in churn propensity
# (retention does not rise over time) the likelihood keeps growing as α, β → ∞ with
# α/(α+β) fixed, i.e. constant retention; the box stops the search there, which
# leaves the projected retention right.
_LOG_BOUND = 20.0

#: α + β beyond which a fit is read as the geometric model (no heterogeneity): θ's
#: spread, sqrt(μ(1−μ)/(α+β+1)), is then under 1 % of a churn rate μ of a few percent,
#: and α, β themselves only say "as large as the search allowed".
GEOMETRIC_SCALE = 1e4


@dataclass(frozen=True)
class SBGFit:
    """A fitted sBG model: ``alpha``, ``beta``, the maximised ``log_likelihood`` (on
    the scale of the counts given) and the number of observed ``periods`` after the
    cohort started."""

    alpha: float
    beta: float
    log_likelihood: float
    periods: int


def _check_params(alpha: float, beta: float) -> tuple[float, float]:
    return positive("alpha", alpha), positive("beta", beta)


def _log_terms(alpha: float, beta: float, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """log S(1..periods) and log P(T = 1..periods), computed stably via log r_t."""
    t = np.arange(1, periods + 1, dtype=float)
    log_r = np.log(beta + t - 1.0) - np.log(alpha + beta + t - 1.0)
    log_s = np.cumsum(log_r)
    log_s_before = np.concatenate(([0.0], log_s[:-1]))
    log_p = log_s_before + np.log(alpha) - np.log(alpha + beta + t - 1.0)
    return log_s, log_p


def _log_likelihood(alpha: float, beta: float, lost: np.ndarray, still_active: float) -> float:
    log_s, log_p = _log_terms(alpha, beta, lost.size)
    # Customers lost in period t contribute log P(T=t); those still active after the
    # last observed period are right-censored and contribute log S(n).
    return float(lost @ log_p + still_active * log_s[-1])


def sbg_retention(alpha: float, beta: float, periods: int) -> np.ndarray:
    """Retention rates r_1..r_periods with r_t = (β + t − 1) / (α + β + t − 1).

    Source: Fader & Hardie 2007, "How to Project Customer Retention", J. Interactive
    Marketing (eq. for r_t); docs/metrics.md, "Shifted-beta-geometric retention".
    """
    a, b = _check_params(alpha, beta)
    n = whole("periods", periods, minimum=1)
    t = np.arange(1, n + 1, dtype=float)
    return (b + t - 1.0) / (a + b + t - 1.0)


def sbg_survival(alpha: float, beta: float, periods: int) -> np.ndarray:
    """Survival S(1)..S(periods), where S(t) = r_1 · … · r_t (and S(0) = 1).

    Source: Fader & Hardie 2007, "How to Project Customer Retention", J. Interactive
    Marketing; docs/metrics.md, "Shifted-beta-geometric retention".
    """
    a, b = _check_params(alpha, beta)
    n = whole("periods", periods, minimum=1)
    log_s, _ = _log_terms(a, b, n)
    return np.exp(log_s)


def sbg_ltv(
    alpha: float,
    beta: float,
    arpa: float,
    gross_margin: float,
    discount_rate: float,
    horizon: int,
) -> float:
    """Projected, discounted lifetime value of a new customer over ``horizon`` periods.

    LTV = margin × Σ_{t=1..horizon} S(t) · ARPA / (1 + d)^t — the docs/metrics.md formula
    taken literally: the payment of period t counts only if the customer survived to t
    and is discounted t periods, so the cohort's first payment (period 0, S(0) = 1) is
    NOT included; add ARPA × margin to count it. ARPA, d and the model's period must
    be the same (e.g. all yearly). Sources: docs/metrics.md, "Shifted-beta-geometric
    retention"; Fader & Hardie 2007, "How to Project Customer Retention", J.
    Interactive Marketing.
    """
    a, b = _check_params(alpha, beta)
    revenue = non_negative("arpa", arpa)
    margin = in_range("gross_margin", gross_margin, 0.0, 1.0)
    rate = non_negative("discount_rate", discount_rate)
    n = whole("horizon", horizon, minimum=1)
    survival = sbg_survival(a, b, n)
    discount = (1.0 + rate) ** -np.arange(1, n + 1, dtype=float)
    return float(margin * revenue * float(survival @ discount))


def sbg_constant_churn(alpha: float, beta: float) -> float | None:
    """The constant churn rate α/(α+β) of a period when the fit has degenerated to the
    geometric model (α + β > GEOMETRIC_SCALE: no spread in churn between customers), else
    None (α and β describe a real spread). Source: Fader & Hardie 2007, "How to Project
    Customer Retention", J. Interactive Marketing (the sBG's geometric limit).
    """
    a, b = _check_params(alpha, beta)
    return a / (a + b) if a + b > GEOMETRIC_SCALE else None


def fit_sbg(survivors: Iterable[float]) -> SBGFit:
    """Maximum-likelihood sBG fit to one cohort's survivors.

    ``survivors``: customers still active at the start (the cohort size) and after each
    period, e.g. 1000, 631, 468, …; non-increasing, at least 2 observed periods (3
    values: with one period only α/(α+β) is identified). Maximises
    LL = Σ_t (S_{t−1} − S_t)·log P(T=t) + S_n·log S(n) (the last group right-censored)
    over log α, log β with scipy.optimize (Nelder–Mead). Source: Fader & Hardie 2007,
    "How to Project Customer Retention", J. Interactive Marketing; docs/metrics.md,
    "Shifted-beta-geometric retention".
    """
    counts = number_array("survivors", survivors)
    if counts.size < 3:
        raise ValueError(
            "survivors must cover at least 2 periods (the cohort size and 2 more values), "
            f"got {counts.size} value(s)"
        )
    if counts[0] <= 0:
        raise ValueError(f"survivors[0] (the cohort size) must be > 0, got {fmt(counts[0])}")
    negative = np.flatnonzero(counts < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"survivors must be >= 0, got survivors[{i}] = {fmt(counts[i])}")
    rises = np.flatnonzero(np.diff(counts) > 0)
    if rises.size:
        i = int(rises[0])
        raise ValueError(
            f"survivors must be non-increasing, got survivors[{i + 1}] = {fmt(counts[i + 1])}"
            f" > survivors[{i}] = {fmt(counts[i])}"
        )

    # Fit on shares of the cohort so the tolerances do not depend on its size.
    shares = counts / counts[0]
    lost = shares[:-1] - shares[1:]
    still_active = float(shares[-1])

    def objective(log_params: np.ndarray) -> float:
        a, b = np.exp(log_params)
        return -_log_likelihood(float(a), float(b), lost, still_active)

    from scipy.optimize import minimize  # imported here: scipy.optimize is slow to import

    result = minimize(
        objective,
        x0=np.zeros(2),
        method="Nelder-Mead",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 2,
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000},
    )
    if not result.success or not np.all(np.isfinite(result.x)):
        raise ValueError(f"survivors: the sBG fit did not converge ({result.message})")
    alpha, beta = (float(v) for v in np.exp(result.x))
    log_likelihood = _log_likelihood(alpha, beta, counts[:-1] - counts[1:], float(counts[-1]))
    return SBGFit(
        alpha=alpha, beta=beta, log_likelihood=log_likelihood, periods=int(counts.size - 1)
    )
