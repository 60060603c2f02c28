"""The data stage's SQL: one identifier quoting that escapes, and values only ever bound."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from valuelib.data import sql
from valuelib.data.warehouse import Warehouse

HOSTILE = 'x"; DROP TABLE accounts; --'


def test_ident_doubles_embedded_double_quotes():
    assert sql.ident("account_id") == '"account_id"'
    assert sql.ident('a"b') == '"a""b"'
    assert sql.ident(HOSTILE) == '"x""; DROP TABLE accounts; --"'


def test_a_quoted_name_stays_one_identifier():
    """DuckDB reads the quoted hostile name back as that one column, nothing more."""
    con = duckdb.connect()
    quoted = 'a"b'
    con.execute(f"CREATE TABLE t ({sql.ident(HOSTILE)} INTEGER, {sql.ident(quoted)} INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 2)")
    assert con.execute(sql.select("t", [HOSTILE, quoted])).fetchall() == [(1, 2)]
    assert con.execute(sql.count_rows("t")).fetchall() == [(1,)]


@pytest.mark.parametrize("statement", [
    sql.select_equal("accounts", "segment", "v"),
    sql.below('"arr"', "min_arr"),
    sql.above('"arr"', "max_arr"),
    sql.not_among("segment", ["ch_0", "ch_1"]),
    sql.as_number("seats", text=True, duck=False, pattern_param="vr_num_re"),
    sql.not_timestamp("month", duck=False, pattern_param="vr_date_re"),
    sql.select_accounts("usage", None, duck=False),
])
def test_statements_carry_markers_not_values(statement):
    """Each builder writes a named marker where a value goes; no value is in the text."""
    assert ":" in statement or "$" in statement
    for value in ("SMB", "0.0", "2026", "'"):
        assert value not in statement


def test_duckdb_markers_leave_literals_alone():
    assert sql.duckdb_params("a = :v AND b = ':x' AND c::TEXT = :w") == (
        "a = $v AND b = ':x' AND c::TEXT = $w")


def test_limits_are_whole_numbers():
    with pytest.raises(ValueError, match="LIMIT"):
        sql.example_accounts('"usage"', "1 = 1", "5; DROP TABLE accounts")  # type: ignore[arg-type]


def test_a_value_with_quotes_is_bound_through_the_warehouse(tmp_path):
    """A selector value full of quotes matches exactly the row that holds it, as a value."""
    with Warehouse.open(str(tmp_path / "w.duckdb"), read_only=False) as wh:
        wh.write_table("accounts", pd.DataFrame({"account_id": ["A", "B"],
                                                 "segment": [HOSTILE, "SMB"]}), {})
        got = wh.query(sql.select_equal("accounts", "segment", "v"), {"v": HOSTILE})
        assert got["account_id"].tolist() == ["A"]
        assert sorted(wh.read_table("accounts", account_ids=["B", "'A'"])["account_id"]) == ["B"]

