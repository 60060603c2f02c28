"""Extraction: one bulk pass, bundles that hold only their own account, anonymised peers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuelib.data import bundle as bundles
from valuelib.data import demo, extract, schema
from valuelib.data.warehouse import Warehouse
from valuelib.metrics.peers import MIN_PEERS


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "w.duckdb"
    with Warehouse.open(str(path), read_only=False) as w:
        demo.write(w, demo.generate(accounts=30, seed=3))
    with Warehouse.open(str(path)) as w:
        yield w


@pytest.fixture(scope="module")
def customer(wh, tmp_path_factory):
    return extract.run(wh, tmp_path_factory.mktemp("b"), audience="customer")


def test_default_quarter_is_latest_complete(wh):
    quarter, as_of = extract.resolve_quarter(wh, None)
    assert quarter == "2026Q3"
    assert dt.date(2026, 10, 1) <= as_of <= dt.date(2026, 10, 31)  # demo data ends in October


def test_each_bundle_holds_only_its_own_rows(customer):
    assert len(customer.bundles) >= 20
    for aid, path in customer.bundles.items():
        payload = json.loads(path.read_bytes())
        assert payload["account"]["account_id"] == aid
        for name, table in payload["tables"].items():
            col = table["columns"].index("account_id")
            others = {row[col] for row in table["rows"]} - {aid}
            assert not others, f"{aid} bundle holds {name} rows of {others}"
        assert customer.hashes[aid] == bundles.sha256(path.read_bytes())


def test_customer_bundles_drop_internal_columns(customer, wh, tmp_path):
    for path in customer.bundles.values():
        payload = json.loads(path.read_bytes())
        assert "internal_note" not in payload["tables"]["success_plan"]["columns"]
    internal = extract.run(wh, tmp_path, selector="ACC-0001", audience="internal")
    payload = json.loads(internal.bundles["ACC-0001"].read_bytes())
    assert "internal_note" in payload["tables"]["success_plan"]["columns"]


def test_rows_after_the_quarter_are_cut(customer):
    b = bundles.load(customer.bundles["ACC-0001"])
    for name, col in (("usage", "date"), ("arr_history", "month"),
                      ("nps_responses", "responded_at")):
        df = b.table(name)
        assert df.empty or df[col].max() <= __import__("pandas").Timestamp("2026-09-30")


def test_peers_are_anonymous_aggregates_of_at_least_five(customer):
    for path in customer.bundles.values():
        peers = json.loads(path.read_bytes())["peers"]
        text = json.dumps(peers)
        assert "ACC-" not in text, "no peer is named"
        if peers["count"] < MIN_PEERS:
            assert "utilisation_pct" not in peers
        else:
            assert len(peers["utilisation_pct"]) == peers["count"]


def test_bundles_are_deterministic(wh, customer, tmp_path):
    again = extract.run(wh, tmp_path, audience="customer")
    assert again.hashes == customer.hashes
    assert again.portfolio_hash == customer.portfolio_hash


def test_the_portfolio_bundle_only_when_asked(wh, customer, tmp_path):
    lean = extract.run(wh, tmp_path, selector="ACC-0001,ACC-0003", portfolio=False)
    assert lean.portfolio is None and not (tmp_path / "portfolio.json").exists()
    assert lean.hashes == {a: customer.hashes[a] for a in ("ACC-0001", "ACC-0003")}
    assert customer.portfolio is not None and customer.portfolio.exists()


def test_selectors(wh, tmp_path):
    seg = extract.run(wh, tmp_path, selector="segment=Enterprise")
    assert seg.bundles and all(v["segment"] == "Enterprise" for v in seg.names.values())
    two = extract.run(wh, tmp_path, selector="ACC-0001,ACC-0003")
    assert sorted(two.bundles) == ["ACC-0001", "ACC-0003"]


@pytest.mark.parametrize("selector, message", [
    ("x' OR '1'='1", "is not an account id"),
    ("../../etc", "is not an account id"),
    ("ACC-9999", "no account with id ACC-9999"),
    ("segment=Nope", "no account has segment 'Nope'"),
    ("segment=x' OR '1'='1", "no account has segment"),
])
def test_bad_selectors_select_nothing_and_say_so(wh, tmp_path, selector, message):
    with pytest.raises(extract.SelectionError, match=message.replace("'", ".")):
        extract.run(wh, tmp_path, selector=selector)
    assert not list(tmp_path.rglob("*.json"))


def test_unknown_or_future_quarter_is_refused(wh, tmp_path):
    with pytest.raises(extract.SelectionError, match="no data for it"):
        extract.run(wh, tmp_path, quarter="2031Q1")
    with pytest.raises(extract.SelectionError, match="not a quarter"):
        extract.run(wh, tmp_path, quarter="2026-Q3")


def test_inactive_accounts_are_reported_not_reviewed(customer):
    for aid, reason in customer.skipped.items():
        assert schema.ACCOUNT_ID_RE.match(aid)
        assert "before 2026Q3" in reason or "after 2026Q3" in reason
        assert aid not in customer.bundles


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=400, allow_nan=False), min_size=1,
                max_size=12),
       st.integers(min_value=0, max_value=12))
def test_peer_figures_less_one_account_match_sorting_and_numpy(values, who):
    """The sorted-once figures give, for any account left out (or one not among them), the
    same sorted list and the same median float as sorting and numpy.median afresh."""
    import numpy as np

    ids = [f"A{i}" for i in range(len(values))]
    figures = extract._Sorted(ids, values)
    left_out = f"A{who}"
    others = [v for a, v in zip(ids, values, strict=True) if a != left_out]
    assert figures.without(left_out) == sorted(others)
    assert figures.count_without(left_out) == len(others)
    if others:
        assert figures.median_without(left_out) == float(np.median(others))
