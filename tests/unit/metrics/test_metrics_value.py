"""Lifetime and return: the worked examples of docs/metrics.md, "Lifetime and return"."""

import math

import pytest

from valuelib.metrics import ltv, payback_months, roi, roi_multiple, value_realized_pct


def test_ltv_worked_example():
    assert ltv(2000, 0.80, 0.02) == pytest.approx(80_000)
    # expected lifetime 1 / 0.02 = 50 months: LTV = ARPA × margin × lifetime
    assert ltv(2000, 0.80, 0.02) == pytest.approx(2000 * 0.80 * 50)


def test_roi_worked_example():
    assert roi(250_000, 100_000) == pytest.approx(150.0)
    assert roi_multiple(250_000, 100_000) == pytest.approx(2.5)


def test_roi_can_be_negative():
    assert roi(50, 100) == pytest.approx(-50.0)


def test_payback_worked_example():
    # CAC 24,000; ARPA 2,000; margin 0.8 -> monthly net benefit 1,600.
    assert payback_months(24_000, 2_000 * 0.8) == pytest.approx(15.0)


def test_value_realized_worked_example_lower_is_better():
    # onboarding 8 weeks at baseline, target 4, now 6
    assert value_realized_pct(8, 6, 4) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("baseline", "current", "target", "expected"),
    [
        # higher is better
        (10, 15, 20, 50.0),
        (10, 25, 20, 100.0),  # past the target: clipped
        (10, 5, 20, 0.0),  # went the wrong way: clipped
        (10, 10, 20, 0.0),
        (10, 20, 20, 100.0),
        # lower is better
        (8, 2, 4, 100.0),  # better than the target: clipped
        (8, 9, 4, 0.0),  # got worse: clipped
        (8, 7, 4, 25.0),
        (0, -3, -4, 75.0),
    ],
)
def test_value_realized_clips_both_ways_in_both_directions(baseline, current, target, expected):
    assert value_realized_pct(baseline, current, target) == pytest.approx(expected)


def test_results_are_plain_floats():
    values = (
        ltv(2000, 0.8, 0.02),
        roi(2, 1),
        roi_multiple(2, 1),
        payback_months(2, 1),
        value_realized_pct(8, 6, 4),
    )
    assert all(type(v) is float for v in values)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: ltv(-1, 0.8, 0.02), "arpa"),
        (lambda: ltv(2000, 80, 0.02), "gross_margin"),
        (lambda: ltv(2000, -0.1, 0.02), "gross_margin"),
        (lambda: ltv(2000, 0.8, 0), "churn_rate"),
        (lambda: ltv(2000, 0.8, 2.0), "churn_rate"),  # a percent, not a fraction
        (lambda: ltv(2000, 0.8, math.nan), "churn_rate"),
        (lambda: roi(100, 0), "cost"),
        (lambda: roi(-1, 10), "benefit"),
        (lambda: roi_multiple(100, 0), "cost"),
        (lambda: roi_multiple(math.nan, 1), "benefit"),
        (lambda: payback_months(100, 0), "monthly_net_benefit"),
        (lambda: payback_months(100, -5), "monthly_net_benefit"),
        (lambda: payback_months(-1, 5), "cost"),
        (lambda: value_realized_pct(4, 6, 4), "target"),
        (lambda: value_realized_pct(math.nan, 6, 4), "baseline"),
        (lambda: value_realized_pct(8, None, 4), "current"),
        (lambda: value_realized_pct(8, 6, math.inf), "target"),
    ],
)
def test_errors_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
