"""Partial data: only accounts and arr_history are required; what was not provided is left out.

Also the as-of rule (a monthly ARR row counts through its month's end) and portfolios of any
shape (many cohorts, segments and CSMs). The end-to-end renders are in test_partial_e2e.py.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from support import valuereview

from valuelib import metrics
from valuelib.data import bundle as bundles
from valuelib.data import demo, extract, schema
from valuelib.data.warehouse import Warehouse
from valuelib.model import account, health, parts, portfolio
from valuelib.report import account as present
from valuelib.report import charts, narrative
from valuelib.report import portfolio as pp
from valuelib.report.fmt import Formatter

OPTIONAL = [n for n in schema.TABLES if n not in schema.REQUIRED_TABLES]


def _warehouse(path, tables) -> str:
    with Warehouse.open(str(path), read_only=False) as wh:
        demo.write(wh, tables)
    return str(path)


@pytest.fixture(scope="module")
def billing(tmp_path_factory) -> str:
    """A billing-only warehouse: 300 accounts, 72 months of ARR through September 2026."""
    return _warehouse(tmp_path_factory.mktemp("billing") / "b.duckdb",
                      demo.billing_only(300, months=72, segments=4, csms=9))


@pytest.fixture(scope="module")
def billing_extract(billing):
    with Warehouse.open(billing) as wh:
        return extract.run(wh, None, selector="all")


# -- the coverage table --------------------------------------------------------------------


def test_check_data_prints_what_each_table_holds(tmp_path):
    tables = demo.generate(accounts=12, seed=3)
    tables["nps_responses"] = tables["nps_responses"].iloc[0:0]
    for name in ("usage", "online_reviews"):
        del tables[name]
    db = _warehouse(tmp_path / "w.duckdb", tables)
    run = valuereview("check-data", "--db", db)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "the data contract holds" in lines[0]
    assert lines[1] == "data provided (of 12 accounts):"

    def row(table: str) -> str:
        found = [ln for ln in lines if ln.split()[:1] == [table]]
        assert len(found) == 1, run.stdout
        return " ".join(found[0].split())

    arr = tables["arr_history"]
    assert row("arr_history") == (f"arr_history {len(arr):,} "
                                  f"{arr['account_id'].nunique()} (100%)")
    measured = tables["value_measurements"]["account_id"].nunique()
    assert row("value_measurements").endswith(f"{measured} ({measured / 12 * 100:.0f}%)")
    assert row("usage") == "usage - absent: not provided, left out of the reviews"
    assert row("nps_responses") == "nps_responses 0 empty: not provided, left out of the reviews"


def test_a_missing_required_table_still_fails_the_check(tmp_path):
    tables = demo.billing_only(5)
    db = _warehouse(tmp_path / "w.duckdb", {"accounts": tables["accounts"]})
    run = valuereview("check-data", "--db", db)
    assert run.code == 2
    assert "arr_history: table is missing" in run.stderr
    assert "arr_history" in run.stdout and "required: table is missing" in run.stdout


# -- as-of dates follow the data's grain ---------------------------------------------------


@pytest.mark.parametrize("last_month, quarter, as_of", [
    (dt.date(2026, 9, 1), "2026Q3", dt.date(2026, 9, 30)),
    (dt.date(2026, 8, 1), "2026Q2", dt.date(2026, 8, 31)),
    (dt.date(2026, 12, 1), "2026Q4", dt.date(2026, 12, 31)),
])
def test_a_monthly_row_counts_through_the_end_of_its_month(tmp_path, last_month, quarter, as_of):
    db = _warehouse(tmp_path / "w.duckdb", demo.billing_only(20, months=12,
                                                             last_month=last_month))
    with Warehouse.open(db) as wh:
        assert extract.data_as_of(wh) == as_of
        assert extract.resolve_quarter(wh, None) == (quarter, as_of)


def test_daily_tables_still_count_to_their_own_date(tmp_path):
    tables = demo.billing_only(20, months=12, last_month=dt.date(2026, 8, 1))
    tables["nps_responses"] = pd.DataFrame([dict(account_id="B-01", responded_at="2026-09-15",
                                                 score=9, comment=None)])
    db = _warehouse(tmp_path / "w.duckdb", tables)
    with Warehouse.open(db) as wh:
        assert extract.resolve_quarter(wh, None) == ("2026Q2", dt.date(2026, 9, 15))


def test_month_end_and_months_between():
    assert metrics.month_end(dt.date(2026, 2, 1)) == dt.date(2026, 2, 28)
    assert metrics.month_end(dt.date(2028, 2, 10)) == dt.date(2028, 2, 29)
    assert metrics.months_between(dt.date(2021, 3, 15), dt.date(2026, 9, 30)) == 66
    assert metrics.months_between(dt.date(2021, 3, 15), dt.date(2026, 9, 14)) == 65
    assert metrics.months_between(dt.date(2021, 1, 31), dt.date(2021, 2, 28)) == 1
    assert metrics.months_between(dt.date(2026, 9, 30), dt.date(2026, 9, 1)) == 0
    with pytest.raises(ValueError, match="end must be a date"):
        metrics.months_between(dt.date(2026, 1, 1), "2026-02-01")


# -- what was provided is decided once, in the extract -------------------------------------


def test_bundles_say_which_tables_were_provided(billing_extract):
    ex = billing_extract
    assert ex.quarter == "2026Q3"
    for data in [*ex.data.values(), ex.portfolio_data]:
        b = bundles.from_bytes(data)
        assert b.provided == frozenset({"accounts", "arr_history"})
        assert not b.provides("usage") and b.table("usage").empty


def test_a_bundle_without_the_list_provides_everything():
    assert bundles.Bundle("account", "2026Q3", dt.date(2026, 9, 30), "customer",
                          {}).provided == frozenset(schema.TABLES)


def test_parts_follow_their_tables():
    billing = {"accounts", "arr_history"}
    assert [p for p in (*parts.PART_SOURCES, *parts.COMPOSITE_PARTS)
            if parts.shows(billing, p)] == []
    assert parts.not_provided(billing) == OPTIONAL
    assert parts.shows(billing | {"value_drivers", "value_measurements"}, "value")
    assert not parts.shows(billing | {"value_drivers"}, "value")
    assert parts.shows(billing | {"online_reviews"}, "voice")
    assert not parts.shows(billing | {"online_reviews"}, "health")
    assert parts.shows(billing | {"support_tickets"}, "health")


# -- the value review on billing-only data -------------------------------------------------


@pytest.fixture(scope="module")
def billing_review(billing_extract):
    aid = next(a for a in sorted(billing_extract.data)
               if bundles.from_bytes(billing_extract.data[a]).account["churn_date"] is None)
    return account.build(bundles.from_bytes(billing_extract.data[aid]))


def test_billing_only_headline_is_arr_tenure_and_renewal(billing_review):
    r = billing_review
    c = r.commercial
    assert [h.key for h in r.headline] == ["arr", "tenure"]
    assert r.headline_figure("arr").value == c.arr and c.arr > 0
    assert r.headline_figure("arr").previous == c.arr_start
    assert c.tenure_months == metrics.months_between(c.start_date, dt.date(2026, 9, 30))
    f = Formatter("en-US", "USD")
    cards = present.headline_cards(r, f)
    assert [card["label"] for card in cards] == ["ARR", "Customer for", "Renewal date"]
    assert cards[1]["value"] == f"{c.tenure_months} months"
    assert cards[1]["hint"] == f"since {f.date(c.start_date)}"
    assert cards[2]["value"] == f.date(c.renewal_date)
    assert present.commercial_cards(r, f) == []  # the summary shows them already
    assert present.voice_cards(r, f) == []


def test_billing_only_summary_speaks_of_arr_and_tenure_only(billing_review):
    r = billing_review
    f = Formatter("en-US", "USD")
    text = narrative.executive_summary(r, f)
    arr = f.money(r.commercial.arr)
    assert text.startswith(f"In 2026 Q3, ARR for {r.name} ")
    assert arr in text
    assert (f"{r.name} has been a customer since {f.date(r.commercial.start_date)} "
            f"({r.commercial.tenure_months} months).") in text
    for absent in ("usage", "value driver", "NPS", "adoption", "not enough data"):
        assert absent not in text


def test_billing_only_summary_of_an_account_that_left_in_the_quarter(billing_extract):
    b = next(b for b in map(bundles.from_bytes, billing_extract.data.values())
             if b.account["churn_date"] is not None)
    r = account.build(b)
    f = Formatter("en-US", "USD")
    c = r.commercial
    assert c.churned and r.headline_figure("arr").value == 0.0
    assert c.tenure_months == metrics.months_between(c.start_date, c.churn_date)
    text = narrative.executive_summary(r, f)
    assert text == (f"{r.name} was a customer for {c.tenure_months} months from "
                    f"{f.date(c.start_date)}. The subscription ended on {f.date(c.churn_date)}.")
    assert "hint" not in present.headline_cards(r, f)[1]


def test_billing_only_methodology_lists_what_was_not_provided(billing_review):
    r = billing_review
    f = Formatter("en-US", "USD")
    names = [n for n, _ in present.formulas(r, f)]
    assert names == ["ARR change", "Customer for"]
    assert "peer" not in present.methodology_intro(r, f)  # no usage, no peer comparison
    prov = dict(present.provenance(r, f, "0"))
    assert prov["Data not provided"] == (
        "value drivers (value_drivers), value measurements (value_measurements), product "
        "usage (usage), NPS answers (nps_responses), support tickets (support_tickets), "
        "online reviews (online_reviews), and success plan (success_plan): the parts of "
        "this review that need them are left out.")


def test_an_internal_review_has_no_health_score_without_its_data(billing):
    with Warehouse.open(billing) as wh:
        ex = extract.run(wh, None, selector="B-001", audience="internal", portfolio=False)
    r = account.build(bundles.from_bytes(ex.data["B-001"]), audience="internal")
    assert not r.shows("health")
    assert r.health.score is None and not r.health.available and r.health.missing == ()
    assert not any(k.key == "missing_component" for k in r.risks)


# -- a part left out when its table is absent (or empty) -----------------------------------


@pytest.fixture(scope="module")
def demo_tables():
    return demo.generate(accounts=30, seed=3)


@pytest.mark.parametrize("how", ["absent", "empty"])
def test_usage_not_provided_leaves_adoption_out_everywhere(tmp_path, demo_tables, how):
    tables = dict(demo_tables)
    if how == "absent":
        del tables["usage"]
    else:
        tables["usage"] = tables["usage"].iloc[0:0]
    db = _warehouse(tmp_path / "w.duckdb", tables)
    with Warehouse.open(db) as wh:
        ex = extract.run(wh, None, selector="ACC-0001", audience="internal")
    b = bundles.from_bytes(ex.data["ACC-0001"])
    assert b.provided == frozenset(schema.TABLES) - {"usage"}
    r = account.build(b, audience="internal")
    f = Formatter("en-US", "USD")
    assert not r.shows("adoption") and r.shows("value") and r.shows("health")
    assert "utilisation" not in [h.key for h in r.headline]
    assert "usage" not in narrative.executive_summary(r, f)
    assert "Seat utilisation" not in [n for n, _ in present.formulas(r, f)]
    assert "adoption" not in r.health.components and "adoption" not in r.health.missing
    assert dict(present.provenance(r, f, "0"))["Data not provided"].startswith(
        "product usage (usage): ")
    p = portfolio.build(bundles.from_bytes(ex.portfolio_data), fx_rates=FX)
    assert "c_adoption" in p.accounts and p.accounts["c_adoption"].isna().all()
    assert p.accounts["missing"].str.contains("adoption").sum() == 0
    assert dict(pp.methodology(p, f, "h", "0"))["Data not provided"].startswith(
        "product usage (usage): ")


def test_every_table_provided_changes_nothing(demo_tables, tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", demo_tables)
    with Warehouse.open(db) as wh:
        ex = extract.run(wh, None, selector="ACC-0001", audience="internal")
    r = account.build(bundles.from_bytes(ex.data["ACC-0001"]), audience="internal")
    f = Formatter("en-US", "USD")
    assert [h.key for h in r.headline] == ["value_quarter", "value_to_date", "roi_multiple",
                                           "realized_vs_business_case", "utilisation", "nps"]
    assert "Data not provided" not in dict(present.provenance(r, f, "0"))
    assert len(present.commercial_cards(r, f)) == 3 and len(present.voice_cards(r, f)) == 4


def test_health_leaves_out_components_whose_data_was_not_provided():
    comp = health.components(None, 80.0, None, 90.0)
    every = health.assess(comp)
    assert every.missing == ("adoption", "nps")
    some = health.assess(comp, provided={"accounts", "arr_history", "nps_responses",
                                         "value_drivers", "value_measurements",
                                         "support_tickets"})
    assert set(some.components) == {"value", "nps", "support"} and some.missing == ("nps",)
    assert some.score == pytest.approx((0.3 * 80 + 0.2 * 90) / 0.5)


# -- portfolios of any shape ---------------------------------------------------------------

FX = {"GBP": 1.27, "EUR": 1.08, "GEL": 0.37, "AMD": 0.0026, "NGN": 0.00065, "MWK": 0.00058}


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """40 start-quarter cohorts, 200 segments and 200 CSMs."""
    db = _warehouse(tmp_path_factory.mktemp("wide") / "w.duckdb",
                    demo.billing_only(2400, months=120, segments=200, csms=200))
    with Warehouse.open(db) as wh:
        ex = extract.run(wh, None, selector="B-0001")
        arr = wh.read_table("arr_history")
        acc = wh.read_table("accounts")
    return portfolio.build(bundles.from_bytes(ex.portfolio_data)), arr, acc


def test_every_account_counts_in_its_cohort_from_its_first_quarter(billing_extract):
    p = portfolio.build(bundles.from_bytes(billing_extract.portfolio_data))
    # Every billing account has ARR from its start month: each cohort keeps 100% at first,
    # those that left before the quarter included.
    assert (p.cohorts[0] == 100.0).all()
    assert p.cohort_sizes.sum() == 300
    assert len(p.cohorts) == 24 and p.cohort_grain == "year"
    assert list(p.cohort_view.index) == [str(y) for y in range(2020, 2027)]


def test_trailing_retention_counts_accounts_that_left_before_the_quarter(billing,
                                                                         billing_extract):
    with Warehouse.open(billing) as wh:
        arr = wh.read_table("arr_history")
    p = portfolio.build(bundles.from_bytes(billing_extract.portfolio_data))
    for first, got in ((dt.date(2025, 10, 1), p.retention_ttm),
                       (dt.date(2026, 7, 1), p.retention_quarter)):
        expected = metrics.retention_figures(metrics.arr_movements(arr, first,
                                                                   dt.date(2026, 9, 1)))
        assert got == pytest.approx(expected)


def test_zero_arr_rows_change_no_portfolio_figure(tmp_path):
    built = []
    for dense in (False, True):
        tables = demo.billing_only(200, months=36, segments=3, csms=5, dense=dense)
        db = _warehouse(tmp_path / f"{dense}.duckdb", tables)
        with Warehouse.open(db) as wh:
            ex = extract.run(wh, None, selector="all")
        b = bundles.from_bytes(ex.portfolio_data)
        assert (b.table("arr_history")["arr"] > 0).all()  # the bundle leaves the zeros out
        built.append((len(tables["arr_history"]), portfolio.build(b)))
    (sparse_rows, sparse), (dense_rows, dense) = built
    assert dense_rows == 200 * 36 > sparse_rows
    assert dense.retention_quarter == sparse.retention_quarter
    assert dense.retention_ttm == sparse.retention_ttm
    pd.testing.assert_frame_equal(dense.cohorts, sparse.cohorts)
    pd.testing.assert_frame_equal(dense.by_csm, sparse.by_csm)
    pd.testing.assert_frame_equal(dense.renewals, sparse.renewals)
    assert [(s.alpha, s.ltv) for s in dense.projections] == [
        (s.alpha, s.ltv) for s in sparse.projections]


def test_forty_cohorts_and_two_hundred_groups_are_pooled(wide):
    p, arr, acc = wide
    assert len(p.cohorts) == 40 and p.cohort_grain == "year" and len(p.cohort_view) == 11
    assert len(p.by_csm) == portfolio.TABLE_GROUPS + 1
    other = p.by_csm.iloc[-1]
    # Groups are those with ARR at the quarter's start or end (its movements).
    mv = metrics.arr_movements(arr, dt.date(2026, 7, 1), dt.date(2026, 9, 1))
    csms = acc.loc[acc["account_id"].isin(set(mv["account_id"])), "csm"].nunique()
    assert other["group"] is None and other["other"] == csms - 20
    assert p.by_csm["accounts"].sum() == p.by_segment["accounts"].sum()
    # The pooled row's retention is that of its accounts' movements together.
    rest = set(acc.loc[~acc["csm"].isin(set(p.by_csm["group"].dropna())), "account_id"])
    assert other["grr"] == pytest.approx(
        metrics.retention_figures(mv[mv["account_id"].isin(rest)])["grr"])
    assert len(p.segment_bars) == portfolio.CHART_GROUPS + 1
    assert len(p.projections) == portfolio.PROJECTION_GROUPS + 1
    assert p.projections[-1].segment is None and p.projections[-1].other == 194
    assert len(p.renewals_shown) == portfolio.RENEWAL_ROWS
    assert p.renewals_rest["accounts"] == len(p.renewals) - portfolio.RENEWAL_ROWS
    assert p.renewals_rest["arr"] + p.renewals_shown["arr"].sum() == pytest.approx(
        p.renewals["arr"].sum())


def test_pooled_rows_are_named_for_the_reader(wide):
    p = wide[0]
    f = Formatter("en-US", "USD")
    table = pp.group_table(p.by_csm, f, "CSM")
    assert table["CSM"].iloc[-1] == f"{p.by_csm['other'].iloc[-1]} others" and len(table) == 21
    assert pp.group_bars(p.segment_bars, f)["group"].iloc[-1] == (
        f"{p.segment_bars['other'].iloc[-1]} others")
    assert p.segment_bars["other"].iloc[-1] > 150
    assert pp.projection_table(p, f)["Segment"].iloc[-1] == "194 others"
    renewals = pp.renewals_table(p, f)
    assert list(renewals.columns) == ["Account", "Segment", "CSM", "Renewal", "ARR"]
    assert renewals["Account"].iloc[-1] == f"{p.renewals_rest['accounts']:,} more accounts"
    assert pp.cohort_title(p, f).startswith("Logo retention by start year")
    assert list(pp.cohort_frame(p, f).index) == [str(y) for y in range(2016, 2027)]
    labels = [card["label"] for card in pp.headline_cards(p, f)]
    assert labels == ["GRR this quarter", "NRR this quarter", "Logo retention (CRR)",
                      "ARR renewing in 2 quarters"]


def test_cohort_view_pools_the_earliest_years_when_still_too_many():
    quarters = metrics.quarters_between("2001Q1", "2026Q3")
    grid = pd.DataFrame([[100.0] * 3] * len(quarters), index=quarters, columns=range(3))
    grid.iloc[:4, 1] = 50.0
    sizes = pd.Series(2, index=quarters)
    view, grain = portfolio.cohort_view(grid, sizes)
    assert grain == "year" and len(view) == portfolio.COHORT_ROWS
    assert view.index[0] == portfolio.EARLIER and view.index[1] == "2012"
    # 2001's four cohorts retained half their accounts at quarter 1; 2002-2011 all of theirs.
    assert view.iloc[0, 1] == pytest.approx((4 * 1 + 40 * 2) / (44 * 2) * 100)


@pytest.mark.parametrize("rows, cols", [(1, 1), (12, 12), (24, 24), (40, 40), (40, 1)])
def test_cohort_heat_map_of_any_size(rows, cols):
    rng = np.random.default_rng(rows * 100 + cols)
    grid = pd.DataFrame(rng.uniform(0, 100, (rows, cols)),
                        index=[f"C{i:02d}" for i in range(rows)], columns=range(cols))
    ax = charts.cohort_heatmap(grid)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == rows and labels[0] == "C00"
    shown = [t for t in labels if t]
    assert len(shown) <= charts.HEATMAP_LABELS_MAX
    numbers = [t for t in ax.texts if re.fullmatch(r"\d+%", t.get_text())]
    assert len(numbers) == (rows * cols if max(rows, cols) <= charts.HEATMAP_ANNOT_MAX else 0)
    charts.plt.close(ax.figure)


@pytest.mark.parametrize("chart, data", [
    ("retention_bars", lambda n: pd.DataFrame({"group": [f"Segment {i}" for i in range(n)] * 2,
                                                "metric": ["GRR"] * n + ["NRR"] * n,
                                                "value": np.linspace(50, 120, 2 * n)})),
    ("value_by_group", lambda n: pd.DataFrame({"group": [f"CSM {i}" for i in range(n)],
                                                "value": np.arange(n, dtype=float)})),
    ("survival_curves", lambda n: pd.DataFrame({
        "period": list(range(4)) * n, "survival_pct": [100, 90, 80, 70] * n,
        "group": [f"S{i}" for i in range(n) for _ in range(4)], "kind": "observed"})),
])
@pytest.mark.parametrize("n", [1, 200])
def test_portfolio_charts_take_one_to_two_hundred_groups(chart, data, n):
    ax = getattr(charts, chart)(data(n))
    assert ax.figure is not None
    charts.plt.close(ax.figure)
