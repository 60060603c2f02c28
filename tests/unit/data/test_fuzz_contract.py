"""Fuzz: generated broken rows go to `check-data` (and would-be extraction); the answer is
always a clear problem naming the table and column, never a traceback."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuelib.data import contract, demo, extract, schema
from valuelib.data.warehouse import Warehouse

BASE = demo.generate(accounts=8, seed=11)
BREAKABLE = [(t.name, c) for t in schema.TABLES.values() for c in t.columns
             if c.name != "account_id" or t.name == "accounts"]


def _bad_values(col: schema.Column):
    """Values that break a column's contract, as the database would store them."""
    options = []
    if not col.nullable:
        options.append(st.just(None))
    if col.type in (schema.FLOAT, schema.INT):
        options.append(st.sampled_from(["abc", "12,5", "", "NaN?"]))
        if col.min is not None:
            options.append(st.floats(min_value=-1e9, max_value=col.min - 1))
        if col.max is not None:
            options.append(st.floats(min_value=col.max + 1, max_value=1e9))
    if col.type in (schema.DATE, schema.TIMESTAMP):
        options.append(st.sampled_from(["31/02/2026", "yesterday", "2026-13-01", ""]))
    if col.choices:
        options.append(st.text(min_size=1, max_size=8).filter(lambda s: s not in col.choices))
    if col.name == "account_id":
        options.append(st.sampled_from(["../../etc", "x' OR '1'='1", "", "a" * 65, "a b"]))
    if col.name == "currency":
        options.append(st.sampled_from(["XXXX", "dollars", "U$"]))
    return st.one_of(options) if options else None


CANDIDATES = [(t, c) for t, c in BREAKABLE if _bad_values(c) is not None]


@st.composite
def breakage(draw):
    table, col = draw(st.sampled_from(CANDIDATES))
    value = draw(_bad_values(col))
    row = draw(st.integers(min_value=0, max_value=len(BASE[table]) - 1))
    return table, col, row, value


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(breakage())
def test_broken_rows_get_a_named_problem_never_a_traceback(b):
    table, col, row, value = b
    tables = {k: v.copy() for k, v in BASE.items()}
    df = tables[table]
    df[col.name] = df[col.name].astype(object)
    if isinstance(value, str):  # a text value in any column: the whole column is stored as text
        df[col.name] = [None if pd.isna(v) else str(v.date() if col.type == schema.DATE
                                                    and hasattr(v, "date") else v)
                        for v in df[col.name]]
    df.iat[row, df.columns.get_loc(col.name)] = value
    with Warehouse("duckdb:///:memory:", read_only=False) as wh:
        for name, frame in tables.items():
            types = {c.name: c.type for c in schema.TABLES[name].columns}
            if name == table:
                types.pop(col.name)  # store the broken column as the values came (text too)
            wh.write_table(name, frame, types)
        problems = contract.check(wh)
        assert problems, f"{table}.{col.name} = {value!r} went unnoticed"
        named = [p for p in problems if p.table in (table, "accounts")]
        assert named, [str(p) for p in problems]
        for p in problems:
            assert str(p) and "Traceback" not in str(p)
        with pytest.raises(contract.ContractError):
            contract.require(wh)


def test_an_empty_warehouse_is_refused_clearly():
    with Warehouse("duckdb:///:memory:", read_only=False) as wh:
        problems = contract.check(wh)
        assert {p.table for p in problems} == set(schema.REQUIRED_TABLES)
        with pytest.raises(extract.SelectionError, match="no dated rows"):
            extract.run(wh, None, quarter=None)  # type: ignore[arg-type]


def test_dates_in_the_future_do_not_break_extraction(tmp_path):
    tables = {k: v.copy() for k, v in BASE.items()}
    extra = tables["nps_responses"].iloc[:1].copy()
    extra["responded_at"] = pd.Timestamp(dt.date(2030, 1, 1))
    tables["nps_responses"] = pd.concat([tables["nps_responses"], extra], ignore_index=True)
    with Warehouse("duckdb:///:memory:", read_only=False) as wh:
        for name, frame in tables.items():
            wh.write_table(name, frame)
        ex = extract.run(wh, tmp_path, quarter="2026Q3")
        assert ex.bundles
