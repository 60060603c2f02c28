"""`valuereview import`: every mapping feature, every rejection reason (in the report and on
stderr, with file and line), atomic replacement, idempotence, and the mapping's own errors."""

from __future__ import annotations

import json
import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from valuelib import cli
from valuelib.data.warehouse import Warehouse

ACCOUNTS_CSV = """\
id,Company,Tier,Industry,Region,Owner,Cur,Lang,Since,Renewal,Churned,Stripe
A1,Acme,Enterprise,Retail,EMEA,Ann,USD,en-US,2025-01-01,2026-12-31,,cus_1
A2,Beta,SMB,Health,NA,Bob,eur,en-GB,2025-03-01,2026-12-31,,cus_2
"""

BASE_MAPPING = """\
tables:
  accounts:
    source: accounts.csv
    account: id
    keep: {stripe_id: Stripe}
    columns:
      name: Company
      segment: Tier
      industry: Industry
      region: Region
      csm: Owner
      currency: Cur
      locale: Lang
      start_date: Since
      renewal_date: Renewal
      churn_date: Churned
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def more(extra: str) -> str:
    """BASE_MAPPING with more tables (written at the indentation of `tables:` entries)."""
    return BASE_MAPPING + textwrap.indent(textwrap.dedent(extra), "  ")


def run(*args: str, capsys) -> tuple[int, str, str]:
    code = cli.main(["import", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def table(db: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').df()


def report(folder: Path) -> dict:
    return json.loads((folder / "import-report.json").read_text())


@pytest.fixture
def team(tmp_path: Path) -> Path:
    write(tmp_path, "accounts.csv", ACCOUNTS_CSV)
    write(tmp_path, "mapping.yaml", BASE_MAPPING)
    return tmp_path


def test_renames_constants_maps_formats_and_keep(team: Path, capsys):
    write(team, "accounts.csv", """\
        id,Company,Tier,Industry,Region,Owner,Cur,Lang,Since,Renewal,Churned,Stripe
        A1,Acme,ent,Retail,EMEA,Ann,usd,en-US,01/02/2025,31/12/2026,,cus_1
        A2,Beta,smb,,NA,Bob,EUR,en-GB,15/03/2025,31/12/2026,01/06/2026,cus_2
        """)
    write(team, "mapping.yaml", """\
        tables:
          accounts:
            source: accounts.csv
            account: id
            date_format: "%d/%m/%Y"
            keep: {stripe_id: Stripe}
            columns:
              name: Company
              segment: {from: Tier, map: {ent: Enterprise, smb: SMB}}
              industry: {from: Industry, default: Other}
              region: Region
              csm: Owner
              currency: Cur
              locale: {value: en-US}
              start_date: Since
              renewal_date: Renewal
              churn_date: Churned
        """)
    db = team / "wh.duckdb"
    code, out, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)
    assert code == 0, err
    assert "accounts: 2 row(s) read, 0 rejected, 2 loaded" in out
    acc = table(db, "accounts")
    assert acc["segment"].tolist() == ["Enterprise", "SMB"]
    assert acc["industry"].tolist() == ["Retail", "Other"]
    assert acc["currency"].tolist() == ["USD", "EUR"]  # ISO codes in capitals
    assert acc["locale"].tolist() == ["en-US", "en-US"]
    assert [d.date() for d in acc["start_date"]] == [date(2025, 2, 1), date(2025, 3, 15)]
    assert pd.isna(acc["churn_date"][0]) and acc["churn_date"][1].date() == date(2026, 6, 1)
    assert acc["stripe_id"].tolist() == ["cus_1", "cus_2"]


def test_yes_no_map_to_booleans_and_only_if(team: Path, capsys):
    write(team, "reviews.csv", """\
        account,posted,stars,mood,answered
        A1,2026-01-05,5,Happy,Yes
        A1,2026-02-05,2,Unhappy,No
        """)
    write(team, "tickets.csv", """\
        org,opened,closed,status,prio,rating
        A1,2026-01-05 09:30,2026-01-05 17:00,solved,urgent,good
        A2,2026-01-06 10:00,2026-01-07 10:00,open,normal,offered
        """)
    write(team, "mapping.yaml", more("""\
          online_reviews:
            source: reviews.csv
            account: account
            columns:
              posted_at: posted
              rating: stars
              sentiment: {from: mood, map: {Happy: positive, Unhappy: negative}}
              resolved: {from: answered, map: {Yes: true, No: false}}
          support_tickets:
            source: tickets.csv
            account: org
            columns:
              opened_at: {from: opened, format: "%Y-%m-%d %H:%M"}
              resolved_at: {from: closed, format: "%Y-%m-%d %H:%M",
                            only_if: {status: [solved, closed]}}
              severity: {from: prio, map: {urgent: critical, normal: medium}}
              csat: {from: rating, map: {good: 5, bad: 1, offered: null}}
        """))
    db = team / "wh.duckdb"
    code, _, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)
    assert code == 0, err
    rev = table(db, "online_reviews")
    assert rev["resolved"].tolist() == [True, False]  # "Yes" and "No" stay text in YAML keys
    assert rev["sentiment"].tolist() == ["positive", "negative"]
    t = table(db, "support_tickets").sort_values("account_id")
    assert t["resolved_at"].iloc[0] == pd.Timestamp("2026-01-05 17:00")
    assert pd.isna(t["resolved_at"].iloc[1])  # still open: only_if leaves it missing
    assert t["severity"].tolist() == ["critical", "medium"]
    assert t["csat"].iloc[0] == 5 and pd.isna(t["csat"].iloc[1])


def test_subscription_lines_matched_on_a_kept_column_with_scale_and_epoch(team: Path, capsys):
    write(team, "subs.csv", """\
        customer_id,start_date,ended_at,amount,interval,quantity
        cus_1,1767225600,,10000,month,3
        cus_2,1767225600,1772323200,120000,year,
        """)
    write(team, "mapping.yaml", more("""\
          arr_history:
            source: subs.csv
            derive: subscriptions
            as_of: 2026-03-31
            account: {column: customer_id, match: stripe_id}
            columns:
              start: {from: start_date, format: unix}
              end: {from: ended_at, format: unix}
              amount: {from: amount, scale: 0.01}
              interval: interval
              quantity: quantity
        """))
    db = team / "wh.duckdb"
    code, out, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)
    assert code == 0, err
    assert "2 subscription line(s) read, 0 rejected, 5 monthly row(s) loaded" in out
    h = table(db, "arr_history")
    a1 = h[h.account_id == "A1"]
    assert a1["arr"].tolist() == [3600.0, 3600.0, 3600.0]  # 100.00 x 3 seats x 12
    a2 = h[h.account_id == "A2"]  # 1 Jan to 1 Mar 2026 (Unix seconds): January and February
    assert [m.month for m in a2["month"]] == [1, 2] and set(a2["arr"]) == {1200.0}


def test_invoice_lines_with_inclusive_period_ends(team: Path, capsys):
    write(team, "invoices.csv", """\
        acct,date,total,from,to
        A1,2026-01-01,500,2026-01-01,2026-01-31
        A1,2026-02-01,500,2026-02-01,2026-02-28
        A1,2026-02-10,-500,2026-02-01,2026-02-28
        A2,2026-01-15,6000,2026-01-15,2027-01-14
        """)
    write(team, "mapping.yaml", more("""\
          arr_history:
            source: invoices.csv
            derive: invoices
            period_end: inclusive
            as_of: 2026-02-28
            account: acct
            columns:
              date: date
              amount: total
              period_start: from
              period_end: to
        """))
    db = team / "wh.duckdb"
    code, _, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)
    assert code == 0, err
    h = table(db, "arr_history")
    assert h[h.account_id == "A1"]["arr"].tolist() == [6000.0]  # February refunded in full
    assert h[h.account_id == "A2"]["arr"].tolist() == [6000.0, 6000.0]


def test_parquet_excel_json_lines_json_array_and_nested_fields(team: Path, capsys):
    from openpyxl import Workbook

    nps = pd.DataFrame({"acc": ["A1", "A2"], "when": ["2026-01-03", "2026-02-04"],
                        "nps": [9, 3]})
    with duckdb.connect() as con:
        con.register("nps", nps)
        con.execute(f"COPY nps TO '{team / 'nps.parquet'}' (FORMAT parquet)")
    wb = Workbook()
    ws = wb.active
    ws.append(["Account", "Day", "Active", "Seats", "Feature", "Events"])
    ws.append(["A1", datetime(2026, 1, 1), 10, 20, "reports", 100])
    ws.append([None, None, None, None, None, None])
    ws.append(["A2", datetime(2026, 1, 1), 3, 5, "reports", 7])
    wb.save(team / "usage.xlsx")
    write(team, "tickets.jsonl", """\
        {"organization": {"ref": "A1"}, "created_at": "2026-01-02T10:00:00Z", "priority":"high"}

        {"organization": {"ref": "A2"}, "created_at": "2026-01-03T11:00:00+02:00", "priority":"low"}
        """)
    write(team, "plan.json", json.dumps([
        {"acc": "A1", "q": "2026Q1", "goal": "Roll out", "owner": "Ann", "due": "2026-03-31",
         "status": "in_progress"}]))
    write(team, "mapping.yaml", more("""\
          nps_responses:
            source: nps.parquet
            account: acc
            columns: {responded_at: when, score: nps}
          usage:
            source: usage.xlsx
            account: Account
            columns: {date: Day, active_users: Active, licensed_seats: Seats, feature: Feature,
                      events: Events}
          support_tickets:
            source: "*.jsonl"
            account: organization.ref
            columns: {opened_at: created_at, severity: priority}
          success_plan:
            source: plan.json
            account: acc
            columns: {quarter: q, goal: goal, owner: owner, due_date: due, status: status}
        """))
    db = team / "wh.duckdb"
    code, out, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)
    assert code == 0, err
    assert table(db, "nps_responses")["score"].tolist() == [9, 3]
    assert table(db, "usage")["active_users"].tolist() == [10, 3]  # the empty row is skipped
    opened = table(db, "support_tickets")["opened_at"].tolist()
    assert opened == [pd.Timestamp("2026-01-02 10:00"), pd.Timestamp("2026-01-03 09:00")]
    assert table(db, "success_plan")["goal"].tolist() == ["Roll out"]


def test_command_line_sources_folder_file_and_table_override(team: Path, capsys):
    month = team / "2026-10"
    write(month, "accounts.csv", ACCOUNTS_CSV.replace("Acme", "Acme October"))
    db = team / "wh.duckdb"
    code, _, err = run(str(month), "--mapping", str(team / "mapping.yaml"), "--db", str(db),
                       capsys=capsys)
    assert code == 0, err
    assert "Acme October" in table(db, "accounts")["name"].tolist()
    other = write(team, "elsewhere/crm.csv", ACCOUNTS_CSV.replace("Acme", "Acme CRM"))
    code, _, err = run(f"accounts={other}", "--mapping", str(team / "mapping.yaml"), "--db",
                       str(db), capsys=capsys)
    assert code == 0, err
    assert "Acme CRM" in table(db, "accounts")["name"].tolist()
    code, _, err = run(str(other), "--mapping", str(team / "mapping.yaml"), "--db", str(db),
                       capsys=capsys)
    assert code == 2 and "matches no table's source" in err and "TABLE=" in err


# -- rejections --------------------------------------------------------------------------------

BAD_ACCOUNTS = """\
id,Company,Tier,Industry,Region,Owner,Cur,Lang,Since,Renewal,Churned,Stripe
A1,Acme,Enterprise,Retail,EMEA,Ann,USD,en-US,2025-01-01,2026-12-31,,cus_1
A2,"Beta
Two lines",SMB,Health,NA,Bob,EUR,en-GB,2025-13-01,2026-12-31,,cus_2
A1,Acme again,Enterprise,Retail,EMEA,Ann,USD,en-US,2025-01-01,2026-12-31,,cus_1
A3,Gamma,SMB,Health,NA,Bob,Dollars,en-GB,2025-01-01,2026-12-31,,cus_3
"""
BAD_NPS = """\
account,when,score
A1,2026-01-05,9
ZZ9,2026-01-06,8
A1,2026-01-07,11
A2,2026-01-08,7
"""
BAD_PLAN = """\
account,quarter,goal,owner,due,status
A1,2026Q1,Roll out,Ann,2026-03-31,Closed Won
"""
BAD_ARR = """\
account,month,arr
A1,2026-01-01,1000
A1,2026-02-01,-50
"""


@pytest.fixture
def bad_team(team: Path) -> Path:
    write(team, "accounts.csv", BAD_ACCOUNTS)
    write(team, "nps.csv", BAD_NPS)
    write(team, "plan.csv", BAD_PLAN)
    write(team, "arr.csv", BAD_ARR)
    write(team, "mapping.yaml", more("""\
          nps_responses:
            source: nps.csv
            account: account
            columns: {responded_at: when, score: score}
          success_plan:
            source: plan.csv
            account: account
            columns: {quarter: quarter, goal: goal, owner: owner, due_date: due, status: status}
          arr_history:
            source: arr.csv
            account: account
            columns: {month: month, arr: arr}
        """))
    return team


#: (table, file, line, words of the reason) for every row bad_team rejects.
EXPECTED = [
    ("accounts", "accounts.csv", 3, "bad date in start_date: '2025-13-01'"),
    ("accounts", "accounts.csv", 5, "duplicate key (account_id=A1): also on line 2"),
    ("accounts", "accounts.csv", 6, "currency 'DOLLARS' is not an ISO 4217 code"),
    ("arr_history", "arr.csv", 3, "negative amount in arr: -50"),
    ("nps_responses", "nps.csv", 3, "unknown account 'ZZ9'"),
    ("nps_responses", "nps.csv", 4, "score 11 is above 10"),
    ("nps_responses", "nps.csv", 5, "unknown account 'A2' (its row in accounts was rejected)"),
    ("success_plan", "plan.csv", 2, "value outside the contract's choices in status: "
                                    "'Closed Won'"),
]


def test_every_rejection_named_with_file_line_and_reason(bad_team: Path, capsys):
    db = bad_team / "wh.duckdb"
    code, out, err = run("--mapping", str(bad_team / "mapping.yaml"), "--db", str(db),
                         capsys=capsys)
    assert code == 1
    rep = report(bad_team)
    got = [(r["table"], r["file"], r["line"], r["reason"]) for r in rep["rejected"]]
    assert len(got) == len(EXPECTED), got
    for table_, file, line, words in EXPECTED:
        assert any(t == table_ and f == file and n == line and words in reason
                   for t, f, n, reason in got), (table_, line, words, got)
        assert f"rejected {table_}: {file} line {line}: " in err and words in err
    codes = {p["code"] for r in rep["rejected"] for p in r["problems"]}
    assert {"bad_date", "duplicate_key", "unknown_account", "not_a_choice",
            "negative_amount"} <= codes
    assert "nothing was written" in err and "--allow-rejects" in err
    assert rep["written"] is False
    assert rep["tables"]["accounts"] == {"files": ["accounts.csv"], "rows_read": 4,
                                         "rows_rejected": 3, "rows_loaded": 0}
    assert not db.exists() or "accounts" not in Warehouse.open(str(db)).tables()


def test_allow_rejects_loads_the_other_rows(bad_team: Path, capsys):
    db = bad_team / "wh.duckdb"
    code, out, err = run("--mapping", str(bad_team / "mapping.yaml"), "--db", str(db),
                         "--allow-rejects", "--report", str(bad_team / "r.json"), capsys=capsys)
    assert code == 0, err
    assert "rejected accounts: accounts.csv line 3" in err
    assert table(db, "accounts")["account_id"].tolist() == ["A1"]
    assert table(db, "nps_responses")["score"].tolist() == [9]
    assert table(db, "arr_history")["arr"].tolist() == [1000.0]
    rep = json.loads((bad_team / "r.json").read_text())
    assert rep["written"] is True and rep["tables"]["accounts"]["rows_loaded"] == 1
    for name, t in rep["tables"].items():
        assert t["rows_read"] == t["rows_rejected"] + t["rows_loaded"], name


# -- atomicity and idempotence -------------------------------------------------------------------


def _contents(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}


def test_a_rejecting_import_leaves_the_warehouse_as_it_was(bad_team: Path, demo_db, capsys,
                                                           tmp_path):
    db = tmp_path / "copy.duckdb"
    db.write_bytes(Path(demo_db).read_bytes())
    before = _contents(db)
    code, _, _ = run("--mapping", str(bad_team / "mapping.yaml"), "--db", str(db),
                     capsys=capsys)
    assert code == 1
    assert _contents(db) == before


def test_a_failure_while_writing_rolls_back_every_table(team: Path, demo_db, capsys,
                                                        tmp_path, monkeypatch):
    write(team, "nps.csv", "account,when,score\nA1,2026-01-05,9\n")
    write(team, "mapping.yaml", more("""\
          nps_responses:
            source: nps.csv
            account: account
            columns: {responded_at: when, score: score}
        """))
    db = tmp_path / "copy.duckdb"
    db.write_bytes(Path(demo_db).read_bytes())
    before = _contents(db)
    real = Warehouse._duck_replace

    def fail_on_nps(self, name, df, types):
        if name == "nps_responses":
            raise duckdb.IOException("disk full (simulated)")
        return real(self, name, df, types)

    monkeypatch.setattr(Warehouse, "_duck_replace", fail_on_nps)
    with pytest.raises(duckdb.IOException):
        cli.main(["import", "--mapping", str(team / "mapping.yaml"), "--db", str(db)])
    monkeypatch.undo()
    assert _contents(db) == before  # accounts was replaced first, then rolled back


def test_same_import_twice_gives_the_same_warehouse(team: Path, capsys):
    write(team, "subs.csv", "c,s,e,a,i\ncus_1,2025-01-10,,100,month\n"
                            "cus_2,2025-02-01,2025-09-15,1000,year\n")
    write(team, "mapping.yaml", more("""\
          arr_history:
            source: subs.csv
            derive: subscriptions
            account: {column: c, match: stripe_id}
            columns: {start: s, end: e, amount: a, interval: i}
        """))
    db = team / "wh.duckdb"
    assert run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)[0] == 0
    first, first_report = _contents(db), report(team)
    assert run("--mapping", str(team / "mapping.yaml"), "--db", str(db), capsys=capsys)[0] == 0
    assert _contents(db) == first
    assert report(team) == first_report
    assert first_report["tables"]["arr_history"]["as_of"] == "2025-09-14"  # default: last date


# -- the mapping's own errors --------------------------------------------------------------------


@pytest.mark.parametrize(("yaml_text", "words"), [
    ("tables:\n  acounts: {source: a.csv, account: id}\n",
     "tables.acounts: not a table of the data contract"),
    (BASE_MAPPING.replace("      name: Company\n", "      nme: Company\n"),
     "tables.accounts.columns.nme: not a column of accounts"),
    (BASE_MAPPING.replace("      name: Company\n", ""),
     "tables.accounts.columns.name: accounts needs it"),
    (BASE_MAPPING.replace("start_date: Since", "start_date: {from: Since, format: dd/mm}"),
     "tables.accounts.columns.start_date.format: 'dd/mm' is not a strftime pattern"),
    (BASE_MAPPING + "  nps_responses:\n    source: n.csv\n    account: {column: x, match: hs}\n"
     "    columns: {responded_at: a, score: b}\n",
     "tables.nps_responses.account.match: 'hs' is not a column the accounts import keeps"),
    (BASE_MAPPING + "  arr_history:\n    source: s.csv\n    derive: payments\n    account: a\n",
     "tables.arr_history.derive: 'payments': choose from subscriptions, invoices"),
    (BASE_MAPPING.replace("    account: id\n", "    acount: id\n"),
     "tables.accounts.acount: unknown key"),
    ("tables: [\n", "malformed YAML"),
])
def test_mapping_errors_name_the_key(team: Path, capsys, yaml_text: str, words: str):
    write(team, "mapping.yaml", yaml_text)
    code, _, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(team / "w.duckdb"),
                       capsys=capsys)
    assert code == 2
    assert str(team / "mapping.yaml") in err and words in err, err
    assert not (team / "w.duckdb").exists()


def test_a_missing_source_column_or_file_is_an_error_naming_it(team: Path, capsys):
    write(team, "mapping.yaml", BASE_MAPPING.replace("name: Company", "name: Company Name"))
    code, _, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(team / "w.duckdb"),
                       capsys=capsys)
    assert code == 2 and "no column 'Company Name' in accounts.csv" in err
    write(team, "mapping.yaml", BASE_MAPPING.replace("source: accounts.csv",
                                                     "source: crm/*.csv"))
    code, _, err = run("--mapping", str(team / "mapping.yaml"), "--db", str(team / "w.duckdb"),
                       capsys=capsys)
    assert code == 2 and "tables.accounts.source: 'crm/*.csv' matches no file" in err
