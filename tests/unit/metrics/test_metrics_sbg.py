"""Shifted-beta-geometric retention (Fader & Hardie 2007; docs/metrics.md)."""

import dataclasses
import math

import numpy as np
import pytest

from valuelib.metrics import SBGFit, fit_sbg, sbg_ltv, sbg_retention, sbg_survival
from valuelib.metrics.sbg import GEOMETRIC_SCALE, sbg_constant_churn

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def test_fit_reproduces_fader_hardie_regular_cohort():
    fit = fit_sbg(REGULAR)
    assert isinstance(fit, SBGFit)
    assert round(fit.alpha, 3) == 0.704
    assert round(fit.beta, 3) == 1.182
    assert round(fit.log_likelihood, 2) == -1680.27
    assert fit.periods == 7
    assert all(type(v) is float for v in (fit.alpha, fit.beta, fit.log_likelihood))


def test_fit_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit_sbg(REGULAR).alpha = 1.0  # type: ignore[misc]


def test_fit_does_not_depend_on_cohort_scale_except_log_likelihood():
    small = fit_sbg([s / 1000 for s in REGULAR])
    big = fit_sbg(REGULAR)
    assert small.alpha == pytest.approx(big.alpha, rel=1e-4)
    assert small.beta == pytest.approx(big.beta, rel=1e-4)
    assert small.log_likelihood == pytest.approx(big.log_likelihood / 1000, rel=1e-6)


def test_fit_recovers_known_parameters_from_their_expected_survivors():
    survival = sbg_survival(1.5, 3.0, 10)
    fit = fit_sbg([1_000_000, *(1_000_000 * survival)])
    assert fit.alpha == pytest.approx(1.5, rel=1e-3)
    assert fit.beta == pytest.approx(3.0, rel=1e-3)


def test_constant_retention_fits_as_large_alpha_beta_with_the_right_ratio():
    fit = fit_sbg([1000, 900, 810, 729, 656.1])
    assert fit.alpha > 1e3
    assert sbg_retention(fit.alpha, fit.beta, 3) == pytest.approx([0.9, 0.9, 0.9], abs=1e-4)


def test_a_constant_churn_fit_reads_as_the_geometric_model():
    fit = fit_sbg([1000, 900, 810, 729, 656.1])
    assert fit.alpha + fit.beta > GEOMETRIC_SCALE
    assert sbg_constant_churn(fit.alpha, fit.beta) == pytest.approx(0.1, abs=1e-4)


def test_a_fit_with_spread_between_customers_has_no_constant_churn():
    fit = fit_sbg(REGULAR)
    assert sbg_constant_churn(fit.alpha, fit.beta) is None
    assert sbg_constant_churn(1.5, 3.0) is None


def test_retention_and_survival_by_hand():
    a, b = 0.704, 1.182
    r = sbg_retention(a, b, 3)
    assert r[0] == pytest.approx(b / (a + b))
    assert r[2] == pytest.approx((b + 2) / (a + b + 2))
    assert sbg_survival(a, b, 3) == pytest.approx(np.cumprod(r))
    # the recursion of docs/metrics.md: P(T=t) = P(T=t-1)(b+t-2)/(a+b+t-1), S(t) = 1 - sum P
    p = [a / (a + b)]
    for t in range(2, 4):
        p.append(p[-1] * (b + t - 2) / (a + b + t - 1))
    assert sbg_survival(a, b, 3) == pytest.approx(1 - np.cumsum(p))


def test_projection_is_close_to_the_observed_regular_cohort():
    fit = fit_sbg(REGULAR)
    projected = 1000 * sbg_survival(fit.alpha, fit.beta, 7)
    assert projected == pytest.approx(REGULAR[1:], abs=10)


def test_sbg_ltv_is_the_literal_metrics_formula():
    # alpha = beta = 1: S(t) = 1 / (t + 1)
    assert sbg_ltv(1, 1, 100, 0.5, 0.0, 3) == pytest.approx(50 * (1 / 2 + 1 / 3 + 1 / 4))
    assert sbg_ltv(1, 1, 100, 0.5, 0.1, 2) == pytest.approx(50 * ((1 / 2) / 1.1 + (1 / 3) / 1.1**2))
    # The first payment (S(0) = 1) is not included.
    assert sbg_ltv(1, 1, 100, 1.0, 0.0, 1) == pytest.approx(50.0)


def test_sbg_ltv_worked_example():
    # docs/metrics.md#shifted-beta-geometric-retention: 50 × (1/2 + 1/3 + 1/4) = 54.17
    assert round(sbg_ltv(1, 1, 100, 0.5, 0.0, 3), 2) == 54.17


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: fit_sbg([]), "survivors"),
        (lambda: fit_sbg([1000]), "survivors"),
        (lambda: fit_sbg([1000, 600]), "survivors"),
        (lambda: fit_sbg([1000, 600, 700]), "survivors"),
        (lambda: fit_sbg([0, 0, 0]), r"survivors\[0\]"),
        (lambda: fit_sbg([1000, 600, -1]), "survivors"),
        (lambda: fit_sbg([1000, math.nan, 500]), "survivors"),
        (lambda: sbg_survival(0, 1, 3), "alpha"),
        (lambda: sbg_survival(1, -1, 3), "beta"),
        (lambda: sbg_survival(1, 1, 0), "periods"),
        (lambda: sbg_survival(1, 1, 2.5), "periods"),
        (lambda: sbg_retention(math.nan, 1, 3), "alpha"),
        (lambda: sbg_ltv(1, 1, -1, 0.5, 0.1, 3), "arpa"),
        (lambda: sbg_ltv(1, 1, 100, 1.5, 0.1, 3), "gross_margin"),
        (lambda: sbg_ltv(1, 1, 100, 0.5, -0.1, 3), "discount_rate"),
        (lambda: sbg_ltv(1, 1, 100, 0.5, 0.1, 0), "horizon"),
    ],
)
def test_errors_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        call()


def test_survival_values_stay_positive_for_long_horizons():
    s = sbg_survival(2.0, 0.5, 500)
    assert np.all(s > 0) and math.isfinite(float(s[-1]))
