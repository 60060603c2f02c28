"""Retention metrics: the worked examples of docs/metrics.md, "Retention", and their errors."""

import math

import pytest

from valuelib.metrics import crr, drr, grr, logo_churn, nrr, revenue_churn

# docs/metrics.md example: ARR₀ 1,000,000, churned 80,000, contraction 20,000, expansion 150,000.
EXAMPLE = (1_000_000, 80_000, 20_000, 150_000)


@pytest.mark.parametrize(
    ("start", "end", "new", "expected"),
    [(1000, 1050, 200, 85.0), (200, 213, 25, 94.0)],
)
def test_crr_worked_examples(start, end, new, expected):
    assert crr(start, end, new) == pytest.approx(expected)


def test_logo_churn_worked_example():
    assert logo_churn(200, 12) == pytest.approx(6.0)


def test_crr_and_logo_churn_agree_on_the_same_period():
    # S=200, 12 cancel, 25 new: CRR 94 and logo churn 6 add up to 100.
    assert crr(200, 213, 25) + logo_churn(200, 12) == pytest.approx(100.0)


def test_grr_worked_example():
    assert grr(*EXAMPLE[:3]) == pytest.approx(90.0)


def test_nrr_worked_example():
    assert nrr(*EXAMPLE) == pytest.approx(105.0)


def test_second_example_grr_95_nrr_110():
    assert grr(1_000_000, 25_000, 25_000) == pytest.approx(95.0)
    assert nrr(1_000_000, 25_000, 25_000, 150_000) == pytest.approx(110.0)


def test_drr_net_and_gross():
    assert drr(*EXAMPLE) == pytest.approx(105.0)
    assert drr(*EXAMPLE, kind="net") == pytest.approx(105.0)
    assert drr(*EXAMPLE, kind="gross") == pytest.approx(90.0)


def test_revenue_churn_gross_and_net():
    assert revenue_churn(*EXAMPLE) == pytest.approx(10.0)
    assert revenue_churn(*EXAMPLE[:3]) == pytest.approx(10.0)
    assert revenue_churn(*EXAMPLE, kind="gross") == pytest.approx(10.0)
    assert revenue_churn(*EXAMPLE, kind="net") == pytest.approx(-5.0)


def test_the_double_counting_drr_variant_is_not_what_drr_computes():
    # docs/metrics.md#retention: (ARR₁ − new + expansion − contraction) / ARR₀ gives 118% here.
    assert drr(*EXAMPLE) == 105.0 != (1_050_000 + 150_000 - 20_000) / 1_000_000 * 100 == 118.0


def test_results_are_plain_floats():
    for value in (crr(1000, 1050, 200), grr(*EXAMPLE[:3]), nrr(*EXAMPLE), drr(*EXAMPLE)):
        assert type(value) is float


def test_grr_can_reach_zero_and_100():
    assert grr(100, 0, 0) == 100.0
    assert grr(100, 60, 40) == 0.0


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: crr(0, 10, 2), "start_customers"),
        (lambda: crr(-5, 10, 2), "start_customers"),
        (lambda: crr(10, -1, 0), "end_customers"),
        (lambda: crr(10, 5, -1), "new_customers"),
        (lambda: crr(10, 5, 6), "new_customers"),
        (lambda: crr(10, 30, 5), "end_customers"),
        (lambda: crr(math.nan, 5, 1), "start_customers"),
        (lambda: crr(None, 5, 1), "start_customers"),
        (lambda: crr("10", 5, 1), "start_customers"),
        (lambda: crr(True, 5, 1), "start_customers"),
        (lambda: logo_churn(0, 0), "start_customers"),
        (lambda: logo_churn(10, -1), "cancelled"),
        (lambda: logo_churn(10, 11), "cancelled"),
        (lambda: grr(0, 0, 0), "start_arr"),
        (lambda: grr(-1, 0, 0), "start_arr"),
        (lambda: grr(math.inf, 0, 0), "start_arr"),
        (lambda: grr(100, -1, 0), "churned_arr"),
        (lambda: grr(100, math.nan, 0), "churned_arr"),
        (lambda: grr(100, 0, -1), "contraction_arr"),
        (lambda: grr(100, 60, 41), "churned_arr \\+ contraction_arr"),
        (lambda: nrr(100, 0, 0, -1), "expansion_arr"),
        (lambda: nrr(100, 0, 0, math.nan), "expansion_arr"),
        (lambda: drr(100, 0, 0, 10, kind="ner"), "kind"),
        (lambda: drr(100, 0, 0, -10, kind="gross"), "expansion_arr"),
        (lambda: drr(0, 0, 0, 10), "start_arr"),
        (lambda: revenue_churn(100, 0, 0, 0, kind="Net"), "kind"),
        (lambda: revenue_churn(0, 0, 0), "start_arr"),
        (lambda: revenue_churn(100, 0, 0, -1, kind="net"), "expansion_arr"),
    ],
)
def test_errors_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_error_message_shows_the_value():
    with pytest.raises(ValueError, match=r"^start_arr must be > 0, got 0$"):
        grr(0, 0, 0)
