"""valuelib.render.export and index_page: HTML, PDF, the nbconvert plug-ins, the index."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from nbconvert.exporters import get_exporter  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from valuelib.batch.index_page import render_index  # noqa: E402
from valuelib.render import export  # noqa: E402
from valuelib.report import blocks, fonts  # noqa: E402

NASTY = "<script>alert(1)</script> & Co"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"
ACCOUNT = "Nordwind Logistik"
RUNNING = f"{ACCOUNT} · 2026 Q3 value review"


def _png() -> str:
    """A tiny PNG, for the image/png output path."""
    buf = io.BytesIO()
    plt.imsave(buf, np.full((2, 2, 3), 0.5), format="png")
    return base64.b64encode(buf.getvalue()).decode()


PNG = _png()

REMOTE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)\s*(?:https?:)?//""", re.I)


def show(*items: blocks.Block | str, source: str = "display(block)") -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.outputs = [
        new_output("display_data", data={"text/html": str(b), "text/plain": repr(b)}) for b in items
    ]
    return cell


def review_notebook(audience: str = "customer") -> nbformat.NotebookNode:
    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.bar(["Q1", "Q2", "Q3"], [210, 290, 413], color="#0f5e6b")
    ax.set_title("CHART_TITLE value per quarter")
    cells = [
        new_code_cell("account_id = 'A-1'", metadata={"tags": ["parameters"]}),
        show(
            blocks.cover(
                title="Quarterly value review",
                account_name=ACCOUNT,
                quarter_label="2026 Q3",
                prepared_for=NASTY,
                prepared_by="Sam Okafor",
                as_of="30 September 2026",
                audience=audience,
                running_title=RUNNING,
            )
        ),
        show(
            blocks.heading("Executive summary"),
            blocks.kpis(
                [
                    {
                        "label": "Value delivered",
                        "value": "€412,800",
                        "change": "+18.2%",
                        "tone": "up_good",
                    }
                ]
            ),
            blocks.paragraph(f"Champion: {NASTY}. Georgian: გამარჯობა; Armenian: Բարեւ."),
        ),
        new_markdown_cell("## Methodology notes\n\nComputed by **valuelib**."),
        show(
            blocks.heading("Value realized", new_page=True),
            blocks.figure(fig, caption="Value per quarter"),
            blocks.table(pd.DataFrame({"Driver": [NASTY], "Value": ["€221,400"]})),
        ),
    ]
    leaky = new_code_cell("SECRET_CODE = 1\nimport warnings")
    leaky.outputs = [
        new_output("stream", name="stderr", text="SECRET_WARNING: something is deprecated\n"),
        new_output("stream", name="stdout", text="SECRET_PRINT\n"),
        new_output("execute_result", data={"text/plain": "<Axes: SECRET_REPR>"}, execution_count=4),
        new_output("error", ename="ValueError", evalue="SECRET_ERROR", traceback=["SECRET_TB"]),
        new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": "x",
                    "version_major": 2,
                    "version_minor": 0,
                },
                "text/plain": "SECRET_WIDGET",
            },
        ),
        new_output(
            "display_data",
            data={"application/javascript": "alert(1)", "text/plain": "SECRET_JS"},
        ),
        new_output(
            "display_data",
            data={
                "text/html": "<div>SECRET_SCRIPTED</div><script>x()</script>",
                "image/png": PNG,
                "text/plain": "fallback",
            },
        ),
        new_output("display_data", data={"text/plain": "PLAIN_DISPLAY <ok>"}),
        new_output("display_data", data={"text/markdown": "*MARKDOWN_OUTPUT*"}),
    ]
    cells.append(leaky)
    scratch = show(blocks.paragraph("SECRET_TAGGED"))
    scratch.metadata["tags"] = ["remove_cell"]
    cells.append(scratch)
    if audience == "internal":
        cells.append(show(blocks.note("Champion leaving in December.", "internal")))
    cells.append(show(blocks.heading("Success plan"), blocks.paragraph("END_OF_REVIEW")))
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )


@pytest.fixture(scope="module")
def exporters() -> export.Exporters:
    return export.Exporters()


@pytest.fixture(scope="module")
def html(exporters: export.Exporters) -> str:
    return exporters.html(review_notebook(), title=RUNNING, audience="customer")


@pytest.fixture(scope="module")
def internal_pdf(exporters: export.Exporters) -> PdfReader:
    html = exporters.html(review_notebook("internal"), title=RUNNING, audience="internal")
    return PdfReader(io.BytesIO(exporters.pdf(html)))


def test_html_is_a_lean_self_contained_document(html: str):
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta charset="utf-8">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert f"<title>{RUNNING}</title>" in html
    assert "--vr-brand: #0f5e6b" in html  # our CSS, inlined
    assert '<style id="vr-print-css" media="print">' in html and "@page" in html
    assert "<script" not in html.lower()
    assert "<link" not in html and not REMOTE.search(html)
    assert "jp-" not in html and "require.js" not in html and "mathjax" not in html.lower()
    assert len(html) < 60_000  # no JupyterLab theme


def test_html_shows_only_what_a_reader_should_see(html: str):
    for secret in (
        "SECRET_CODE",
        "SECRET_WARNING",
        "SECRET_PRINT",
        "SECRET_REPR",
        "SECRET_ERROR",
        "SECRET_TB",
        "SECRET_WIDGET",
        "SECRET_JS",
        "SECRET_SCRIPTED",
        "SECRET_TAGGED",
        "account_id = ",
        "In [",
        "Out[",
    ):
        assert secret not in html, secret
    assert '<p class="vr-running-title">' in html and ESCAPED in html and NASTY not in html
    assert '<dl class="vr-kpis vr-kpis--' in html and "€412,800" in html
    assert "<svg" in html and "CHART_TITLE" in html
    assert '<div class="vr-markdown"><h2>Methodology notes</h2>' in html  # markdown cell
    assert "¶" not in html
    assert f'<img src="data:image/png;base64,{PNG}"' in html  # scripted html → png
    assert '<pre class="vr-plain">PLAIN_DISPLAY &lt;ok&gt;</pre>' in html
    assert '<pre class="vr-plain">*MARKDOWN_OUTPUT*</pre>' in html  # output: text
    assert "END_OF_REVIEW" in html


def test_customer_review_refuses_internal_content(exporters: export.Exporters):
    with pytest.raises(export.InternalContentError, match="internal-only content"):
        exporters.html(review_notebook("internal"), audience="customer")


def test_title_falls_back_to_notebook_name():
    exporter = export.ReviewHTMLExporter()
    out, resources = exporter.from_notebook_node(
        review_notebook(), resources={"metadata": {"name": "value-review"}}
    )
    assert "<title>value-review</title>" in out and resources["output_extension"] == ".html"
    assert export.export_html(review_notebook(), title="T").count("<title>T</title>") == 1


def test_pdf_cover_running_header_and_page_numbers(internal_pdf: PdfReader):
    pages = [page.extract_text() for page in internal_pdf.pages]
    n = len(pages)
    assert n >= 3  # cover, summary, "Value realized" starts a new page
    assert ACCOUNT in pages[0] and "QUARTERLY VALUE REVIEW" in pages[0]
    assert "Page 1" not in pages[0] and "Page" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {n}" in text
        assert RUNNING in text
        assert "INTERNAL — do not send" in text  # internal mark on every page
    assert "Executive summary" in pages[1]
    assert "Value realized" in pages[2] and "CHART_TITLE" in pages[2]  # SVG text is text
    assert "Champion leaving in December." in "".join(pages)
    assert internal_pdf.metadata.title == RUNNING


def test_pdf_fonts_are_embedded(internal_pdf: PdfReader):
    def fonts(resources):
        for font in (resources.get("/Font") or {}).values():
            yield font.get_object()
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if "/Resources" in xobject:
                yield from fonts(xobject["/Resources"].get_object())

    seen = {}
    for page in internal_pdf.pages:
        for font in fonts(page["/Resources"].get_object()):
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            seen[font["/BaseFont"]] = "/FontFile2" in descriptor or "/FontFile3" in descriptor
    assert seen and all(seen.values()), seen
    assert any("DejaVu-Sans" in name for name in seen)


def test_customer_pdf_has_no_internal_mark(exporters: export.Exporters, html: str):
    reader = PdfReader(io.BytesIO(exporters.pdf(html)))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "INTERNAL" not in text and "Page 2 of" in text


def test_nbconvert_plugins(tmp_path: Path):
    assert get_exporter("valuereview_html") is export.ReviewHTMLExporter
    exporter = get_exporter("valuereview_pdf")()
    pdf, resources = exporter.from_notebook_node(review_notebook())
    assert pdf.startswith(b"%PDF-") and resources["output_extension"] == ".pdf"
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2

    nb_path = tmp_path / "review.ipynb"
    nbformat.write(review_notebook(), nb_path)
    jupyter = Path(sys.executable).with_name("jupyter")
    command = (
        [str(jupyter), "nbconvert"] if jupyter.exists() else [sys.executable, "-m", "nbconvert"]
    )
    subprocess.run(
        [*command, "--to", "valuereview_pdf", str(nb_path)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    cli_pdf = PdfReader(tmp_path / "review.pdf")
    assert len(cli_pdf.pages) >= 3 and "Page 2 of" in cli_pdf.pages[1].extract_text()


def test_pdf_never_fetches_remote_resources(exporters: export.Exporters):
    page = (
        "<!DOCTYPE html><html><head><title>x</title></head><body><p>offline</p>"
        '<img src="http://192.0.2.1/logo.png" alt="logo"></body></html>'
    )
    # Refused before any connection (not a timeout), and no document without the image.
    with pytest.raises(export.ResourceRefusedError, match="http://192.0.2.1/logo.png"):
        exporters.pdf(page)


def test_index_page_escapes_and_links():
    page = render_index(
        quarter="2026Q3",
        generated_at="2026-10-02T07:14:09.123+00:00",
        entries=[
            {
                "account_id": "A-1",
                "name": NASTY,
                "segment": "Enterprise",
                "csm": NASTY,
                "status": "rendered",
                "headline": {"Value": "€412,800", "NPS": "41"},
            },
            {
                "account_id": "B_2",
                "name": "Kartuli",
                "segment": "SMB",
                "csm": "Ana",
                "status": "failed",
                "error": "CellExecutionError: cell 14 <boom>\nTraceback ...",
                "headline": {},
            },
            {
                "account_id": "C-3",
                "name": "Ararat",
                "segment": "SMB",
                "csm": "Ana",
                "status": "skipped-unchanged",
                "headline": {"Value": "€12,000", "NPS": "7"},
                "formats": ["html"],
            },
            {
                "account_id": "D-4",
                "name": "Sevan",
                "segment": "SMB",
                "csm": "Ana",
                "status": "rendered",
                "headline": {"Value": "€9,000", "NPS": "not enough data"},
                "headline_values": {"Value": 9000.0, "NPS": None},
                "rendered_at": "2026-10-02T07:14:09+00:00",
            },
        ],
        portfolio={"headline": {"NRR": "108.1%"}},
    )
    assert page.startswith("<!DOCTYPE html>") and "<title>Value reviews 2026Q3</title>" in page
    # Data only ever escaped (in cells, sort keys and filter options); the one script is ours,
    # inline (filtering and sorting), and nothing is loaded from anywhere.
    assert NASTY not in page and page.count(ESCAPED) >= 2
    assert page.count("<script") == 1 and "<script>\n/* The batch index" in page
    assert not REMOTE.search(page) and "<script src" not in page
    assert '<li class="vr-summary--rendered"><strong>2</strong> rendered</li>' in page
    # A figure the review had no number for is muted, like a missing one; the others not.
    assert ('<td class="vr-right" data-sort=""><span class="vr-missing">not enough data</span>'
            in page)
    assert '<td class="vr-right" data-sort="9000.0">€9,000</td>' in page
    assert '<td class="vr-right" data-sort="">€412,800</td>' in page
    assert '<li class="vr-summary--failed"><strong>1</strong> failed</li>' in page
    assert '<li class="vr-summary--unchanged"><strong>1</strong> unchanged</li>' in page
    assert 'href="A-1/value-review.html"' in page and 'href="A-1/value-review.pdf"' in page
    assert 'href="B_2/value-review.error.ipynb"' in page
    assert 'href="B_2/value-review.html"' not in page
    assert "CellExecutionError: cell 14 &lt;boom&gt;" in page and "Traceback" not in page
    assert 'href="C-3/value-review.html"' in page and 'href="C-3/value-review.pdf"' not in page
    assert 'href="portfolio-review.html"' in page and 'href="portfolio-review.pdf"' in page
    assert page.count('<th scope="col" class="vr-right"') == 2  # Value, NPS
    assert "--vr-brand: #0f5e6b" in page
    # The time a row's files were made stays on one line.
    assert 'rendered <span class="vr-nowrap">2026-10-02 07:14 UTC</span>' in page
    assert 'generated <span class="vr-nowrap">2026-10-02 07:14 UTC</span></p>' in page
    with pytest.raises(ValueError, match="status must be one of"):
        render_index(
            quarter="q",
            generated_at="t",
            portfolio=None,
            entries=[{"account_id": "A", "status": "done"}],
        )
    assert "portfolio-review" not in render_index(
        quarter="q", generated_at="t", entries=[], portfolio=None
    )


def test_markdown_output_is_text_never_markup(exporters: export.Exporters):
    """A Markdown output is computed (it may carry warehouse text): no HTML, link or image
    in it becomes markup, while authored Markdown cells still render."""
    hostile = ('Goal: <img src=x onerror=alert(1)> [click](javascript:alert(1)) '
               '![i](file:///etc/passwd) <a rel="attachment" href="file:///etc/passwd">f</a>')
    cell = new_code_cell("display(Markdown(goal))")
    cell.outputs = [new_output("display_data", data={"text/markdown": hostile,
                                                      "text/plain": "<Markdown>"})]
    nb = new_notebook(cells=[new_markdown_cell("Authored **bold**"), cell],
                      metadata={"language_info": {"name": "python"}})
    html = exporters.html(nb, title="T", audience="customer")
    assert "<strong>bold</strong>" in html
    for markup in ("<img", "<a ", 'href="', 'src="'):
        assert markup not in html, markup
    assert ('<pre class="vr-plain">Goal: &lt;img src=x onerror=alert(1)&gt; '
            "[click](javascript:alert(1))") in html


# A Chichewa review's "value realized vs business case" row (Malawi kwacha, no-break space
# after the code): side by side, four such cards are wider than the page.
WIDE_CARDS = [
    {"label": "Phindu loperekedwa mpaka lero", "value": "MWK\u00a0662,120,000"},
    {"label": "Mtengo wa kulembetsa mpaka lero", "value": "MWK\u00a0407,166,667"},
    {"label": "ROI mpaka lero", "value": "62.6%", "hint": "kuchulukitsa 1.6×"},
    {"label": "Kubweza ndalama", "value": "miyezi 3.9"},
]


# The same review's value drivers: eight columns, two of unbreakable amounts.
WIDE_TABLE = pd.DataFrame({
    "Choyendetsa": ["Inventory turnover", "Online conversion rate", "Stock-out rate"],
    "Muyeso": ["turns/year", "%", "%"],
    "Poyambira": ["7.6", "2.6", "5.3 → 6.2 (poyambira pasinthidwa)"],
    "Chapano": ["8.2", "2.9", "3.5"],
    "Cholinga": ["8.9", "3.2", "3.1"],
    "Kupita patsogolo": ["46%", "53%", "87% (82% poyerekeza ndi dongosolo la bizinesi)"],
    "Phindu mu kotala ino": ["MWK\u00a033,720,000", "MWK\u00a038,570,000", "MWK\u00a089,640,000"],
    "Phindu mpaka lero": ["MWK\u00a0118,020,000", "MWK\u00a0146,300,000",
                          "MWK\u00a0229,080,000"],
    "Chidaliro": ["C · zoyerekeza", "B · zoyezedwa", "A · kasitomala watsimikiza"],
})


# A goal pasted with a long link: one word wider than the page.
LONG_WORD = pd.DataFrame({"Goal": ["https://example.com/" + "a" * 150, "Train 5 new admins"],
                          "Owner": ["Joint", "Tom Whitaker"], "Due": ["19 Jul", "20 Nov"]})


def _long_word_blocks() -> list[blocks.Block]:
    """The same kind of word in a heading, a paragraph, a note, a definition and a card."""
    word = "https://example.org/" + "b" * 150
    return [blocks.heading(f"Owner {word}", level=3), blocks.paragraph(f"Acme {word} did well."),
            blocks.note(f"Champion {word}", "info"), blocks.definition_list({"Owner": word}),
            blocks.kpis([{"label": f"Seats {word}", "value": "22", "hint": word}])]


def _grade(text: str) -> str:
    return "completed" if text.startswith("A") else "in_progress"


def _print_blocks(exporters: export.Exporters, path: Path, engine: str,
                  *items: blocks.Block) -> str:
    """The blocks as one customer document, printed by `engine` to `path`; its HTML (the
    test skips when the engine is Chromium and none is installed)."""
    from valuelib.render.chromium import executable

    if engine == "chromium" and executable() is None:
        pytest.skip("chromium is not installed")
    nb = new_notebook(cells=[show(*items)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    html = exporters.html(nb, title=RUNNING, audience="customer")
    path.write_bytes(exporters.pdf(html, engine=engine))
    return html


def _pdf_text(path: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("engine", ["weasyprint", "chromium"])
def test_the_html_carries_the_dram_and_the_pdf_prints_it_from_the_bundled_files(
        exporters: export.Exporters, tmp_path: Path, engine: str):
    """Few readers' fonts draw the dram: an Armenian review's HTML carries that filler face
    inline, and each PDF engine prints the same bytes without it (the bundled files, under the
    same family names)."""
    path = tmp_path / "amd.pdf"
    html = _print_blocks(exporters, path, engine, blocks.heading("Ամփոփում"),
                         blocks.kpis([{"label": "Արժեք", "value": "14 434 000 ֏"}]))
    carried = html.split(f'<style id="{fonts.WEB_FONTS_ID}">')[1].split("</style>")[0]
    assert "</head>" in html.split(carried)[1]
    assert carried.count("@font-face") == 2
    assert carried.count('font-family: "VR Noto Sans Armenian"') == 2
    assert exporters.pdf(fonts.without_web_fonts(html), engine=engine) == path.read_bytes()
    assert "14 434 000 ֏" in _pdf_text(path)


@pytest.mark.parametrize("engine", ["weasyprint", "chromium"])
def test_wide_cards_and_tables_stay_on_the_page(exporters: export.Exporters, tmp_path: Path,
                                           engine: str):
    """A row of cards whose values are too wide for four columns goes two by two, a table too
    wide at the usual size is set smaller, and a word too wide for its line breaks (in a table
    cell, a heading, a paragraph, a note or a card), so no text runs past the page's edge (or
    is cut off at it) in either engine."""
    from support import pdf_words_outside

    huge = [{"label": f"Card {i}", "value": f"MWK\u00a0{i}1,234,567,890"} for i in range(3)]
    path = tmp_path / "cards.pdf"
    html = _print_blocks(exporters, path, engine, blocks.heading("Chidule"),
                         blocks.kpis(WIDE_CARDS), blocks.kpis(huge), blocks.kpis(WIDE_CARDS[2:]),
                         blocks.table(WIDE_TABLE, badges={"Chidaliro": _grade}),
                         blocks.table(LONG_WORD), *_long_word_blocks())
    assert html.count('class="vr-kpis vr-kpis--2"') == 3 and "vr-table--fit-" in html
    assert html.count('<td class="vr-break">https://example.com/aaa') == 1
    text = _pdf_text(path)
    assert "662,120,000" in text and "01,234,567,890" in text and "miyezi" in text
    assert "229,080,000" in text and "watsimikiza" in text and "Whitaker" in text
    assert text.lower().count("example.org/") == 6 and "did well" in text
    assert pdf_words_outside(path, 18 / 25.4 * 72) == []


@pytest.mark.parametrize("engine", ["weasyprint", "chromium"])
def test_quarters_stay_on_one_line(exporters: export.Exporters, tmp_path: Path, engine: str):
    """A Georgian support table as a review prints it: eight columns, "not enough data" among
    the CSAT figures. Each quarter is printed on one line ("III კვ. 2025" broke after "კვ."
    while the long words for "not enough data" held their column wide); those words wrap."""
    from valuelib.report.fmt import Formatter

    f = Formatter("ka-GE", "GEL")
    quarters = ["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    table = pd.DataFrame({
        "კვარტალი": [f.quarter(q) for q in quarters],
        "მოთხოვნები": [f.number(n) for n in (2, 1, 1, 1, 3)],
        "კრიტიკული": [f.number(0)] * 5,
        "გადაწყვეტის მედიანა (სთ)": [f.number(x, 1) for x in (96.3, 77.4, 26.1, 170, 29.6)],
        "CSAT": [f.pct(0), f.missing, f.pct(100), f.missing, f.pct(50)],
        "CSAT-ის პასუხები": [f.number(n) for n in (1, 0, 1, 0, 2)],
        "ღია კვარტლის ბოლოს": [f.number(0)] * 5,
    })
    path = tmp_path / "support.pdf"
    html = _print_blocks(exporters, path, engine, blocks.heading("მომხმარებლის ხმა"),
                         blocks.table(table))
    assert html.count('<td class="vr-nowrap">') == 5
    lines = _pdf_text(path, "-layout").splitlines()
    for q in quarters:
        label = f.quarter(q)
        assert any(label in line for line in lines), (label, lines)


@pytest.mark.parametrize("engine", ["weasyprint", "chromium"])
def test_a_figure_keeps_its_unit_on_a_card(exporters: export.Exporters, tmp_path: Path,
                                           engine: str):
    """Chichewa's median resolution card, "maola 140.4" (hours first), printed "maola" over
    "140.4" in a row of four; written with `Formatter.with_unit` it stays on one line."""
    from valuelib.report.fmt import Figure, Formatter

    f = Formatter("ny-MW", "MWK")
    hours, months = f.with_unit("maola 140.4"), f.with_unit("miyezi 3.9")
    assert isinstance(hours, Figure) and hours == "maola\u00a0140.4"
    cards = [{"label": "NPS", "value": f.number(40)}, {"label": "CSAT", "value": f.pct(100, 0)},
             {"label": "Mapempho a thandizo", "value": f.number(5)},
             {"label": "Nthawi yapakati yothetsa", "value": hours}]
    value = [{"label": "Phindu loperekedwa mpaka lero", "value": f.money(662120000)},
             {"label": "Mtengo wa kulembetsa mpaka lero", "value": f.money(407166667)},
             {"label": "ROI mpaka lero", "value": f.pct(62.6)},
             {"label": "Kubweza ndalama", "value": months}]
    path = tmp_path / "cards.pdf"
    _print_blocks(exporters, path, engine, blocks.kpis(cards), blocks.kpis(value))
    text = _pdf_text(path, "-layout")
    assert "maola 140.4" in text and "miyezi 3.9" in text, text
