"""End to end on partial data: `valuereview render` on a billing-only warehouse, on one that
lacks some tables, and on a portfolio of 40 cohorts and 200 segments and CSMs."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import PORTFOLIO_ID, QuarterLayout, pdf_pages, squash, valuereview

from valuelib import metrics
from valuelib.data import demo
from valuelib.data.warehouse import Warehouse

pytestmark = pytest.mark.slow


def text_of(path: Path) -> str:
    """The words of an HTML document (no tags, styles or scripts), whitespace folded."""
    doc = path.read_text(encoding="utf-8")
    doc = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", doc)
    return squash(html.unescape(re.sub(r"<[^>]+>", " ", doc)))


@dataclass
class Render:
    db: Path
    out: Path
    code: int
    stdout: str
    stderr: str
    ids: list[str]

    def path(self, audience: str, account_id: str, name: str, quarter: str = "2026Q3") -> Path:
        return QuarterLayout(self.out, quarter).path(audience, account_id, name)

    def metrics(self, account_id: str, audience: str = "customer") -> dict:
        return json.loads(self.path(audience, account_id, "metrics.json").read_text())


def _render(tmp: Path, tables: dict, *args: str) -> Render:
    db = tmp / "warehouse.duckdb"
    if not db.exists():
        with Warehouse.open(str(db), read_only=False) as wh:
            demo.write(wh, tables)
    out = tmp / "out"
    run = valuereview("render", "--db", str(db), "--out", str(out), *args)
    return Render(db, out, run.code, run.stdout, run.stderr, args[-1].split(","))


@pytest.fixture(scope="module")
def billing(tmp_path_factory) -> Render:
    """A billing-only warehouse (ARR through September 2026), no --quarter given."""
    tables = demo.billing_only(160, months=72, segments=4, csms=9)
    acc = tables["accounts"]
    staying = list(acc.loc[acc["churn_date"].isna(), "account_id"][:2])  # customers today
    return _render(tmp_path_factory.mktemp("billing"), tables, "--accounts", ",".join(staying))


def test_billing_only_renders_both_reviews_for_the_quarter_its_arr_completes(billing):
    assert billing.code == 0, billing.stdout + billing.stderr
    assert [p.name for p in billing.out.iterdir()] == ["2026Q3"]
    for aid in billing.ids:
        for name in ("value-review.html", "value-review.pdf"):
            assert billing.path("customer", aid, name).is_file()
    for name in ("portfolio-review.html", "portfolio-review.pdf"):
        assert billing.path("customer", PORTFOLIO_ID, name).is_file()
    index = text_of(QuarterLayout(billing.out, "2026Q3").index("customer"))
    figures = billing.metrics(billing.ids[0])["figures"]
    assert "ARR" in index and "Customer for" in index
    assert squash(figures["arr"]["display"]) in index
    assert squash(figures["tenure"]["display"]) in index


def test_billing_only_value_review_is_short_and_shows_commercials(billing):
    aid = billing.ids[0]
    m = billing.metrics(aid)
    assert set(m["figures"]) == {"arr", "tenure"}
    assert m["as_of"] == "2026-09-30" and m["quarter"] == "2026Q3"
    text = text_of(billing.path("customer", aid, "value-review.html"))
    pages = pdf_pages(billing.path("customer", aid, "value-review.pdf"))
    pdf = squash(" ".join(pages))
    for fig in m["figures"].values():
        assert fig["value"] is not None
        assert squash(fig["display"]) in text and squash(fig["display"]) in pdf
    for shown in ("Executive summary", "Commercials", "Annual recurring revenue", "Renewal date",
                  "Customer for", "Methodology", "ARR change", "Data not provided",
                  "product usage (usage)", "success plan (success_plan)"):
        assert shown in text, shown
    for left_out in ("Value realized vs business case", "Adoption", "Voice of the customer",
                     "Success plan", "Seat utilisation", "NPS by quarter"):
        assert left_out not in text, left_out
        assert left_out not in pdf, left_out
    # Only the methodology's explanation of the words, never a figure or a note.
    assert text.count("not enough data") == pdf.count("not enough data") == 1
    assert "the review says “not enough data” rather than estimate it" in text
    assert len(pages) <= 4


def test_billing_only_portfolio_shows_retention_cohorts_projection_renewals(billing):
    with Warehouse.open(str(billing.db)) as wh:
        arr = wh.read_table("arr_history")
    quarter = metrics.retention_figures(metrics.arr_movements(arr, dt.date(2026, 7, 1),
                                                              dt.date(2026, 9, 1)))
    ttm = metrics.retention_figures(metrics.arr_movements(arr, dt.date(2025, 10, 1),
                                                          dt.date(2026, 9, 1)))
    text = text_of(billing.path("customer", PORTFOLIO_ID, "portfolio-review.html"))
    pdf = squash(" ".join(pdf_pages(billing.path("customer", PORTFOLIO_ID,
                                                 "portfolio-review.pdf"))))
    for figs in (quarter, ttm):
        for key in ("grr", "nrr", "crr"):
            assert f"{figs[key]:.1f}%" in text and f"{figs[key]:.1f}%" in pdf, key
    for shown in ("Retention", "By segment", "By CSM", "Cohort retention",
                  "Logo retention by start year", "Projected retention and LTV",
                  "Renewals in the next two quarters", "ARR renewing in 2 quarters",
                  "Data not provided"):
        assert shown in text, shown
    for left_out in ("Accounts, worst health first", "Value delivered", "Renewing ARR at risk",
                     "Renewing ARR by health band", "Health score", "ROC AUC"):
        assert left_out not in text, left_out


def test_billing_only_internal_review_has_no_health_section_content(billing, tmp_path):
    aid = billing.ids[0]
    run = valuereview("render", "--db", str(billing.db), "--out", str(tmp_path), "--accounts",
                      aid, "--audience", "internal", "--no-portfolio", "--formats", "html")
    assert run.code == 0, run.stdout + run.stderr
    text = text_of(QuarterLayout(tmp_path, "2026Q3").path("internal", aid, "value-review.html"))
    assert "Internal document: do not send to the customer." in text
    for left_out in ("Health score", "Health score components", "Missing component",
                     "Adoption"):
        assert left_out not in text, left_out
    assert text.count("not enough data") == 1  # the methodology's explanation


@pytest.fixture(scope="module")
def partial(tmp_path_factory) -> Render:
    """The demo without usage (absent) and with an empty nps_responses (HTML: what the tests
    read)."""
    tables = demo.generate(accounts=12, seed=5)
    del tables["usage"]
    tables["nps_responses"] = tables["nps_responses"].iloc[0:0]
    return _render(tmp_path_factory.mktemp("partial"), tables, "--locale", "en-US",
                   "--formats", "html", "--accounts", "ACC-0001")


def test_parts_whose_table_is_absent_or_empty_are_left_out(partial):
    assert partial.code == 0, partial.stdout + partial.stderr
    assert set(partial.metrics("ACC-0001")["figures"]) == {
        "value_quarter", "value_to_date", "roi_multiple", "realized_vs_business_case"}
    text = text_of(partial.path("customer", "ACC-0001", "value-review.html"))
    for shown in ("Value realized vs business case", "Voice of the customer",
                  "Support by quarter", "Commercials", "Success plan",
                  "product usage (usage) and NPS answers (nps_responses): the parts of this "
                  "review that need them are left out."):
        assert shown in text, shown
    for left_out in ("Adoption", "Seat utilisation", "NPS by quarter", "No NPS answers yet",
                     "Peer percentile"):
        assert left_out not in text, left_out
    port = text_of(partial.path("customer", PORTFOLIO_ID, "portfolio-review.html"))
    assert "Accounts, worst health first" in port and "Value delivered" in port
    assert ("product usage (usage) and NPS answers (nps_responses): the parts of this review "
            "that need them are left out.") in port


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Render:
    """40 start-quarter cohorts (ten years of monthly ARR), 200 segments and 200 CSMs."""
    tables = demo.billing_only(2400, months=120, segments=200, csms=200)
    acc = tables["accounts"]
    first = acc.loc[acc["churn_date"].isna(), "account_id"].iloc[0]
    return _render(tmp_path_factory.mktemp("wide"), tables, "--accounts", first)


def test_a_portfolio_of_forty_cohorts_and_two_hundred_csms_renders(wide):
    assert wide.code == 0, wide.stdout + wide.stderr
    pages = pdf_pages(wide.path("customer", PORTFOLIO_ID, "portfolio-review.pdf"))
    assert 5 <= len(pages) <= 14
    cohort_page = next(squash(p) for p in pages if "Logo retention by start year" in p)
    for year in range(2016, 2027):
        assert str(year) in cohort_page
    text = text_of(wide.path("customer", PORTFOLIO_ID, "portfolio-review.html"))
    others = [int(n) for n in re.findall(r"\b(\d+) others\b", text)]
    assert len(others) >= 4 and max(others) >= 150  # segments, CSMs, projections, chart
    assert re.search(r"\d[\d,]* more accounts", text)
