"""The review model on a hand-built bundle whose every figure can be worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from valuelib import metrics
from valuelib.data.bundle import Bundle
from valuelib.model import account, health, value
from valuelib.report import narrative
from valuelib.report.fmt import Formatter

D = pd.Timestamp


def _bundle(audience: str = "internal") -> Bundle:
    drivers = pd.DataFrame([
        # onboarding: lower is better, 8 → 4 weeks, worth 1,000 per week per quarter;
        # re-baselined to 7 weeks on 2026-04-01.
        dict(account_id="A", driver_id="onb", name="Onboarding time", unit="weeks",
             direction="lower_is_better", unit_value=1000.0, baseline=8.0, target=4.0,
             baseline_date=D("2025-10-01"), baseline_version=1, source="business_case",
             confidence="measured"),
        dict(account_id="A", driver_id="onb", name="Onboarding time", unit="weeks",
             direction="lower_is_better", unit_value=1000.0, baseline=7.0, target=4.0,
             baseline_date=D("2026-04-01"), baseline_version=2, source="rebaseline",
             confidence="measured"),
        # conversion: higher is better, 10 → 20 %, worth 500 per point per quarter.
        dict(account_id="A", driver_id="conv", name="Conversion", unit="%",
             direction="higher_is_better", unit_value=500.0, baseline=10.0, target=20.0,
             baseline_date=D("2025-10-01"), baseline_version=1, source="business_case",
             confidence="customer_confirmed"),
    ])
    meas = pd.DataFrame([
        dict(account_id="A", driver_id="onb", period_end=D("2026-03-31"), value=6.0,
             confidence="measured"),
        dict(account_id="A", driver_id="onb", period_end=D("2026-06-30"), value=6.0,
             confidence="measured"),
        dict(account_id="A", driver_id="onb", period_end=D("2026-09-30"), value=5.0,
             confidence="measured"),
        dict(account_id="A", driver_id="conv", period_end=D("2026-06-30"), value=12.0,
             confidence="customer_confirmed"),
        dict(account_id="A", driver_id="conv", period_end=D("2026-09-30"), value=16.0,
             confidence="customer_confirmed"),
    ])
    months = pd.date_range("2026-01-01", "2026-09-01", freq="MS")
    arr = pd.DataFrame({"account_id": "A", "month": months, "arr": 48_000.0})
    weeks = pd.date_range("2026-06-29", "2026-09-28", freq="W-MON")
    usage = pd.DataFrame([
        dict(account_id="A", date=w, active_users=u, licensed_seats=10, feature=f, events=5)
        for w in weeks for f, u in (("Core", 8), ("Reports", 4))
    ])
    nps = pd.DataFrame([
        dict(account_id="A", responded_at=D("2026-05-10"), score=s, comment=None)
        for s in (10, 9, 3, 8)
    ] + [
        dict(account_id="A", responded_at=D("2026-08-10"), score=s, comment="great")
        for s in (10, 10, 9, 6)
    ])
    tickets = pd.DataFrame([
        dict(account_id="A", opened_at=D("2026-07-01 09:00"), resolved_at=D("2026-07-01 19:00"),
             severity="low", csat=5),
        dict(account_id="A", opened_at=D("2026-08-01 09:00"), resolved_at=D("2026-08-02 15:00"),
             severity="critical", csat=3),
        dict(account_id="A", opened_at=D("2026-09-20 09:00"), resolved_at=None,
             severity="medium", csat=None),
    ])
    plan = pd.DataFrame([
        dict(account_id="A", quarter="2026Q3", goal="Go live", owner="Jo",
             due_date=D("2026-08-01"), status="completed", internal_note="Sponsor left"),
        dict(account_id="A", quarter="2026Q3", goal="Train", owner="Jo",
             due_date=D("2026-09-01"), status="overdue", internal_note=None),
        dict(account_id="A", quarter="2026Q4", goal="Expand", owner="Jo",
             due_date=D("2026-11-01"), status="in_progress", internal_note=None),
    ])
    acc = dict(account_id="A", name="Acme <Co>", segment="SMB", industry="Retail",
               region="EU", csm="Sam", currency="EUR", locale="en-IE",
               start_date="2025-10-01", renewal_date="2027-01-15", churn_date=None)
    return Bundle(kind="account", quarter="2026Q3", as_of=dt.date(2026, 9, 30),
                  audience=audience,
                  tables={"value_drivers": drivers, "value_measurements": meas,
                          "arr_history": arr, "usage": usage, "nps_responses": nps,
                          "support_tickets": tickets, "success_plan": plan},
                  account=acc, peers={"count": 6, "min_peers": 5,
                                      "utilisation_pct": [50, 60, 70, 80, 90, 95]})


@pytest.fixture()
def review():
    return account.build(_bundle())


def test_value_uses_the_baseline_in_force_and_the_drivers_direction(review):
    v = review.value
    # Q3: onboarding 7 → 5 weeks (re-baselined) = 2 × 1,000; conversion 10 → 16 = 6 × 500.
    assert v.value_quarter == pytest.approx(2000 + 3000)
    # Q2: onboarding 7 → 6 = 1,000 (re-baseline in force from April); conversion 2 × 500.
    assert review.value_previous.value_quarter == pytest.approx(1000 + 1000)
    # Q1: onboarding 8 → 6 = 2,000 under the business case. To date: 2,000 + 2,000 + 5,000.
    assert v.value_to_date == pytest.approx(9000)
    # Cost: 9 months × 48,000 / 12; ROI through metrics.
    assert v.cost_to_date == pytest.approx(36_000)
    assert v.roi_pct == pytest.approx(metrics.roi(9000, 36_000))
    assert v.roi_multiple == pytest.approx(0.25)
    # Promised per quarter from the business case: |4 − 8| × 1,000 + |20 − 10| × 500.
    assert v.promised_quarter == pytest.approx(9000)
    assert v.realized_vs_business_case_pct == pytest.approx(5000 / 9000 * 100)
    assert v.payback_months == pytest.approx(metrics.payback_months(48_000, 5000 / 3))


def test_driver_progress_against_both_baselines(review):
    onb = next(d for d in review.drivers if d.driver_id == "onb")
    assert onb.rebaselined and onb.rebaseline_date == dt.date(2026, 4, 1)
    assert onb.progress_pct == pytest.approx(metrics.value_realized_pct(7, 5, 4))
    assert onb.business_case_progress_pct == pytest.approx(75.0)  # (5 − 8) / (4 − 8)
    assert onb.previous == 6.0 and onb.grade == "B"
    conv = next(d for d in review.drivers if d.driver_id == "conv")
    assert conv.progress_pct == pytest.approx(60.0) and conv.grade == "A"


def test_adoption_and_peer_percentile(review):
    a = review.adoption
    assert a.utilisation_pct == pytest.approx(80.0)  # max over features 8 of 10 seats
    assert a.seats == 10
    assert a.peer_percentile == pytest.approx(metrics.percentile_rank(80.0, [50, 60, 70, 80,
                                                                              90, 95]))
    reports = a.features.set_index("feature").loc["Reports", "adoption_pct"]
    assert reports == pytest.approx(40.0)


def test_voice_of_the_customer(review):
    q3 = review.nps.set_index("quarter").loc["2026Q3"]
    assert q3["nps"] == pytest.approx(metrics.nps([10, 10, 9, 6])) == 50.0
    q2 = review.nps.set_index("quarter").loc["2026Q2"]
    assert q2["nps"] == pytest.approx(25.0)
    s = review.support.set_index("quarter").loc["2026Q3"]
    assert s["tickets"] == 3 and s["critical"] == 1 and s["open_at_end"] == 1
    assert s["median_resolution_hours"] == pytest.approx((10 + 30) / 2)
    assert s["csat"] == pytest.approx(50.0)


def test_headline_changes_compare_like_with_like(review):
    h = review.headline_figure("nps")
    assert (h.value, h.previous, h.change) == (50.0, 25.0, 25.0)
    assert review.headline_figure("value_quarter").change == pytest.approx(3000)


def test_health_components_and_internal_only_content(review):
    assert review.health is not None
    comp = review.health.components
    assert comp["adoption"] == pytest.approx(80.0)
    assert comp["nps"] == pytest.approx(75.0)
    assert comp["support"] == pytest.approx(50.0)
    expected = metrics.health_score(comp, health.DEFAULT_WEIGHTS).score
    assert review.health.score == pytest.approx(expected)
    assert review.notes == ["Sponsor left"]
    overdue = [r for r in review.risks if r.kind == "overdue_goals"]
    assert [(r.severity, r.fields) for r in overdue] == [("medium", {"count": 1})]


def test_no_weights_means_the_default_weights_and_given_weights_are_used(review):
    """The notebooks pass health_weights = None unless a params file sets them."""
    default = account.build(_bundle(), weights=health.DEFAULT_WEIGHTS)
    assert review.health.score == default.health.score
    assert review.health.weights == health.DEFAULT_WEIGHTS
    only_nps = {"adoption": 0.0, "value": 0.0, "nps": 1.0, "support": 0.0}
    custom = account.build(_bundle(), weights=only_nps)
    assert custom.health.score == pytest.approx(75.0)  # the nps component alone
    assert custom.health.weights == only_nps


def test_customer_review_has_no_health_risks_or_notes():
    r = account.build(_bundle("customer"), audience="customer")
    assert r.health is None and r.risks == [] and r.notes == [] and r.value_at_risk is None


def test_customer_bundle_cannot_make_an_internal_review():
    with pytest.raises(ValueError, match="internal bundle"):
        account.build(_bundle("customer"), audience="internal")


def test_executive_summary_names_the_largest_mover(review):
    text = narrative.executive_summary(review, Formatter("en-IE", "EUR"))
    assert text.startswith("In 2026 Q3, Acme <Co> realized €5,000 of value across both value "
                           "drivers, up")
    assert "up 150.0% on 2026 Q2" in text
    # Conversion moved 2,000 more in money than onboarding (1,000): it leads.
    assert "The largest mover was Conversion" in text
    assert "NPS rose 25 points to 50 on 4 answers" in text
    assert "nan" not in text and "None" not in text


def test_executive_summary_reads_nps_without_last_quarters_answers_as_a_level():
    """The previous quarter without answers is NaN in the frame, not None: no "fell not enough
    data points"."""
    bundle = _bundle()
    responses = bundle.tables["nps_responses"]
    bundle.tables["nps_responses"] = responses[responses["responded_at"] >= D("2026-07-01")]
    r = account.build(bundle)
    assert pd.isna(r.nps.set_index("quarter").loc["2026Q2", "nps"])
    text = narrative.executive_summary(r, Formatter("en-IE", "EUR"))
    assert "NPS was 50 on 4 answers." in text
    assert "not enough data" not in text


def test_improvement_follows_direction():
    assert value.improvement(6, 8, "lower_is_better") == 2
    assert value.improvement(6, 8, "higher_is_better") == -2


def test_value_figures_from_precomputed_measurement_values():
    """Passing measurement values and cost computed once gives the same figures."""
    b = _bundle()
    drivers, meas = b.table("value_drivers"), b.table("value_measurements")
    arr = b.table("arr_history")
    values = value.measurement_values(drivers, meas)
    cost = value.quarterly_cost(arr)
    for quarter in (b.quarter, "2025Q4"):
        assert value.summarize(drivers, meas, arr, quarter) == value.summarize(
            drivers, meas, arr, quarter, values=values, cost=cost)
        pd.testing.assert_frame_equal(
            value.value_over_time(drivers, meas, arr, quarter),
            value.value_over_time(drivers, meas, arr, quarter, values=values, cost=cost))
    assert value.drivers_for_quarter(drivers, meas, b.quarter) == value.drivers_for_quarter(
        drivers, meas, b.quarter, values=values)


def test_measurement_values_take_the_latest_version_in_force():
    drivers = pd.DataFrame({
        "driver_id": ["d", "d", "d"], "name": ["D"] * 3, "unit": ["h"] * 3,
        "direction": ["lower_is_better"] * 3, "unit_value": [10.0, 10.0, 20.0],
        "baseline": [8.0, 7.0, 6.0], "target": [4.0] * 3,
        "baseline_date": pd.to_datetime(["2025-01-01", "2025-07-01", "2026-01-01"]),
        "baseline_version": [1, 2, 3], "source": ["business_case"] + ["rebaseline"] * 2,
        "confidence": ["measured"] * 3,
    })
    meas = pd.DataFrame({
        "driver_id": ["d", "d", "d"],
        "period_end": pd.to_datetime(["2024-12-31", "2025-09-30", "2026-03-31"]),
        "value": [7.5, 6.0, 5.0], "confidence": ["measured"] * 3,
    })
    out = value.measurement_values(drivers, meas)
    # Before any version: the business case; then the version in force at each date.
    assert out["baseline"].tolist() == [8.0, 7.0, 6.0]
    assert out["value_money"].tolist() == [5.0, 10.0, 20.0]


def test_tables_with_badges_escape_data_that_mimics_a_badge():
    """Goals and driver names shaped like our badge markup stay text; the table draws the
    status and confidence badges."""
    from valuelib.report import account as present
    from valuelib.report import blocks

    forged = ('<span class="vr-badge"></span><img src="file:///etc/hostname" '
              'onerror="alert(document.domain)"><b>INJECTED</b>')
    b = _bundle()
    b.tables["success_plan"]["goal"] = forged
    b.tables["value_drivers"]["name"] = forged
    r = account.build(b)
    f = Formatter("en", r.currency)
    for df, badges in ((present.plan_table(r.plan, f), present.plan_badges(f)),
                       (present.driver_table(r, f), present.driver_badges(f))):
        html = str(blocks.table(df, badges=badges))
        assert "<img" not in html and "<b>" not in html
        assert "&lt;img src=&quot;file:///etc/hostname&quot;" in html
        assert '<span class="vr-badge vr-badge--' in html  # the real status badges
