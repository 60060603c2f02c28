"""End to end: `valuereview render` on the demo warehouse, checked in the documents themselves."""

from __future__ import annotations

import html
import json
import re
import shutil

import duckdb
import pytest
from support import (
    E2E_ACCOUNTS,
    E2E_INTERNAL,
    PORTFOLIO_ID,
    pdf_pages,
    pdf_words_outside,
    read_html,
    squash,
    valuereview,
    visible_text,
)

pytestmark = pytest.mark.slow


def _outputs_text(path) -> str:
    """Everything the executed notebook's cells output (its code is the template's, not data)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)


def test_every_account_gets_all_its_files(rendered):
    for aid in E2E_ACCOUNTS:
        for name in ("value-review.html", "value-review.pdf", "value-review.ipynb",
                     "metrics.json"):
            path = rendered.file(aid, name)
            assert path.stat().st_size > 1000 or name == "metrics.json", (aid, name)
    lay = rendered.layout
    internal = [lay.index("customer"), lay.manifest("customer"), lay.manifest(PORTFOLIO_ID),
                *(lay.path("customer", PORTFOLIO_ID, f"portfolio-review.{f}") for f in
                  ("html", "pdf", "ipynb"))]
    for path in internal:
        assert path.is_file() and path.parent == lay.internal_dir, path
    q = rendered.quarter_dir
    assert not list(q.rglob("*.tmp")), "no temporary files are left behind"


def test_manifest_records_status_hashes_and_timings(rendered):
    m = rendered.manifest()
    assert m["quarter"] == rendered.quarter_dir.name == "2026Q3"
    assert m["last_run"]["summary"]["rendered"] == len(E2E_ACCOUNTS) + 1
    assert m["last_run"]["summary"]["failed"] == 0
    for aid in E2E_ACCOUNTS:
        e = m["accounts"][aid]
        assert e["status"] == "rendered"
        assert len(e["cache_key"]) == 64 and len(e["bundle_sha256"]) == 64
        assert set(e["outputs"]) >= {"value-review.html", "value-review.pdf", "metrics.json"}
        assert e["timings"]["execute"] > 0 and e["timings"]["pdf"] > 0


@pytest.mark.parametrize("account_id", E2E_ACCOUNTS)
def test_headline_figures_appear_formatted_in_html_and_pdf(rendered, account_id):
    metrics = rendered.metrics(account_id)
    text = visible_text(read_html(rendered, account_id))
    pdf = squash(" ".join(pdf_pages(rendered.file(account_id, "value-review.pdf"))))
    shown = 0
    for key, fig in metrics["figures"].items():
        display = squash(fig["display"])
        assert display in text, f"{account_id} {key}: {display!r} not in the HTML"
        assert display in pdf, f"{account_id} {key}: {display!r} not in the PDF text"
        shown += fig["value"] is not None
    assert metrics["account_id"] == account_id and metrics["quarter"] == "2026Q3"
    if account_id == "ACC-0001":
        assert shown >= 5, "an ordinary account has real figures, not just 'not enough data'"


def test_pdf_has_a_cover_and_numbered_pages(rendered):
    pages = pdf_pages(rendered.file("ACC-0001", "value-review.pdf"))
    assert len(pages) >= 4
    cover = squash(pages[0])
    assert "Quarterly value review" in cover
    assert "Page 1" not in cover, "the cover carries no page number"
    name = rendered.metrics("ACC-0001")["name"]
    assert name in cover
    n = len(pages)
    for i, page in enumerate(pages[1:], start=2):
        assert f"Page {i} of {n}" in squash(page), f"page {i} is numbered"
        assert f"{name} · 2026 Q3" in squash(page), f"page {i} has the running header"


def test_html_is_self_contained_and_holds_no_code(rendered):
    for aid in E2E_ACCOUNTS:
        doc = read_html(rendered, aid)
        assert "<script" not in doc.lower()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", doc, re.I)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", doc, re.I)
        assert "<link" not in doc.lower()
        text = visible_text(doc)
        for code in ("import valuelib", "display(", "blocks.", "In [", "Out["):
            assert code not in text, f"{aid}: code {code!r} leaked into the document"
        assert "data:image/svg+xml" in doc or "<svg" in doc, "charts are inline"


@pytest.mark.parametrize("account_id", E2E_ACCOUNTS)
def test_no_nan_none_or_traceback_in_any_document(rendered, account_id):
    text = visible_text(read_html(rendered, account_id))
    pdf = squash(" ".join(pdf_pages(rendered.file(account_id, "value-review.pdf"))))
    for bad in (r"\bnan\b", r"\bNaN\b", r"\bNone\b", r"\binf\b", "Traceback", r"\bNaT\b"):
        assert not re.search(bad, text), f"{account_id}: {bad} in the HTML"
        assert not re.search(bad, pdf), f"{account_id}: {bad} in the PDF"


def _tr(rendered, account_id: str):
    """The translator of the account's document (its locale, recorded in metrics.json)."""
    from valuelib.report import i18n

    return i18n.translator(rendered.metrics(account_id)["locale"])


def test_hard_cases_say_not_enough_data(rendered):
    # ACC-0004 has no NPS answers; ACC-0008 is one month old; ACC-0006 has an unmeasured driver.
    # ACC-0004 is Armenian and ACC-0008 Chichewa: they say it in their own language.
    for aid in ("ACC-0004", "ACC-0008", "ACC-0006"):
        text = visible_text(read_html(rendered, aid))
        assert _tr(rendered, aid).gettext("not enough data") in text, aid
    assert rendered.metrics("ACC-0004")["figures"]["nps"]["display"] == "բավարար տվյալներ չկան"
    assert rendered.metrics("ACC-0008")["figures"]["roi_multiple"]["value"] is None
    churned = visible_text(read_html(rendered, "ACC-0002"))
    assert "The subscription ended on" in churned


def test_executive_summary_is_generated_from_the_figures(rendered):
    m = rendered.metrics("ACC-0001")
    text = visible_text(read_html(rendered, "ACC-0001"))
    value_q = m["figures"]["value_quarter"]["display"]
    assert f"realized {value_q} of value" in text
    summaries = set()
    for aid in ("ACC-0001", "ACC-0006", "ACC-0010"):  # ACC-0010 is Georgian
        t = visible_text(read_html(rendered, aid))
        start = t.index(_tr(rendered, aid).gettext("Executive summary"))
        summaries.add(t[start:start + 400])
    assert len(summaries) == 3, "each account's summary is its own"


def test_customer_documents_hold_nothing_internal(rendered, rendered_internal):
    con = duckdb.connect(str(rendered.db), read_only=True)
    for aid in E2E_ACCOUNTS:
        notes = [r[0] for r in con.execute(
            "SELECT internal_note FROM success_plan WHERE account_id = ? AND internal_note "
            "IS NOT NULL", [aid]).fetchall()]
        blobs = {
            "html": visible_text(rendered.file(aid, "value-review.html").read_text("utf-8")),
            "pdf": squash(" ".join(pdf_pages(rendered.file(aid, "value-review.pdf")))),
            "ipynb outputs": _outputs_text(rendered.file(aid, "value-review.ipynb")),
            "metrics": rendered.file(aid, "metrics.json").read_text(encoding="utf-8"),
        }
        tr = _tr(rendered, aid)  # the markers in the account's language as well as English
        translated = tuple(tr.gettext(m) for m in ("Health score", "INTERNAL — do not send",
                                                   "Contract value at risk", "Internal note"))
        for kind, blob in blobs.items():
            for marker in ("Health score", "INTERNAL", "Contract value at risk", "health_score",
                           "Internal note", "value_at_risk", *translated):
                assert marker not in blob, f"{aid} {kind}: internal marker {marker!r}"
            for note in notes:
                assert note not in blob and html.escape(note) not in blob, \
                    f"{aid} {kind}: internal note {note!r}"
    # ... while the internal version of the same account does carry them.
    internal = visible_text(read_html(rendered_internal, E2E_INTERNAL[0]))
    assert "Health score" in internal and "INTERNAL" in internal
    m = rendered_internal.metrics(E2E_INTERNAL[0])
    assert m["internal"]["health_score"] is not None


def test_index_lists_every_account_with_links_and_figures(rendered):
    doc = rendered.index.read_text(encoding="utf-8")
    for aid in E2E_ACCOUNTS:
        # The index sits in internal/; the documents it links to in customer/<id>/.
        assert f'href="../customer/{aid}/value-review.html"' in doc
        assert f'href="../customer/{aid}/value-review.pdf"' in doc
        assert (rendered.index.parent / f"../customer/{aid}/value-review.pdf").is_file()
        figure = rendered.metrics(aid)["figures"]["value_quarter"]["display"]
        assert html.escape(figure) in doc or figure in doc
    assert 'href="portfolio-review.html"' in doc


def test_portfolio_review_shows_retention_computed_by_metrics(rendered):
    from valuelib import metrics

    con = duckdb.connect(str(rendered.db), read_only=True)
    hist = con.execute("SELECT h.account_id, h.month, h.arr * CASE a.currency "
                       "WHEN 'USD' THEN 1 WHEN 'GBP' THEN 1.27 WHEN 'EUR' THEN 1.08 "
                       "WHEN 'GEL' THEN 0.37 WHEN 'AMD' THEN 0.0026 WHEN 'NGN' THEN 0.00065 "
                       "WHEN 'MWK' THEN 0.00058 END AS arr FROM arr_history h "
                       "JOIN accounts a USING (account_id)").df()
    import datetime as dt

    mv = metrics.arr_movements(hist, dt.date(2026, 7, 1), dt.date(2026, 9, 1))
    figs = metrics.retention_figures(mv)
    doc = visible_text(rendered.file(PORTFOLIO_ID, "portfolio-review.html").read_text("utf-8"))
    for key in ("grr", "nrr", "crr"):
        assert f"{figs[key]:.1f}%" in doc, f"portfolio {key} {figs[key]:.1f}% shown"
    pages = pdf_pages(rendered.file(PORTFOLIO_ID, "portfolio-review.pdf"))
    assert len(pages) >= 5 and "Portfolio review" in pages[0]


def test_no_change_rerun_renders_nothing(rendered):
    run = valuereview("render", "--db", str(rendered.db), "--out", str(rendered.out),
                      "--accounts", ",".join(E2E_ACCOUNTS))
    assert run.code == 0, run.stderr
    m = rendered.manifest()
    assert m["last_run"]["summary"] == {"rendered": 0, "unchanged": len(E2E_ACCOUNTS) + 1,
                                        "failed": 0}
    assert "unchanged (skipped)" in run.stdout


def test_executed_notebook_keeps_papermill_parameters(rendered):
    nb = json.loads(rendered.file("ACC-0001", "value-review.ipynb").read_text())
    tags = [c.get("metadata", {}).get("tags", []) for c in nb["cells"]]
    assert ["parameters"] in tags and ["injected-parameters"] in tags
    injected = "".join(nb["cells"][tags.index(["injected-parameters"])]["source"])
    assert "account_id = 'ACC-0001'" in injected and "quarter = '2026Q3'" in injected


def test_account_figures_equal_the_metrics_on_the_warehouse_rows(rendered):
    """NPS, CSAT and ROI in the document equal valuelib.metrics run on the raw rows."""
    from valuelib import metrics

    con = duckdb.connect(str(rendered.db), read_only=True)
    aid = "ACC-0001"
    m = rendered.metrics(aid)
    text = visible_text(read_html(rendered, aid))
    scores = [r[0] for r in con.execute(
        "SELECT score FROM nps_responses WHERE account_id = ? AND responded_at BETWEEN "
        "DATE '2026-07-01' AND DATE '2026-09-30'", [aid]).fetchall()]
    if scores:
        assert m["figures"]["nps"]["value"] == pytest.approx(metrics.nps(scores))
        assert f"NPS {m['figures']['nps']['display']}" in text
    ratings = [r[0] for r in con.execute(
        "SELECT csat FROM support_tickets WHERE account_id = ? AND csat IS NOT NULL AND "
        "opened_at >= TIMESTAMP '2026-07-01' AND opened_at < TIMESTAMP '2026-10-01'",
        [aid]).fetchall()]
    if ratings:
        assert f"CSAT {metrics.csat(ratings):.0f}%" in text
    cost = con.execute("SELECT SUM(arr) / 12 FROM arr_history WHERE account_id = ? AND "
                       "month <= DATE '2026-09-01'", [aid]).fetchone()[0]
    value_to_date = m["figures"]["value_to_date"]["value"]
    assert m["figures"]["roi_multiple"]["value"] == pytest.approx(
        metrics.roi_multiple(value_to_date, cost))
    assert f"ROI to date {metrics.roi(value_to_date, cost):.1f}%" in text


def test_a_section_heading_shares_its_page_with_the_first_row_of_its_table(rendered):
    """A long table starts under its heading; it does not move whole to the next page and leave
    the heading alone at the foot of a page (the portfolio's accounts by health)."""
    heading = "Accounts, worst health first"
    doc = rendered.file(PORTFOLIO_ID, "portfolio-review.html").read_text("utf-8")
    after = doc[doc.index('id="health"'):]
    first_row = re.search(r"<tbody><tr>(.*?)</tr>", after, re.S).group(1)
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td.*?</td>",
                                                                         first_row, re.S)]
    arr, score = cells[3], cells[4]
    pages = pdf_pages(rendered.file(PORTFOLIO_ID, "portfolio-review.pdf"))
    # A page's first line is its running header, which names the section on every page.
    at = [i for i, page in enumerate(pages)
          if any(line.strip() == heading for line in page.splitlines()[1:])]
    assert at, f"{heading!r} is a heading in the PDF"
    body = "\n".join(pages[at[0]].splitlines()[1:])
    assert arr in body and score in body, (
        f"page {at[0] + 1} holds {heading!r} but not its table's first row ({arr}, {score})")


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler's pdftotext")
def test_no_text_runs_into_a_page_margin(rendered):
    """Every table fits the page: a numeric column's header wraps rather than pushing the
    table past the right margin (the Hausa and Chichewa support and value tables did)."""
    margin_pt = 18 / 25.4 * 72  # @page's left and right margin, 18mm
    for account_id in [*E2E_ACCOUNTS, PORTFOLIO_ID]:
        name = "portfolio-review.pdf" if account_id == PORTFOLIO_ID else "value-review.pdf"
        outside = pdf_words_outside(rendered.file(account_id, name), margin_pt)
        assert not outside, f"{account_id}: text in the margin (page, word): {outside[:5]}"
