"""Confidentiality, proved with canaries: a document holds only its own account's data, a
customer document nothing internal, and text from the data is escaped, never markup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from support import QuarterLayout, pdf_pages, squash, valuereview_each

pytestmark = pytest.mark.slow

TARGET = "ACC-0001"
EVIL_NAME = "<script>alert(1)</script> & Co"
EVIL_GOAL = "<img src=x onerror=alert(2)> goal"
INTERNAL_CANARY = "InternalSecret-note-7f3a"


@pytest.fixture(scope="module")
def planted(demo_db, tmp_path_factory):
    """A copy of the demo warehouse with a canary in every text column of every other
    account's rows, an internal-only canary and hostile text in the target's own rows."""
    db = tmp_path_factory.mktemp("canary") / "w.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db))
    text_cols = {
        "accounts": ["name", "industry", "region", "csm"],
        "value_drivers": ["name", "unit"],
        "nps_responses": ["comment"],
        "success_plan": ["goal", "owner", "internal_note"],
        "usage": ["feature"],
    }
    for table, cols in text_cols.items():
        # Keep each value distinct (usage.feature is part of a key): append the original.
        sets = ", ".join(f"\"{c}\" = 'CANARY-{table}-{c}-' || account_id || '-' || "
                         f"coalesce(\"{c}\", '')" for c in cols)
        con.execute(f"UPDATE \"{table}\" SET {sets} WHERE account_id <> ?", [TARGET])
    con.execute("UPDATE accounts SET name = ? WHERE account_id = ?", [EVIL_NAME, TARGET])
    con.execute("UPDATE success_plan SET internal_note = ? WHERE account_id = ?",
                [INTERNAL_CANARY, TARGET])
    con.execute("UPDATE success_plan SET goal = ? WHERE account_id = ? AND quarter = '2026Q3'",
                [EVIL_GOAL, TARGET])
    others = [r[0] for r in con.execute("SELECT account_id FROM accounts WHERE account_id <> ?",
                                        [TARGET]).fetchall()]
    con.close()
    out = tmp_path_factory.mktemp("canary-out")
    audiences = ("customer", "internal")
    runs = valuereview_each(*(["render", "--db", str(db), "--out", str(out / audience),
                               "--accounts", TARGET, "--audience", audience, "--no-portfolio"]
                              for audience in audiences))
    docs = {}
    for audience, run in zip(audiences, runs, strict=True):
        assert run.code == 0, run.stderr
        layout = QuarterLayout(out / audience, "2026Q3")

        def f(name: str, audience: str = audience, layout: QuarterLayout = layout) -> Path:
            return layout.path(audience, TARGET, name)

        docs[audience] = {
            "html": f("value-review.html").read_text(encoding="utf-8"),
            "pdf": squash(" ".join(pdf_pages(f("value-review.pdf")))),
            "ipynb": f("value-review.ipynb").read_text(encoding="utf-8"),
            "metrics": f("metrics.json").read_text(encoding="utf-8"),
        }
    return docs, others


@pytest.mark.parametrize("audience", ["customer", "internal"])
def test_no_other_accounts_data_in_any_output(planted, audience):
    docs, others = planted
    for kind, blob in docs[audience].items():
        assert "CANARY-" not in blob, f"{audience} {kind} holds another account's data"
        leaked = [o for o in others if o in blob]
        assert not leaked, f"{audience} {kind} names other accounts: {leaked[:5]}"


def test_customer_documents_hold_no_internal_note(planted):
    docs, _ = planted
    for kind, blob in docs["customer"].items():
        assert INTERNAL_CANARY not in blob, f"customer {kind} holds the internal note"
    assert INTERNAL_CANARY in docs["internal"]["html"]
    assert INTERNAL_CANARY in docs["internal"]["pdf"]


@pytest.mark.parametrize("audience", ["customer", "internal"])
def test_hostile_text_is_escaped_in_html_and_literal_in_pdf(planted, audience):
    docs, _ = planted
    html = docs[audience]["html"]
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "&lt;img src=x onerror=alert(2)&gt; goal" in html
    assert EVIL_NAME in docs[audience]["pdf"]
    metrics = json.loads(docs[audience]["metrics"])
    assert metrics["name"] == EVIL_NAME
