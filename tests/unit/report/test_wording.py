"""The model hands keys and figures; the report words every one of them (and only there)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from valuelib.model import account, health, portfolio
from valuelib.report import account as present
from valuelib.report import narrative, record
from valuelib.report import portfolio as present_portfolio
from valuelib.report.fmt import Formatter

F = Formatter("en-US", "USD")
FIELDS = {
    "churned": {"date": dt.date(2026, 8, 1)},
    "at_risk": {"score": 41.26},
    "renewal": {"days": 30, "band": health.WATCH},
    "low_adoption": {"utilisation": 42.0, "threshold": 50.0},
    "negative_nps": {"nps": -12.5},
    "contraction": {"change": 8.25},
    "overdue_goals": {"count": 2},
    "open_tickets": {"count": 1},
    "below_baseline": {"drivers": ["Onboarding time", "Tickets"]},
    "missing_component": {"component": "nps"},
}
EXPECTED = {
    "churned": "Churned on Aug 1, 2026.",
    "at_risk": "Health score 41.3 is in the At risk band.",
    "renewal": "Renewal in 30 days with health band Watch.",
    "low_adoption": "Seat utilisation 42.0% is below 50%.",
    "negative_nps": "NPS is negative (-12.5).",
    "contraction": "ARR contracted this quarter by 8.2%.",
    "overdue_goals": "2 success-plan goals overdue.",
    "open_tickets": "1 support ticket open at quarter end.",
    "below_baseline": "Below baseline: Onboarding time and Tickets.",
    "missing_component": "No data for the NPS component of the health score.",
}


@pytest.mark.parametrize("kind", account.RISK_KINDS)
def test_every_risk_kind_is_worded(kind):
    text = present.risk_text(account.Risk(account.MEDIUM, kind, FIELDS[kind]), F)
    assert text.replace("\u2212", "-") == EXPECTED[kind]


def test_an_unknown_risk_kind_is_an_error_not_english_from_the_model():
    with pytest.raises(ValueError, match="no wording for a risk of kind 'vibes'"):
        present.risk_text(account.Risk(account.LOW, "vibes"), F)


def test_every_key_the_model_hands_over_has_its_words():
    assert set(present.SEVERITY_LABELS) == set(account.SEVERITIES)
    assert tuple(present.BAND_LABELS) == health.BAND_ORDER
    assert [b for _, b in health.BANDS] + [health.HEALTHY] == list(health.BAND_ORDER)
    assert tuple(present.COMPONENT_LABELS) == health.COMPONENTS
    assert tuple(present.COMPONENT_FORMULAS) == health.COMPONENTS
    assert present_portfolio.band_order(F) == ["At risk", "Watch", "Healthy"]
    keys = {"value_quarter", "value_to_date", "roi_multiple", "realized_vs_business_case",
            "utilisation", "nps", "arr", "tenure"}
    assert set(record.HEADLINE_LABELS) == keys
    assert set(record.figure_formatters(F)) == {"money", "pct", "multiple", "nps", "months"}


def test_the_model_holds_no_wording():
    assert "label" not in {f.name for f in dataclasses.fields(account.Headline)}
    assert "text" not in {f.name for f in dataclasses.fields(account.Risk)}
    assert "note" not in {f.name for f in dataclasses.fields(portfolio.SegmentProjection)}


@pytest.mark.parametrize("reason, accounts, observed, expected", [
    ("", 12, 3, ""),
    (portfolio.NO_ACCOUNTS, 0, 0, "no accounts"),
    (portfolio.TOO_LITTLE_DATA, 1, 2, "not enough data: the oldest cohort has 1 account over 1 "
                                      "quarters"),
    (portfolio.TOO_LITTLE_DATA, 4, 3, "not enough data: the oldest cohort has 4 accounts over 2 "
                                      "quarters"),
    (portfolio.FIT_FAILED, 12, 5, "not enough data: the model could not be fitted to this "
                                  "cohort"),
])
def test_a_projections_reason_is_worded(reason, accounts, observed, expected):
    s = portfolio.SegmentProjection("SMB", accounts, None, None,
                                    pd.DataFrame({"period": range(observed)}), pd.DataFrame(),
                                    None, None, reason)
    assert present_portfolio.projection_note(s, F) == expected


def _fitted(alpha: float, beta: float) -> portfolio.SegmentProjection:
    return portfolio.SegmentProjection("Enterprise", 10, alpha, beta, pd.DataFrame(),
                                       pd.DataFrame({"period": [4], "survival_pct": [85.1]}),
                                       None, None)


def test_a_projection_without_heterogeneity_shows_its_constant_churn_not_alpha_beta():
    s = _fitted(19_938_279.373, 485_164_908.516)
    p = SimpleNamespace(projections=[s, _fitted(0.193, 20.528)])
    table = present_portfolio.projection_table(p, F)  # type: ignore[arg-type]
    assert list(table["α"]) == ["—", "0.193"]
    assert list(table["β"]) == ["—", "20.528"]
    assert list(table["Note"]) == [
        "no heterogeneity between customers: constant churn of 3.9% a quarter", ""]


def test_a_segment_without_projection_says_why_once_in_its_note():
    s = portfolio.SegmentProjection("SMB", 3, None, None, pd.DataFrame({"period": range(9)}),
                                    pd.DataFrame(), 3_651.0, None, portfolio.TOO_LITTLE_DATA)
    p = SimpleNamespace(projections=[s, _fitted(0.193, 20.528)])
    table = present_portfolio.projection_table(p, F)  # type: ignore[arg-type]
    first = table.iloc[0]
    assert [first[c] for c in ("α", "β", "Projected retention after 1 year",
                               "LTV (3 years, discounted)")] == ["—"] * 4
    assert first["ARPA per quarter"] == "$3,651"
    assert first["Note"] == "not enough data: the oldest cohort has 3 accounts over 8 quarters"
    assert sum("not enough data" in str(v) for v in first) == 1
    assert table.iloc[1]["Projected retention after 1 year"] == "85.1%"


@pytest.mark.parametrize("measured, total, expected", [
    (1, 3, "1 of 3 value drivers"),
    (0, 1, "0 of 1 value driver"),
    (1, 1, "its only value driver"),
    (2, 2, "both value drivers"),
    (4, 4, "all 4 value drivers"),
])
def test_value_drivers_counted_all_are_worded_as_all(measured, total, expected):
    assert narrative.drivers_phrase(measured, total, F) == expected


def test_exchange_rates_keep_each_amount_whole():
    """The portfolio's currency note: "1 AMD" and "0.00260 USD" are joined by no-break spaces,
    so a narrow screen or page breaks only between rates or at the equals signs."""
    p = SimpleNamespace(currency="USD", fx_rates={"MWK": 0.00058, "EUR": 1.08})
    text = present_portfolio.fx_text(p, F)
    assert "1\u00a0EUR = 1.08\u00a0USD; 1\u00a0MWK = 0.00058\u00a0USD." in text
    assert text.startswith("Amounts are in USD; ")
