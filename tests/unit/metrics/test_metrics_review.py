"""The worked examples of docs/metrics.md#review-figures and docs/metrics.md#portfolio-figures:
the figures `valuelib.model` derives with `valuelib.metrics`, on the numbers the document uses."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from valuelib.data.bundle import Bundle
from valuelib.model import adoption, health, portfolio, value, voice

D = pd.Timestamp
Q3_FIRST, Q3_LAST = dt.date(2026, 7, 1), dt.date(2026, 9, 30)


def _drivers() -> pd.DataFrame:
    common = dict(account_id="A", baseline_date=D("2025-10-01"), source="business_case")
    return pd.DataFrame([
        # Onboarding time: lower is better, 8 → 4 weeks, 1,000 per week and quarter;
        # re-baselined to 7 weeks from 2026-04-01.
        dict(common, driver_id="onb", name="Onboarding time", unit="weeks",
             direction="lower_is_better", unit_value=1000.0, baseline=8.0, target=4.0,
             baseline_version=1, confidence="measured"),
        dict(common, driver_id="onb", name="Onboarding time", unit="weeks",
             direction="lower_is_better", unit_value=1000.0, baseline=7.0, target=4.0,
             baseline_version=2, confidence="measured",
             baseline_date=D("2026-04-01"), source="rebaseline"),
        # Conversion: higher is better, 10 → 20 %, 500 per point and quarter.
        dict(common, driver_id="conv", name="Conversion", unit="%",
             direction="higher_is_better", unit_value=500.0, baseline=10.0, target=20.0,
             baseline_version=1, confidence="customer_confirmed"),
    ])


def _measurements() -> pd.DataFrame:
    rows = [("onb", "2026-03-31", 6.0, "measured"), ("onb", "2026-06-30", 6.0, "measured"),
            ("onb", "2026-09-30", 5.0, "measured"),
            ("conv", "2026-06-30", 12.0, "customer_confirmed"),
            ("conv", "2026-09-30", 16.0, "customer_confirmed")]
    return pd.DataFrame([dict(account_id="A", driver_id=d, period_end=D(p), value=v,
                              confidence=c) for d, p, v, c in rows])


def _arr() -> pd.DataFrame:
    months = pd.date_range("2026-01-01", "2026-09-01", freq="MS")
    return pd.DataFrame({"account_id": "A", "month": months, "arr": 48_000.0})


def test_value_worked_example():
    drivers, meas, arr = _drivers(), _measurements(), _arr()
    assert value.improvement(5, 7, "lower_is_better") == 2
    assert value.improvement(16, 10, "higher_is_better") == 6
    assert value.quarterly_cost(arr).to_dict() == {"2026Q1": 12_000.0, "2026Q2": 12_000.0,
                                                   "2026Q3": 12_000.0}
    assert value.promised_per_quarter(drivers) == 9_000.0
    q3 = value.summarize(drivers, meas, arr, "2026Q3")
    q2 = value.summarize(drivers, meas, arr, "2026Q2")
    assert (q3.value_quarter, q2.value_quarter) == (5_000.0, 2_000.0)
    assert (q3.value_to_date, q3.cost_quarter, q3.cost_to_date) == (9_000.0, 12_000.0, 36_000.0)
    assert q3.promised_quarter == 9_000.0
    assert round(q3.realized_vs_business_case_pct, 1) == 55.6
    assert q3.roi_pct == pytest.approx(-75.0)
    assert q3.roi_multiple == pytest.approx(0.25)
    assert q3.payback_months == pytest.approx(28.8)


def test_driver_progress_and_grades_worked_example():
    onb, conv = sorted(value.drivers_for_quarter(_drivers(), _measurements(), "2026Q3"),
                       key=lambda d: d.driver_id, reverse=True)
    assert (onb.baseline, onb.business_case_baseline, onb.current) == (7.0, 8.0, 5.0)
    assert round(onb.progress_pct, 1) == 66.7
    assert onb.business_case_progress_pct == pytest.approx(75.0)
    assert conv.progress_pct == pytest.approx(60.0)
    assert (onb.grade, conv.grade) == ("B", "A")
    assert value.GRADES == {"customer_confirmed": "A", "measured": "B", "estimated": "C"}


def _usage() -> pd.DataFrame:
    weeks = pd.date_range("2026-06-29", "2026-09-28", freq="W-MON")
    return pd.DataFrame([
        dict(account_id="A", date=w, active_users=u, licensed_seats=10, feature=f, events=5)
        for w in weeks for f, u in (("Core", 8), ("Reports", 4))
    ])


def test_adoption_worked_example():
    usage = _usage()
    weekly = adoption.weekly_active(usage)
    assert set(weekly["active_users"]) == {8}
    assert adoption.utilisation(weekly, Q3_FIRST, Q3_LAST) == pytest.approx(80.0)
    features = adoption.feature_adoption_by_account(usage, Q3_FIRST, Q3_LAST)
    assert dict(zip(features["feature"], features["adoption_pct"], strict=True)) == {
        "Core": pytest.approx(80.0), "Reports": pytest.approx(40.0)}


def test_support_and_nps_worked_example():
    tickets = pd.DataFrame([
        dict(account_id="A", opened_at=D("2026-07-01 09:00"),
             resolved_at=D("2026-07-01 19:00"), severity="low", csat=5),
        dict(account_id="A", opened_at=D("2026-08-01 09:00"),
             resolved_at=D("2026-08-02 15:00"), severity="critical", csat=3),
        dict(account_id="A", opened_at=D("2026-09-20 09:00"), resolved_at=pd.NaT,
             severity="medium", csat=None),
    ])
    s = voice.support_by_quarter(tickets, ["2026Q3"]).iloc[0]
    assert (s["tickets"], s["critical"], s["open_at_end"]) == (3, 1, 1)
    assert s["median_resolution_hours"] == pytest.approx(20.0)
    assert s["csat"] == pytest.approx(50.0)
    answers = pd.DataFrame([dict(account_id="A", responded_at=D("2026-08-10"), score=x,
                                 comment=None) for x in (10, 10, 9, 6)])
    n = voice.nps_by_quarter(answers, ["2026Q3"]).iloc[0]
    assert (n["promoters"], n["passives"], n["detractors"], n["nps"]) == (3, 0, 1, 50.0)


def test_online_reviews_worked_example():
    rows = ([("positive", False)] * 10 + [("negative", True)] + [("negative", False)])
    reviews = pd.DataFrame([dict(account_id="A", posted_at=D("2026-08-01"), rating=4,
                                 sentiment=s, resolved=r) for s, r in rows])
    r = voice.online_reviews(reviews, dt.date(2025, 10, 1), Q3_LAST, (-50.0, 50.0))
    assert (r.positive, r.negative, r.resolved_negative) == (10, 2, 1)
    assert r.impact_raw_pct == pytest.approx(44.793)
    assert r.impact_pct == pytest.approx(44.793)
    many = pd.DataFrame([dict(account_id="A", posted_at=D("2026-08-01"), rating=5,
                              sentiment="positive", resolved=False)] * 100)
    r = voice.online_reviews(many, dt.date(2025, 10, 1), Q3_LAST, (-50.0, 50.0))
    assert (round(r.impact_raw_pct, 1), r.impact_pct) == (489.8, 50.0)


def test_health_components_score_and_band_worked_example():
    comp = health.components(80.0, 5000 / 9000 * 100, 50.0, 50.0)
    assert comp["adoption"] == 80.0 and comp["nps"] == 75.0 and comp["support"] == 50.0
    assert round(comp["value"], 2) == 55.56
    assert health.components(112.0, -20.0, -100.0, None) == {
        "adoption": 100.0, "value": 0.0, "nps": 0.0, "support": None}
    h = health.assess(comp)
    assert round(h.score, 1) == 65.7
    assert h.band == "Watch"
    assert h.drivers == ("value", "support", "adoption", "nps")
    assert [health.band(s) for s in (49.9, 50.0, 69.9, 70.0)] == [
        "At risk", "Watch", "Watch", "Healthy"]


# --- the portfolio ----------------------------------------------------------------------


def _portfolio_bundle() -> Bundle:
    acc = pd.DataFrame([
        dict(account_id="P1", name="One", segment="SMB", industry="Retail", region="EU",
             csm="Sam", currency="USD", locale="en-US", start_date=D("2025-01-01"),
             renewal_date=D("2026-11-15"), churn_date=pd.NaT),
        dict(account_id="P2", name="Two", segment="SMB", industry="Retail", region="EU",
             csm="Sam", currency="EUR", locale="en-IE", start_date=D("2025-01-01"),
             renewal_date=D("2027-06-01"), churn_date=pd.NaT),
        dict(account_id="P3", name="Three", segment="SMB", industry="Retail", region="EU",
             csm="Kim", currency="USD", locale="en-US", start_date=D("2025-01-01"),
             renewal_date=D("2026-08-01"), churn_date=D("2026-08-01")),
    ])
    arr = []
    for month in pd.date_range("2026-06-01", "2026-09-01", freq="MS"):
        arr.append(dict(account_id="P1", month=month,
                        arr=10_000.0 if month.month < 9 else 12_000.0))
        arr.append(dict(account_id="P2", month=month, arr=10_000.0))  # EUR
        if month.month < 8:
            arr.append(dict(account_id="P3", month=month, arr=5_000.0))
    return Bundle(kind="portfolio", quarter="2026Q3", as_of=Q3_LAST, audience="internal",
                  tables={"accounts": acc, "arr_history": pd.DataFrame(arr)})


def test_portfolio_fx_and_retention_worked_example():
    p = portfolio.build(_portfolio_bundle(), reporting_currency="USD", fx_rates={"EUR": 1.08})
    # Start (June): 10,000 + 10,800 + 5,000 = 25,800 USD; P3 churned 5,000; P1 expanded 2,000.
    r = p.retention_quarter
    assert round(r["grr"], 2) == 80.62
    assert round(r["nrr"], 2) == 88.37
    assert round(r["crr"], 2) == 66.67
    assert round(r["logo_churn"], 2) == 33.33
    arr = dict(zip(p.accounts["account_id"], p.accounts["arr"], strict=True))
    assert arr == {"P1": 12_000.0, "P2": 10_800.0, "P3": 0.0}
    by_csm = p.by_csm.set_index("group")
    assert by_csm.loc["Sam", "nrr"] == pytest.approx(109.6, abs=0.05)
    assert by_csm.loc["Kim", "grr"] == 0.0


def test_portfolio_renewals_worked_example():
    p = portfolio.build(_portfolio_bundle(), reporting_currency="USD", fx_rates={"EUR": 1.08})
    # Active at the quarter's end, renewing after it and by the end of 2027Q1: P1 only.
    assert list(p.renewals["account_id"]) == ["P1"]
    with pytest.raises(portfolio.FXError, match="no FX rate from EUR to USD"):
        portfolio.build(_portfolio_bundle(), reporting_currency="USD", fx_rates={})


def _segment_bundle() -> Bundle:
    """12 accounts that all started on 2024-01-01 with an ARR of 4,000; six churn."""
    churn = {"S01": "2024-05-01", "S02": "2024-08-01", "S03": "2024-11-01",
             "S04": "2025-02-01", "S05": "2025-08-01", "S06": "2026-02-01"}
    acc, arr = [], []
    for i in range(1, 13):
        aid = f"S{i:02d}"
        end = D(churn[aid]) if aid in churn else pd.NaT
        acc.append(dict(account_id=aid, name=aid, segment="SMB", industry="Retail",
                        region="EU", csm="Sam", currency="USD", locale="en-US",
                        start_date=D("2024-01-01"), renewal_date=D("2027-01-01"),
                        churn_date=end))
        arr += [dict(account_id=aid, month=m, arr=4_000.0)
                for m in pd.date_range("2024-01-01", "2026-09-01", freq="MS")
                if pd.isna(end) or m < end]
    return Bundle(kind="portfolio", quarter="2026Q3", as_of=Q3_LAST, audience="internal",
                  tables={"accounts": pd.DataFrame(acc), "arr_history": pd.DataFrame(arr)})


def test_sbg_projection_worked_example():
    (p,) = portfolio.build(_segment_bundle()).projections
    assert p.accounts == 12
    survivors = [round(s * 12 / 100) for s in p.observed["survival_pct"]]
    assert survivors == [12, 11, 10, 9, 8, 8, 7, 7, 6, 6, 6]
    assert (round(p.alpha, 2), round(p.beta, 2)) == (0.75, 6.62)
    assert p.arpa_quarter == 1_000.0
    assert len(p.projected) == 13  # quarter 0 and 12 projected quarters
    # Margin 0.8, 10 % a year discounted as (1.10)^(1/4) − 1 per quarter, 12 quarters.
    assert round(p.ltv, 2) == 5249.92
