"""The example mappings of examples/mappings/ load their sample exports (examples/data/):
HubSpot companies (Excel), Stripe subscriptions (CSV, cents, matched on a kept column),
Zendesk tickets (JSON lines, nested fields) and Delighted NPS responses (JSON, Unix times)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from valuelib import cli
from support import ROOT

MAPPINGS = ROOT / "examples" / "mappings"


def imported(db: Path, tmp_path: Path, *names: str) -> None:
    for name in names:
        code = cli.main(["import", "--mapping", str(MAPPINGS / f"{name}.yaml"), "--db", str(db),
                         "--report", str(tmp_path / f"{name}.json")])
        assert code == 0, name


def rows(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_every_example_mapping_is_tested():
    assert sorted(p.stem for p in MAPPINGS.glob("*.yaml")) == [
        "delighted-nps", "hubspot-companies", "stripe-subscriptions", "zendesk-tickets"]


def test_examples_load_one_after_another(tmp_path: Path, capsys):
    db = tmp_path / "team.duckdb"
    imported(db, tmp_path, "hubspot-companies", "stripe-subscriptions", "zendesk-tickets",
             "delighted-nps")
    out = capsys.readouterr().out
    assert "accounts: 4 row(s) read, 0 rejected, 4 loaded" in out
    assert "arr_history: 6 subscription line(s) read, 0 rejected" in out
    acc = rows(db, "SELECT account_id, industry, currency, stripe_customer_id, zendesk_org_id, "
                   "churn_date FROM accounts ORDER BY 1")
    assert acc["account_id"].tolist() == ["9001", "9002", "9003", "9004"]
    assert acc["industry"].tolist() == ["Retail", "Healthcare", "Manufacturing", "Travel"]
    assert acc["zendesk_org_id"].tolist() == ["360001", "360002", "360003", "360004"]
    assert acc["churn_date"].isna().tolist() == [True, True, False, True]
    arr = rows(db, "SELECT account_id, month, arr FROM arr_history")
    last = arr[arr["month"] == pd.Timestamp("2026-10-01")].set_index("account_id")["arr"]
    # 2,400.00 GBP a month; 30 seats at 90.00 USD; 1,350.00 EUR every 3 months
    assert last.to_dict() == {"9001": 28800.0, "9002": 32400.0, "9004": 5400.0}
    fab = arr[arr["account_id"] == "9003"]
    assert fab["month"].max() == pd.Timestamp("2026-07-01")  # ended 1 August: churn in August
    tickets = rows(db, "SELECT * FROM support_tickets ORDER BY opened_at")
    assert tickets["severity"].tolist() == ["high", "critical", "medium", "medium", "low"]
    assert tickets["csat"].tolist()[:2] == [5, 1] and tickets["csat"].isna().tolist()[2:4] == [
        True, True]
    assert tickets["resolved_at"].isna().tolist() == [False, False, False, True, False]
    nps = rows(db, "SELECT * FROM nps_responses ORDER BY responded_at")
    assert nps["score"].tolist() == [9, 3, 9, 8, 9]
    assert nps["responded_at"].iloc[0] == pd.Timestamp("2026-01-20")
    assert nps["account_id"].tolist() == ["9001", "9003", "9002", "9001", "9004"]


def test_a_billing_export_before_its_accounts_is_refused(tmp_path: Path, capsys):
    code = cli.main(["import", "--mapping", str(MAPPINGS / "stripe-subscriptions.yaml"),
                     "--db", str(tmp_path / "empty.duckdb"),
                     "--report", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "the mapping imports no accounts" in err and "import accounts first" in err
