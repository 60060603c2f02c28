"""The contract check: each kind of problem is found and named (table, column, account, fix)."""

from __future__ import annotations

import pandas as pd
import pytest

from valuelib.data import contract, demo, schema
from valuelib.data.contract import ContractError, Problem
from valuelib.data.warehouse import Warehouse


@pytest.fixture(scope="module")
def base() -> dict[str, pd.DataFrame]:
    return demo.generate(accounts=12)


@pytest.fixture
def tables(base) -> dict[str, pd.DataFrame]:
    """A fresh copy of the 12-account demo to break (object columns so any value fits)."""
    return {name: df.copy().astype({c: object for c in df.columns if df[c].dtype == "str"})
            for name, df in base.items()}


def _types(name: str, **override: str) -> dict[str, str]:
    return {**{c.name: c.type for c in schema.TABLES[name].columns}, **override}


def build(tables: dict[str, pd.DataFrame], *, types: dict[str, dict[str, str]] | None = None,
          drop: tuple[str, ...] = ()) -> Warehouse:
    """A fresh in-memory DuckDB warehouse holding `tables` (with logical type overrides)."""
    wh = Warehouse.open(":memory:", read_only=False)
    for name, df in tables.items():
        if name not in drop:
            wh.write_table(name, df, (types or {}).get(name))
    return wh


def check(tables: dict[str, pd.DataFrame], **kwargs) -> list[Problem]:
    with build(tables, **kwargs) as wh:
        return contract.check(wh)


def only(problems: list[Problem], table: str, column: str | None) -> Problem:
    found = [p for p in problems if p.table == table and p.column == column]
    assert len(found) == 1, f"expected one problem for {table}.{column}, got {problems}"
    return found[0]


def test_demo_data_has_no_problems(tables):
    assert check(tables) == []


def test_missing_required_table(tables):
    problems = check(tables, drop=("arr_history",))
    p = only(problems, "arr_history", None)
    assert "missing" in p.message
    assert "create table `arr_history`" in p.fix and "arr (float, >= 0)" in p.fix
    assert str(p).startswith("arr_history: table is missing; fix: create table")
    assert len(problems) == 1


def test_only_accounts_and_arr_history_are_required(tables):
    assert schema.REQUIRED_TABLES == ("accounts", "arr_history")
    optional = tuple(n for n in schema.TABLES if n not in schema.REQUIRED_TABLES)
    assert check(tables, drop=optional) == []
    assert check({n: df.iloc[0:0] if n in optional else df for n, df in tables.items()}) == []


def test_an_optional_table_that_exists_must_still_be_right(tables):
    tables["usage"] = tables["usage"].drop(columns=["events"])
    assert {(p.table, p.column) for p in check(tables, drop=("nps_responses",))} == {
        ("usage", "events")}


def test_measurements_without_their_drivers_table_are_not_dropped_silently(tables):
    n = len(tables["value_measurements"])
    p = only(check(tables, drop=("value_drivers",)), "value_measurements", None)
    assert p.message == f"{n} rows measure drivers, but table `value_drivers` is missing"
    assert "create `value_drivers`" in p.fix


def test_coverage_counts_rows_and_accounts_of_every_table(tables):
    tables["nps_responses"] = tables["nps_responses"].iloc[0:0]
    with build(tables, drop=("usage",)) as wh:
        cov = {c.table: c for c in contract.coverage(wh)}
    assert list(cov) == list(schema.TABLES)
    n = len(tables["accounts"])
    assert (cov["accounts"].rows, cov["accounts"].accounts) == (n, n)
    arr = tables["arr_history"]
    assert (cov["arr_history"].rows, cov["arr_history"].accounts) == (
        len(arr), arr["account_id"].nunique())
    assert not cov["usage"].present and cov["usage"].rows is None and not cov["usage"].provided
    assert cov["nps_responses"].present and cov["nps_responses"].rows == 0
    assert not cov["nps_responses"].provided and cov["arr_history"].provided


def test_missing_columns_are_each_named(tables):
    tables["usage"] = tables["usage"].drop(columns=["events", "licensed_seats"])
    problems = check(tables)
    assert {(p.table, p.column) for p in problems} == {("usage", "events"),
                                                      ("usage", "licensed_seats")}
    p = only(problems, "usage", "events")
    assert p.message == "column is missing"
    assert p.fix == ("add column `events` (type int) to table `usage`; "
                     "see docs/architecture.md#data-contract")


def test_column_name_in_wrong_case_gets_a_hint(tables):
    tables["arr_history"] = tables["arr_history"].rename(columns={"arr": "ARR"})
    p = only(check(tables), "arr_history", "arr")
    assert "`ARR`" in p.message


def test_text_in_a_numeric_column(tables):
    arr = tables["arr_history"]
    arr["arr"] = arr["arr"].map(lambda v: f"{v:.0f}")
    arr.loc[5, "arr"] = "lots"
    bad_account = arr.loc[5, "account_id"]
    problems = check(tables, types={"arr_history": _types("arr_history", arr="text")})
    texts = [str(p) for p in problems if (p.table, p.column) == ("arr_history", "arr")]
    assert len(texts) == 2
    assert any("stored as VARCHAR" in t and "DOUBLE PRECISION" in t for t in texts)
    not_number = next(p for p in problems if "not a number" in p.message)
    assert "'lots'" in not_number.message and not_number.account_id == bad_account
    assert bad_account in str(not_number)


def test_wrong_column_type(tables):
    acc = tables["accounts"]
    acc["start_date"] = acc["start_date"].dt.year
    p = only(check(tables, types={"accounts": _types("accounts", start_date="int")}),
             "accounts", "start_date")
    assert p.message == "is stored as BIGINT, which cannot hold a date"
    assert "to type DATE" in p.fix


def test_dates_stored_as_text_that_do_not_parse(tables):
    sp = tables["success_plan"]
    sp["due_date"] = sp["due_date"].dt.strftime("%Y-%m-%d").astype(object)
    sp.loc[3, "due_date"] = "31/10/2026"
    sp.loc[4, "due_date"] = "2026-02-30"
    problems = check(tables, types={"success_plan": _types("success_plan",
                                                                      due_date="text")})
    p = only(problems, "success_plan", "due_date")
    assert p.message.startswith("2 rows hold text that is not a date")
    assert "'31/10/2026'" in p.message and "'2026-02-30'" in p.message
    assert sp.loc[3, "account_id"] in p.message
    assert "YYYY-MM-DD" in p.fix


def test_dates_stored_as_iso_text_are_accepted(tables):
    sp = tables["success_plan"]
    sp["due_date"] = sp["due_date"].dt.strftime("%Y-%m-%d").astype(object)
    assert check(tables, types={"success_plan": _types("success_plan",
                                                                  due_date="text")}) == []


def test_nps_score_above_10(tables):
    nps = tables["nps_responses"]
    nps.loc[7, "score"] = 11
    p = only(check(tables), "nps_responses", "score")
    account = nps.loc[7, "account_id"]
    assert p.message == f"1 row is above the maximum 10, e.g. 11 (account {account})"
    assert p.account_id == nps.loc[7, "account_id"]
    assert "between 0 and 10" in p.fix


def test_negative_arr(tables):
    arr = tables["arr_history"]
    arr.loc[10, "arr"] = -500.0
    p = only(check(tables), "arr_history", "arr")
    assert p.message.startswith("1 row has a negative value, e.g. -500")
    assert p.account_id == arr.loc[10, "account_id"]


def test_negative_values_read_as_one_line(tables):
    u = tables["usage"]
    rows = [0, 1, u.index[u["account_id"] == "ACC-0005"][0]]
    u.loc[rows, "active_users"] = -3
    p = only(check(tables), "usage", "active_users")
    assert str(p) == ("usage.active_users: 3 rows have negative values, e.g. -3 "
                      "(accounts ACC-0001, ACC-0005); fix: `active_users` may not be negative; "
                      "correct or remove these rows")
    assert p.account_id is None and p.accounts == ("ACC-0001", "ACC-0005")


def test_csat_outside_1_to_5_but_null_is_fine(tables):
    t = tables["support_tickets"]
    assert t["csat"].isna().any()
    t.loc[2, "csat"] = 0
    p = only(check(tables), "support_tickets", "csat")
    assert "below the minimum 1" in p.message and t.loc[2, "account_id"] in p.message


def test_value_outside_choices(tables):
    t = tables["support_tickets"]
    t.loc[1, "severity"] = "urgent"
    p = only(check(tables), "support_tickets", "severity")
    assert "'urgent'" in p.message and "low, medium, high, critical" in p.fix


def test_null_in_a_required_column(tables):
    tables["accounts"].loc[3, "name"] = None
    p = only(check(tables), "accounts", "name")
    assert p.message == "1 row is null (account ACC-0004)"


def test_duplicate_account_id(tables):
    acc = tables["accounts"]
    tables["accounts"] = pd.concat([acc, acc.iloc[[2]]], ignore_index=True)
    p = only(check(tables), "accounts", "account_id")
    assert "duplicated `account_id`" in p.message and "ACC-0003 (x2)" in p.message
    assert p.account_id == "ACC-0003"


def test_duplicate_month_in_arr_history(tables):
    arr = tables["arr_history"]
    tables["arr_history"] = pd.concat([arr, arr.iloc[[4]]], ignore_index=True)
    p = only(check(tables), "arr_history", None)
    month = arr.loc[4, "month"].date().isoformat()
    assert "key (account_id, month)" in p.message
    assert f"{arr.loc[4, 'account_id']} / {month} (x2)" in p.message


@pytest.mark.parametrize("bad_id", ["../../etc", "x' OR '1'='1", "ACC-1\n", "a" * 65])
def test_bad_account_ids(tables, bad_id):
    for df in tables.values():
        df.loc[df["account_id"] == "ACC-0001", "account_id"] = bad_id
    problems = check(tables)
    # The hostile id is data, never SQL: it is reported, and everything else checks out.
    assert len(problems) == 1
    p = only(problems, "accounts", "account_id")
    assert repr(bad_id) in p.message and p.account_id == bad_id
    assert "1-64" in p.fix


def test_the_portfolio_reviews_id_is_not_an_account_id(tables):
    """Its manifest entry and task id are the portfolio review's; an account may not take it."""
    for df in tables.values():
        df.loc[df["account_id"] == "ACC-0001", "account_id"] = "portfolio"
    p = only(check(tables), "accounts", "account_id")
    assert "'portfolio', which is the portfolio review's" in p.message


def test_rows_for_unknown_accounts(tables):
    u = tables["usage"]
    u.loc[u["account_id"] == "ACC-0002", "account_id"] = "ACC-9999"
    p = only(check(tables), "usage", "account_id")
    assert "not in `accounts`" in p.message and "ACC-9999" in p.message
    assert p.account_id == "ACC-9999"


def test_measurement_of_unknown_driver(tables):
    m = tables["value_measurements"]
    m.loc[0, "driver_id"] = "made_up"
    p = only(check(tables), "value_measurements", "driver_id")
    assert f"{m.loc[0, 'account_id']} driver 'made_up'" in p.message
    assert p.account_id == m.loc[0, "account_id"]


def test_driver_of_another_account_is_unknown_here(tables):
    d, m = tables["value_drivers"], tables["value_measurements"]
    theirs = set(d.loc[d["account_id"] == "ACC-0001", "driver_id"])
    other = d[(d["account_id"] != "ACC-0001") & ~d["driver_id"].isin(theirs)].iloc[0]
    row = m.index[m["account_id"] == "ACC-0001"][0]
    m.loc[row, "driver_id"] = other["driver_id"]
    p = only(check(tables), "value_measurements", "driver_id")
    assert "ACC-0001" in p.message and other["driver_id"] in p.message


def test_empty_accounts(tables):
    tables["accounts"] = tables["accounts"].iloc[0:0]
    problems = check(tables)
    assert [str(p) for p in problems] == [
        "accounts: the warehouse has no accounts; fix: load your accounts into `accounts` (or "
        "run `valuereview demo-data` for the demo warehouse); "
        "see docs/architecture.md#data-contract"
    ]


def test_bad_currency_and_locale(tables):
    acc = tables["accounts"]
    acc.loc[1, "currency"] = "usd"
    acc.loc[2, "currency"] = "DOLLARS"
    acc.loc[4, "locale"] = "english"
    acc.loc[5, "locale"] = "en_US"
    problems = check(tables)
    cur = only(problems, "accounts", "currency")
    assert "ISO 4217" in cur.message and "'DOLLARS', 'usd'" in cur.message
    assert cur.accounts == ("ACC-0002", "ACC-0003")
    loc = only(problems, "accounts", "locale")
    assert "'en_US', 'english'" in loc.message and "(accounts ACC-0005, ACC-0006)" in loc.message
    assert len(problems) == 2


def test_dates_out_of_order(tables):
    acc = tables["accounts"]
    acc.loc[6, "churn_date"] = acc.loc[6, "start_date"] - pd.Timedelta(days=3)
    t = tables["support_tickets"]
    t.loc[0, "resolved_at"] = t.loc[0, "opened_at"] - pd.Timedelta(hours=1)
    problems = check(tables)
    assert "before start_date (account ACC-0007)" in only(problems, "accounts",
                                                         "churn_date").message
    assert "before opened_at" in only(problems, "support_tickets", "resolved_at").message


def test_every_problem_is_reported_at_once(tables):
    tables["nps_responses"].loc[0, "score"] = 11
    tables["arr_history"].loc[0, "arr"] = -1.0
    tables["support_tickets"].loc[0, "severity"] = "urgent"
    tables["accounts"].loc[0, "currency"] = "XYZ"
    tables["value_measurements"].loc[0, "driver_id"] = "made_up"
    tables["usage"] = tables["usage"].drop(columns=["feature"])
    tables["online_reviews"] = tables["online_reviews"].drop(columns=["rating"])
    problems = check(tables)
    assert {(p.table, p.column) for p in problems} == {
        ("nps_responses", "score"), ("arr_history", "arr"), ("support_tickets", "severity"),
        ("accounts", "currency"), ("value_measurements", "driver_id"), ("usage", "feature"),
        ("online_reviews", "rating"),
    }
    # ... and usage's other checks (and its key, which needs `feature`) ran or were skipped
    # without error.
    assert all("could not be checked" not in p.message for p in problems)


def test_require_raises_with_every_problem(tables):
    tables["nps_responses"].loc[0, "score"] = -1
    tables["accounts"].loc[0, "locale"] = "klingon"
    with build(tables) as wh:
        with pytest.raises(ContractError) as err:
            contract.require(wh)
        assert err.value.problems == contract.check(wh)
    assert len(err.value.problems) == 2
    text = str(err.value)
    assert "2 problems" in text and "nps_responses.score" in text and "'klingon'" in text


def test_require_passes_quietly(tables):
    with build(tables) as wh:
        assert contract.require(wh) is None


def test_problem_is_a_frozen_value():
    p = Problem("usage", "events", "ACC-0001", "1 row has a negative value", "fix it")
    assert str(p) == "usage.events: 1 row has a negative value; fix: fix it"
    assert str(Problem("accounts", None, None, "table is missing", "")) \
        == "accounts: table is missing"
    with pytest.raises(AttributeError):
        p.message = "other"  # type: ignore[misc]


def test_whole_numbers_stored_as_decimals(tables):
    nps = tables["nps_responses"]
    nps["score"] = nps["score"].astype(float)
    nps.loc[2, "score"] = 7.5
    p = only(check(tables, types={"nps_responses": _types("nps_responses", score="float")}),
             "nps_responses", "score")
    assert p.message.startswith("1 row is not a whole number, e.g. 7.5")


def test_contract_error_survives_pickling():
    import pickle

    err = ContractError([Problem("usage", "events", None, "3 rows have negative values", "x")])
    back = pickle.loads(pickle.dumps(err))
    assert back.problems == err.problems and str(back) == str(err)
