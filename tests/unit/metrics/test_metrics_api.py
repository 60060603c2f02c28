"""The public API of valuelib.metrics: names, argument order, and purity."""

import inspect
from pathlib import Path

import pytest

import valuelib.metrics as metrics

SIGNATURES = {
    "crr": ["start_customers", "end_customers", "new_customers"],
    "logo_churn": ["start_customers", "cancelled"],
    "grr": ["start_arr", "churned_arr", "contraction_arr"],
    "nrr": ["start_arr", "churned_arr", "contraction_arr", "expansion_arr"],
    "drr": ["start_arr", "churned_arr", "contraction_arr", "expansion_arr", "kind"],
    "revenue_churn": ["start_arr", "churned_arr", "contraction_arr", "expansion_arr", "kind"],
    "ltv": ["arpa", "gross_margin", "churn_rate"],
    "roi": ["benefit", "cost"],
    "roi_multiple": ["benefit", "cost"],
    "payback_months": ["cost", "monthly_net_benefit"],
    "value_realized_pct": ["baseline", "current", "target"],
    "nps": ["scores"],
    "csat": ["ratings"],
    "review_sales_impact": ["positive", "negative", "resolved", "clip"],
    "health_score": ["scores", "weights"],
    "fit_sbg": ["survivors"],
    "sbg_survival": ["alpha", "beta", "periods"],
    "sbg_retention": ["alpha", "beta", "periods"],
    "sbg_constant_churn": ["alpha", "beta"],
    "sbg_ltv": ["alpha", "beta", "arpa", "gross_margin", "discount_rate", "horizon"],
    "roc_auc": ["scores", "positives"],
    "percentile_rank": ["value", "peers"],
    "parse_quarter": ["q"],
    "quarter_bounds": ["q"],
    "quarter_months": ["q"],
    "quarter_of": ["d"],
    "shift_quarter": ["q", "n"],
    "quarters_between": ["a", "b"],
    "arr_movements": ["arr_history", "start_month", "end_month"],
    "movement_totals": ["movements"],
    "retention_figures": ["movements"],
    "trailing_months": ["end_month", "n"],
    "month_end": ["d"],
    "months_between": ["start", "end"],
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_public_function_signature_and_docstring(name):
    assert name in metrics.__all__
    function = getattr(metrics, name)
    assert list(inspect.signature(function).parameters) == SIGNATURES[name]
    assert function.__doc__ and function.__doc__.strip()


def test_defaults():
    assert inspect.signature(metrics.drr).parameters["kind"].default == "net"
    assert inspect.signature(metrics.revenue_churn).parameters["kind"].default == "gross"
    assert inspect.signature(metrics.revenue_churn).parameters["expansion_arr"].default == 0
    assert inspect.signature(metrics.trailing_months).parameters["n"].default == 12


def test_all_names_exist():
    for name in metrics.__all__:
        assert hasattr(metrics, name)


def test_metrics_modules_do_no_io_plotting_or_logging():
    package = Path(metrics.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text()
        for forbidden in (
            "import logging",
            "matplotlib",
            "seaborn",
            "open(",
            "print(",
            "read_csv",
            "to_csv",
            "duckdb",
            "sqlalchemy",
        ):
            assert forbidden not in text, f"{source.name} uses {forbidden}"
