"""The demo warehouse: deterministic, believable, complete, and valid under the data contract."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pandas as pd
import pytest
import yaml

from valuelib.data import contract, demo, schema
from valuelib.data.warehouse import Warehouse
from valuelib.project import resources

AS_OF = pd.Timestamp(demo.DEFAULT_AS_OF)
Q3_FIRST, Q3_LAST = pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return demo.generate()


def _hashes(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    return {
        name: hashlib.sha256(df.to_csv(index=False).encode("utf-8")).hexdigest()
        for name, df in tables.items()
    }


def _ids(df: pd.DataFrame) -> set[str]:
    return set(df["account_id"])


# -- determinism and shape -----------------------------------------------------------------


def test_same_seed_gives_identical_tables(tables):
    assert _hashes(demo.generate()) == _hashes(tables)


def test_another_seed_changes_every_table(tables):
    other = _hashes(demo.generate(seed=8))
    assert all(other[name] != digest for name, digest in _hashes(tables).items())


def test_one_table_per_contract_table_with_contract_columns(tables):
    assert set(tables) == set(schema.TABLES)
    for name, table in schema.TABLES.items():
        assert list(tables[name].columns[: len(table.columns)]) == table.column_names, name
        assert len(tables[name]) > 0, name


def test_portfolio_fx_rates_are_the_demo_rates(tables):
    """params/portfolio.yaml's fx_rates (USD per unit) are the demo's rates (units per USD)
    inverted and rounded for an analyst: every currency the demo uses has one, within 2 %."""
    params = yaml.safe_load((resources.packaged("params") / "portfolio.yaml").read_text("utf-8"))
    assert params["reporting_currency"] == "USD" and demo.FX_PER_USD["USD"] == 1.0
    assert set(tables["accounts"]["currency"]) <= set(demo.FX_PER_USD)
    for currency, per_usd in demo.FX_PER_USD.items():
        if currency != "USD":
            assert params["fx_rates"][currency] * per_usd == pytest.approx(1.0, rel=0.02), currency


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="accounts"):
        demo.generate(accounts=0)
    with pytest.raises(ValueError, match="seed"):
        demo.generate(seed=-1)


# -- accounts ------------------------------------------------------------------------------


def test_accounts_segments_ids_and_people(tables):
    acc = tables["accounts"]
    assert len(acc) == 120
    assert acc["account_id"].tolist() == [f"ACC-{i:04d}" for i in range(1, 121)]
    segments = acc["segment"].value_counts().to_dict()
    assert segments == {"SMB": 50, "Mid-Market": 45, "Enterprise": 25}
    assert set(acc["industry"]) == set(demo.INDUSTRIES)
    assert acc["region"].nunique() >= 3
    assert 6 <= acc["csm"].nunique() <= 10
    assert acc["name"].is_unique


def test_locales_currencies_and_scripts(tables):
    acc = tables["accounts"]
    counts = acc["locale"].value_counts()
    assert counts["en-US"] + counts["en-GB"] >= 0.7 * len(acc)
    for locale in ("ka-GE", "hy-AM", "ha-NG", "ny-MW"):
        assert counts[locale] >= 1
    pairs = set(zip(acc["locale"], acc["currency"], strict=True))
    assert pairs == {("en-US", "USD"), ("en-GB", "GBP"), ("ka-GE", "GEL"), ("hy-AM", "AMD"),
                     ("ha-NG", "NGN"), ("ny-MW", "MWK")}
    by_locale = acc.groupby("locale")["name"].apply(list)
    assert all(re.search("[\u10d0-\u10ff]", n) for n in by_locale["ka-GE"])  # Mkhedruli
    assert all(re.search("[\u0531-\u058f]", n) for n in by_locale["hy-AM"])  # Armenian
    for locale in ("ha-NG", "ny-MW", "en-US", "en-GB"):  # Latin script
        assert all(re.fullmatch(r"[A-Za-z0-9 .,'&-]+", n) for n in by_locale[locale])


def test_start_renewal_and_churn_dates(tables):
    acc = tables["accounts"]
    start, renewal, churn = acc["start_date"], acc["renewal_date"], acc["churn_date"]
    assert start.min() >= AS_OF - pd.DateOffset(years=3)
    assert start.max() <= AS_OF
    active = churn.isna()
    assert (renewal[active] > AS_OF).all()
    assert (renewal[active] <= AS_OF + pd.DateOffset(years=1)).all()
    assert (renewal[active] <= AS_OF + pd.DateOffset(months=6)).sum() >= 10  # due soon
    same_day = (renewal.dt.month == start.dt.month) & (
        (renewal.dt.day == start.dt.day) | ((start.dt.month == 2) & (start.dt.day == 29)))
    assert same_day.all()  # an anniversary
    assert 0.10 <= (~active).mean() <= 0.15
    assert (churn[~active] > start[~active]).all() and (churn[~active] <= AS_OF).all()


# -- ARR -----------------------------------------------------------------------------------


def test_arr_history_is_monthly_from_start_to_as_of_or_churn(tables):
    acc = tables["accounts"].set_index("account_id")
    arr = tables["arr_history"]
    assert (arr["month"].dt.day == 1).all()
    assert (arr["arr"] > 0).all() and (arr["arr"] == arr["arr"].round()).all()
    assert not arr.duplicated(["account_id", "month"]).any()
    span = arr.groupby("account_id")["month"].agg(["min", "max", "count"])
    start_month = acc["start_date"].dt.to_period("M").dt.to_timestamp()
    assert (span["min"] == start_month[span.index]).all()
    months = (span["max"].dt.year - span["min"].dt.year) * 12 + span["max"].dt.month \
        - span["min"].dt.month + 1
    assert (months == span["count"]).all()  # no gaps
    churn = acc["churn_date"][span.index]
    last_day = (churn - pd.Timedelta(days=1)).dt.to_period("M").dt.to_timestamp()
    expected_last = last_day.where(churn.notna(), pd.Timestamp("2026-10-01"))
    assert (span["max"] == expected_last).all()


def test_arr_by_segment_and_its_changes(tables):
    acc = tables["accounts"].set_index("account_id")
    arr = tables["arr_history"].join(acc[["segment", "currency"]], on="account_id")
    usd = arr[arr["currency"] == "USD"].groupby("account_id").first()
    ranges = {"SMB": (4_000, 40_000), "Mid-Market": (25_000, 200_000),
              "Enterprise": (120_000, 1_500_000)}
    for segment, (lo, hi) in ranges.items():
        first = usd.loc[usd["segment"] == segment, "arr"]
        assert first.between(lo, hi).all(), segment
    change = arr.groupby("account_id")["arr"].diff()
    assert (change > 0).sum() >= 20 and (change < 0).sum() >= 5  # expansion and contraction


# -- value ---------------------------------------------------------------------------------


def test_value_drivers(tables):
    d = tables["value_drivers"]
    per_account = d.groupby("account_id")["driver_id"].nunique()
    assert per_account.between(2, 4).all() and len(per_account) == 120
    first = d[d["baseline_version"] == 1]
    assert (first["source"] == "business_case").all()
    assert set(d["confidence"]) == {"measured", "estimated", "customer_confirmed"}
    assert (d["unit_value"] > 0).all()
    gap = (first["target"] - first["baseline"]) * first["direction"].map(
        {"higher_is_better": 1, "lower_is_better": -1})
    assert (gap > 0).all()  # targets are improvements
    assert d.loc[d["account_id"].str.startswith("ACC-"), "unit"].str.len().gt(0).all()


def test_about_15_percent_of_accounts_rebaselined_once(tables):
    d = tables["value_drivers"]
    second = d[d["baseline_version"] == 2]
    assert 0.10 <= second["account_id"].nunique() / 120 <= 0.20
    assert (second["source"] == "rebaseline").all()
    assert not second.duplicated("account_id").any()  # one driver per account
    first = d[d["baseline_version"] == 1].set_index(["account_id", "driver_id"])
    for row in second.itertuples():
        v1 = first.loc[(row.account_id, row.driver_id)]
        assert row.baseline_date > v1["baseline_date"]
        assert row.baseline != v1["baseline"]


def test_measurements_are_quarterly_and_trend_towards_target(tables):
    m = tables["value_measurements"]
    d = tables["value_drivers"]
    assert (m["period_end"] == m["period_end"] + pd.offsets.QuarterEnd(0)).all()
    assert m["period_end"].max() == Q3_LAST
    known = set(zip(d["account_id"], d["driver_id"], strict=True))
    assert set(zip(m["account_id"], m["driver_id"], strict=True)) <= known
    first = d[d["baseline_version"] == 1].set_index(["account_id", "driver_id"])
    latest = m.sort_values("period_end").groupby(["account_id", "driver_id"]).last()
    joined = latest.join(first[["baseline", "target"]])
    progress = (joined["value"] - joined["baseline"]) / (joined["target"] - joined["baseline"])
    assert progress.median() > 0.5
    assert (progress > 1).any() and (progress < 0.8).any()  # some past, some short of target


# -- usage ---------------------------------------------------------------------------------


def test_usage_weekly_core_and_seats(tables):
    u = tables["usage"]
    assert len(u) < 300_000
    assert (u["date"].dt.day_of_week == 0).all() and u["date"].max() <= AS_OF
    assert (u["active_users"] <= u["licensed_seats"]).all()
    assert (u[["active_users", "licensed_seats", "events"]] >= 0).all().all()
    features = u.groupby("account_id")["feature"].nunique()
    assert features.between(5, 7).all()
    core = u[u["feature"] == demo.CORE_FEATURE].set_index(["account_id", "date"])["active_users"]
    weekly = u.groupby(["account_id", "date"])["active_users"].max()
    assert len(core) == len(weekly)  # Core is in every week
    assert (weekly == core.reindex(weekly.index)).all()
    seats = u.groupby("account_id")["licensed_seats"].nunique()
    assert (seats > 1).sum() >= 10  # seats step with ARR


# -- voice of the customer -----------------------------------------------------------------


def test_nps_waves_and_comments(tables):
    nps = tables["nps_responses"]
    assert nps["score"].between(0, 10).all() and nps["responded_at"].max() <= AS_OF
    wave = nps.groupby(["account_id", nps["responded_at"].dt.to_period("Q")]).size()
    assert wave.median() >= 2
    assert nps["account_id"].nunique() >= 0.85 * 120
    assert nps["comment"].isna().any() and (nps["comment"] == "").any()
    assert nps["comment"].str.len().gt(10).sum() > 100


def test_support_tickets(tables):
    t = tables["support_tickets"]
    assert set(t["severity"]) == {"low", "medium", "high", "critical"}
    assert t["csat"].dropna().between(1, 5).all() and t["csat"].isna().any()
    assert t["resolved_at"].isna().sum() >= 3
    done = t.dropna(subset=["resolved_at"])
    assert (done["resolved_at"] > done["opened_at"]).all()
    assert t["opened_at"].max() < AS_OF + pd.Timedelta(days=1)


def test_online_reviews_for_some_accounts(tables):
    r = tables["online_reviews"]
    assert 0.25 <= r["account_id"].nunique() / 120 <= 0.35
    assert (r.loc[r["rating"] >= 4, "sentiment"] == "positive").all()
    assert (r.loc[r["rating"] <= 2, "sentiment"] == "negative").all()
    assert not r.loc[r["sentiment"] == "positive", "resolved"].any()
    assert r.loc[r["sentiment"] == "negative", "resolved"].any()


# -- success plan --------------------------------------------------------------------------


def test_success_plan(tables):
    sp = tables["success_plan"]
    assert sp["quarter"].str.fullmatch(r"\d{4}Q[1-4]").all()
    assert sp["quarter"].max() == "2027Q1"  # next quarter's targets
    goals = sp.groupby(["account_id", "quarter"]).size()
    assert goals.between(2, 4).all()
    period = pd.PeriodIndex(sp["quarter"].str.replace("Q", "-Q"), freq="Q")
    assert (sp["due_date"].dt.to_period("Q") == period).all()
    assert set(sp["status"]) == {"completed", "in_progress", "overdue", "not_available"}
    assert sp["internal_note"].isna().any() and sp["internal_note"].notna().any()
    assert not sp.loc[sp["due_date"] > AS_OF, "status"].eq("overdue").any()


# -- hard cases ----------------------------------------------------------------------------


def test_hard_cases_are_listed_and_described(tables):
    assert set(demo.HARD_CASES) == {demo.CHURNED_IN_QUARTER, demo.NO_NPS,
                                    demo.UNMEASURED_DRIVER, demo.BRAND_NEW,
                                    demo.NO_REVIEWS_NO_TICKETS}
    assert all(len(text) > 20 for text in demo.HARD_CASES.values())
    assert set(demo.HARD_CASES) <= _ids(tables["accounts"])


def test_hard_case_churned_inside_latest_complete_quarter(tables):
    acc = tables["accounts"].set_index("account_id").loc[demo.CHURNED_IN_QUARTER]
    assert Q3_FIRST < acc["churn_date"] < Q3_LAST
    arr = tables["arr_history"]
    months = arr.loc[arr["account_id"] == demo.CHURNED_IN_QUARTER, "month"]
    assert months.max() == pd.Timestamp("2026-08-01")
    usage = tables["usage"]
    assert usage.loc[usage["account_id"] == demo.CHURNED_IN_QUARTER, "date"].max() \
        < acc["churn_date"]


def test_hard_case_without_nps(tables):
    acc = tables["accounts"].set_index("account_id").loc[demo.NO_NPS]
    assert pd.isna(acc["churn_date"]) and acc["start_date"] < AS_OF - pd.DateOffset(years=1)
    assert demo.NO_NPS not in _ids(tables["nps_responses"])


def test_hard_case_driver_without_measurements(tables):
    d = tables["value_drivers"]
    m = tables["value_measurements"]
    drivers = set(d.loc[d["account_id"] == demo.UNMEASURED_DRIVER, "driver_id"])
    measured = set(m.loc[m["account_id"] == demo.UNMEASURED_DRIVER, "driver_id"])
    assert len(drivers - measured) == 1 and len(measured) >= 2


def test_hard_case_brand_new_account(tables):
    acc = tables["accounts"].set_index("account_id").loc[demo.BRAND_NEW]
    assert acc["start_date"] == pd.Timestamp("2026-09-07")
    arr = tables["arr_history"]
    months = arr.loc[arr["account_id"] == demo.BRAND_NEW, "month"].tolist()
    assert months == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    m = tables["value_measurements"]
    assert demo.BRAND_NEW not in _ids(m)
    assert demo.BRAND_NEW in _ids(tables["value_drivers"])


def test_hard_case_without_reviews_or_tickets(tables):
    assert demo.NO_REVIEWS_NO_TICKETS not in _ids(tables["online_reviews"])
    assert demo.NO_REVIEWS_NO_TICKETS not in _ids(tables["support_tickets"])
    assert demo.NO_REVIEWS_NO_TICKETS in _ids(tables["usage"])


def test_hard_cases_follow_as_of():
    t = demo.generate(accounts=12, as_of=date(2025, 6, 30))  # 2025Q2 is complete
    acc = t["accounts"].set_index("account_id")
    churn = acc.loc[demo.CHURNED_IN_QUARTER, "churn_date"]
    assert pd.Timestamp("2025-04-01") < churn < pd.Timestamp("2025-06-30")
    assert acc.loc[demo.BRAND_NEW, "start_date"] == pd.Timestamp("2025-06-07")
    for name, col in (("arr_history", "month"), ("usage", "date"),
                      ("nps_responses", "responded_at"), ("support_tickets", "opened_at"),
                      ("online_reviews", "posted_at"), ("value_measurements", "period_end")):
        assert t[name][col].max() <= pd.Timestamp("2025-06-30 23:59:59"), name


def test_few_accounts_keep_only_the_hard_cases_they_reach():
    t = demo.generate(accounts=3)
    assert _ids(t["accounts"]) == {"ACC-0001", "ACC-0002", "ACC-0003"}
    assert pd.notna(t["accounts"].set_index("account_id").loc["ACC-0002", "churn_date"])


# -- the contract --------------------------------------------------------------------------


def test_demo_warehouse_meets_the_contract(tmp_path, tables):
    with Warehouse.open(str(tmp_path / "demo.duckdb"), read_only=False) as wh:
        demo.write(wh, tables)
        assert set(schema.TABLES) <= set(wh.tables())
        assert contract.check(wh) == []
        back = wh.read_table("accounts")
    assert back["name"].tolist() == tables["accounts"]["name"].tolist()  # scripts survive


def test_a_thousand_accounts(tmp_path):
    t = demo.generate(accounts=1000)
    assert len(t["accounts"]) == 1000 and t["accounts"]["account_id"].is_unique
    assert t["accounts"]["name"].is_unique
    assert len(t["usage"]) < 1_000_000
    with Warehouse.open(str(tmp_path / "big.duckdb"), read_only=False) as wh:
        demo.write(wh, t)
        assert contract.check(wh) == []
