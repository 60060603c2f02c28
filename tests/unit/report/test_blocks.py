"""valuelib.report.blocks: the HTML the review notebooks display."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402
from markupsafe import Markup  # noqa: E402
from support import ROOT  # noqa: E402

from valuelib.report import blocks  # noqa: E402

NASTY = "<script>alert(1)</script> & Co"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"


def assert_escaped(html: str) -> None:
    assert "<script" not in html
    assert ESCAPED in html


def test_block_is_text_html_for_jupyter():
    block = blocks.paragraph("Hello")
    data, _ = DisplayFormatter().format(block)
    assert data["text/html"] == str(block) == block._repr_html_()
    # The plain repr lands in the executed notebook: no memory address in it.
    assert data["text/plain"] == "Block(kind='paragraph', 33 chars)"
    assert blocks.paragraph("a") + blocks.paragraph("b") == blocks.Block(
        '<p class="vr-paragraph">a</p>\n<p class="vr-paragraph">b</p>'
    )


def _cover(**overrides: str) -> str:
    kwargs = dict(
        title="Quarterly value review",
        account_name=NASTY,
        quarter_label="2026 Q3",
        prepared_for=NASTY,
        prepared_by="Sam <b>Okafor</b>",
        as_of="30 September 2026",
        audience="customer",
    )
    kwargs.update(overrides)
    return str(blocks.cover(**kwargs))


def test_cover_escapes_and_sets_running_title():
    html = _cover()
    assert_escaped(html)
    assert "<b>" not in html and "&lt;b&gt;Okafor&lt;/b&gt;" in html
    assert 'class="vr-cover"' in html
    running = re.search(r'<p class="vr-running-title">(.*?)</p>', html)
    assert running and running.group(1) == f"{ESCAPED} · 2026 Q3 Quarterly value review"
    assert "INTERNAL" not in html and blocks.INTERNAL_ATTR not in html


def test_cover_internal_mark_and_audience_check():
    html = _cover(audience="internal", running_title="Acme · 2026 Q3 value review")
    assert "INTERNAL — do not send" in html
    assert blocks.INTERNAL_ATTR in html
    assert '<p class="vr-running-title">Acme · 2026 Q3 value review</p>' in html
    with pytest.raises(ValueError, match="audience must be one of customer, internal"):
        _cover(audience="partner")


def test_paragraph_heading_note_escape():
    assert_escaped(str(blocks.paragraph(NASTY)))
    assert str(blocks.paragraph("one\ntwo")) == '<p class="vr-paragraph">one<br>two</p>'
    h = str(blocks.heading(NASTY, anchor='x" onclick="y'))
    assert_escaped(h)
    assert h.startswith('<h2 class="vr-section" id="x&quot; onclick=&quot;y">')
    assert 'class="vr-section vr-new-page"' in str(blocks.heading("S", new_page=True))
    assert str(blocks.heading("Sub", 3)) == '<h3 class="vr-subsection">Sub</h3>'
    with pytest.raises(ValueError, match="heading level"):
        blocks.heading("x", 1)
    for kind in blocks.NOTE_KINDS:
        html = str(blocks.note(NASTY, kind))
        assert_escaped(html)
        assert f"vr-note vr-note--{kind}" in html
        assert (blocks.INTERNAL_ATTR in html) == (kind == "internal")
    assert "Illustrative estimate" in str(blocks.note("x", "estimate"))
    with pytest.raises(ValueError, match="note kind must be one of"):
        blocks.note("x", "danger")


def test_kpis_markup_and_escaping():
    html = str(
        blocks.kpis(
            [
                {
                    "label": NASTY,
                    "value": "€412,800",
                    "change": "+18.2%",
                    "tone": "up_good",
                    "hint": NASTY,
                },
                {"label": "Churned seats", "value": "12", "change": "−3", "tone": "down_good"},
                {"label": "NPS", "value": NASTY},
                {"label": "Adoption", "value": "71%", "change": "-4 pts", "tone": "bad"},
            ]
        )
    )
    assert html.startswith('<dl class="vr-kpis vr-kpis--4" style="--vr-kpi-widest: ')
    assert html.endswith("</dl>")
    assert html.count('<div class="vr-kpi ') == 4
    assert html.count(ESCAPED) == 3 and "<script" not in html
    assert '<div class="vr-kpi vr-kpi--up_good"><dt>' in html
    assert '<dd class="vr-kpi__value">€412,800</dd>' in html
    assert (
        '<dd class="vr-kpi__change vr-kpi__change--up vr-kpi__change--good">'
        '<span class="vr-kpi__arrow" aria-hidden="true">▲</span> +18.2%</dd>'
    ) in html
    # Fewer churned seats is good news; a falling adoption flagged "bad" is not.
    assert 'vr-kpi__change--down vr-kpi__change--good">' in html and "▼" in html
    assert 'vr-kpi__change--down vr-kpi__change--bad">' in html
    assert "vr-kpi vr-kpi--neutral" in html  # no tone given
    assert "vr-kpi vr-kpi--bad" in html
    assert html.count("vr-kpi__change ") == 3  # the NPS card has no change line


def _cards(*values: str) -> list[dict[str, str]]:
    return [{"label": f"Card {i}", "value": v} for i, v in enumerate(values)]


def _columns(block: blocks.Block) -> int:
    return int(re.search(r'class="vr-kpis vr-kpis--(\d)"', str(block)).group(1))


@pytest.mark.parametrize("values, columns", [
    (("£19,226", "£12,103", "58.8%", "5.8 months"), 4),  # fits: one row of four
    (("14\u00a0434\u00a0000\u00a0֏", "5\u00a0983\u00a0333\u00a0֏", "141,2%", "3,6 ամիս"), 4),
    (("MWK\u00a0662,120,000", "MWK\u00a0407,166,667", "62.6%", "miyezi 3.9"), 2),
    (("MWK\u00a0662,120,000", "1.6×"), 2),
    (("£4,367", "£19,226", "1.6×", "83.3%", "86.4%", "40"), 3),  # six: two rows of three
    ((*["MWK\u00a0221,210,000"] * 2, "1.6×", "75.7%", "83.2%", "40"), 3),
    ((*["MWK\u00a0221,210,000"] * 3, "75.7%", "83.2%", "40"), 2),
    (("MWK\u00a01,234,567,890,123", "MWK\u00a0221,210,000", "1.6×"), 3),
    (("MWK\u00a01,234,567,890,123", "MWK\u00a01,221,210,000,000", "1.6×"), 2),
    (("MWK\u00a01,234,567,890,123,456,789", "MWK\u00a0221,210,000,000,000,000"), 1),
    (("",), 1),
])
def test_kpis_print_columns_fit_the_widest_values(values, columns):
    """The printed row takes as many columns as its unbreakable values fit across the page."""
    assert _columns(blocks.kpis(_cards(*values))) == columns


def test_kpis_values_break_only_at_ordinary_spaces():
    # Four long words a row of four can wrap; the same text joined by no-break spaces cannot.
    words = "Phindu lonse la kotala"
    assert _columns(blocks.kpis(_cards(*[words] * 4))) == 4
    assert _columns(blocks.kpis(_cards(*[words.replace(" ", "\u00a0")] * 4))) == 2


def test_kpis_print_geometry_is_print_css():
    """The widths blocks.kpis fits values to are the ones print.css lays the cards out with."""
    css = (ROOT / "templates/valuereview/static/print.css").read_text()
    page = re.search(r"@page \{[^}]*size: A4;\s*margin: (\S+) (\S+) (\S+) (\S+);", css)
    assert page, "print.css's @page rule"
    left, right = (float(page.group(i).removesuffix("mm")) for i in (4, 2))
    assert blocks._PRINT_ROW_PT == pytest.approx((210 - left - right) * 72 / 25.4)
    gap = re.search(r"\.vr-kpis \{ display: grid;[^}]*gap: ([\d.]+)mm;", css)
    assert blocks._PRINT_GAP_PT == pytest.approx(float(gap.group(1)) * 72 / 25.4)
    pad = re.search(r"\.vr-kpi \{ padding: [\d.]+mm ([\d.]+)mm; \}", css)
    assert blocks._PRINT_CARD_EDGES_PT == pytest.approx(2 * float(pad.group(1)) * 72 / 25.4 + 1.5)
    value = re.search(r"\.vr-kpi__value \{ font-size: ([\d.]+)pt; \}", css)
    assert blocks._PRINT_VALUE_PT == float(value.group(1))
    for cols in (1, 2, 4):
        assert f".vr-kpis--{cols} {{ grid-template-columns:" in css
    review = (ROOT / "templates/valuereview/static/review.css").read_text()
    html_pt = float(re.search(r"html \{ font-size: ([\d.]+)pt; \}", css).group(1))
    table_em = float(re.search(r"\.vr-table, [^{]*\{[^}]*font-size: ([\d.]+)em;", review)
                     .group(1))
    assert blocks._PRINT_CELL_PT == pytest.approx(html_pt * table_em)
    head = re.search(r"\.vr-table th \{ font-size: ([\d.]+)em; \}", css)
    assert blocks._PRINT_HEAD_SHARE == float(head.group(1))
    pad = re.search(r"\.vr-table th, \.vr-table td \{ padding-left: ([\d.]+)em;", css)
    assert blocks._PRINT_CELL_PAD_EM == float(pad.group(1))
    badge = re.search(r"\.vr-badge \{[^}]*padding: [\d.]+em ([\d.]+)em;[^}]*font-size: ([\d.]+)em;",
                      review)
    assert (blocks._PRINT_BADGE_PAD_EM, blocks._PRINT_BADGE_SHARE) == tuple(
        float(g) for g in badge.groups())
    for scale in blocks.TABLE_PRINT_SCALES:
        size = re.search(rf"table\.vr-table--fit-{scale} {{ font-size: ([\d.]+)em; }}", css)
        assert float(size.group(1)) == pytest.approx(table_em * scale / 100)


def _fit(html: str) -> int:
    found = re.search(r"vr-table--fit-(\d+)", html)
    return int(found.group(1)) if found else 100


def test_table_too_wide_for_the_page_is_printed_smaller():
    """Columns as wide as their widest unbreakable text: past the page, the print size drops."""
    money = [f"MWK\u00a0{n:,}" for n in (118_020_000, 146_300_000, 229_080_000)]
    narrow = pd.DataFrame({"Driver": ["Claim denial rate"] * 3, "Value": money})
    assert _fit(str(blocks.table(narrow))) == 100
    wide = pd.DataFrame({f"Phindu {i}": money for i in range(6)})
    assert _fit(str(blocks.table(wide))) == 90
    wider = pd.DataFrame({f"Phindu {i}": money for i in range(7)})
    assert _fit(str(blocks.table(wider))) == 80
    # A number never wraps; the same width of words does, so it needs no smaller size.
    words = pd.DataFrame({f"Phindu {i}": ["MWK lopitilira mazana awiri"] * 3 for i in range(7)})
    assert _fit(str(blocks.table(words))) == 100
    # A badge's words wrap too, but it measures with its own size and padding.
    badged = blocks.table(wide.assign(Chidaliro=["A · kasitomala watsimikiza"] * 3),
                          badges={"Chidaliro": lambda _: "completed"})
    assert _fit(str(badged)) == 80
    assert _fit(str(blocks.table(pd.DataFrame({"A": ["word " * 400]})))) == 100  # wraps
    assert _fit(str(blocks.table(pd.DataFrame({"A": ["9" * 400]})))) == 70  # the smallest


def test_table_breaks_only_words_too_wide_to_keep():
    """A text cell with a word wider than a quarter of the page may break it anywhere; an
    ordinary long word, a number and a short cell keep theirs."""
    link = "https://example.com/" + "a" * 150
    df = pd.DataFrame({"Goal": [link, "Telecommunications onboarding"],
                       "Status": [link, "Done"], "ARR": ["9" * 60, "£1,200"]})
    html = str(blocks.table(df, badges={"Status": lambda _: "completed"}))
    assert html.count('class="vr-break"') == 2  # the link, as text and in its badge
    assert '<td class="vr-break">https://example.com/' in html
    assert "<td>Telecommunications onboarding</td>" in html
    assert 'class="vr-right">' + "9" * 60 in html  # a number never breaks
    assert _fit(html) == 80  # the link is measured as broken; the 60 figures are not
    rising_cost = str(
        blocks.kpis([{"label": "Cost", "value": "9", "change": "+1", "tone": "down_good"}])
    )
    assert "vr-kpi__change--up vr-kpi__change--bad" in rising_cost
    flat = str(blocks.kpis([{"label": "NPS", "value": "41", "change": "0", "tone": "up_good"}]))
    assert '<dd class="vr-kpi__change vr-kpi__change--flat vr-kpi__change--neutral">0</dd>' in flat
    with pytest.raises(ValueError, match="tone must be one of"):
        blocks.kpis([{"label": "x", "value": "1", "tone": "great"}])
    with pytest.raises(ValueError, match="needs 'label' and 'value'"):
        blocks.kpis([{"label": "x"}])


def test_table_escapes_aligns_and_draws_badges():
    df = pd.DataFrame(
        {
            "Goal": [NASTY, "Integrate carrier API"],
            "ARR": ["€1,200", "€3.4M"],
            "Seats": [12, np.nan],
            "Status": ["", NASTY],
            "Due": ["2026-11-30", None],
        },
        dtype=object,
    )
    kinds = {"": "overdue", NASTY: "completed"}
    html = str(blocks.table(df, caption=NASTY, classes="vr-compact",
                            badges={"Status": kinds.get}))
    assert html.startswith('<div class="vr-table-wrap"><table class="vr-table vr-compact">')
    assert html.count(ESCAPED) == 3 and "<script" not in html  # caption, cell, badge text
    assert '<td><span class="vr-badge vr-badge--overdue">Overdue</span></td>' in html
    assert f'<td><span class="vr-badge vr-badge--completed">{ESCAPED}</span></td>' in html
    assert '<th scope="col" class="vr-right">ARR</th>' in html
    assert '<th scope="col" class="vr-right">Seats</th>' in html
    assert '<th scope="col">Due</th>' in html  # dates stay left-aligned
    assert '<th scope="col">Status</th>' in html  # badges stay left-aligned
    assert html.count('<span class="vr-missing">—</span>') == 2
    right = str(blocks.table(df[["Goal"]], align={"Goal": "right"}))
    assert 'class="vr-right"' in right
    with pytest.raises(ValueError, match="align"):
        blocks.table(df, align={"Goal": "middle"})
    with pytest.raises(ValueError, match="badge kind"):
        blocks.table(df, badges={"Status": lambda text: "late"})
    with pytest.raises(TypeError):
        blocks.table(df, html_columns=["Status"])  # no name-based bypass any more


def test_table_never_trusts_cell_content():
    """Text that looks exactly like our badge markup is still text, and so is Markup in a
    cell: a table's only markup is what it draws itself (its ``badges``)."""
    forged = '<span class="vr-badge"></span><img src="file:///etc/hostname" onerror="alert(1)">'
    df = pd.DataFrame({"Goal": [forged, forged], "Status": ["Done", forged]}, dtype=object)
    html = str(blocks.table(df, badges={"Status": lambda text: "completed"}))
    assert "<img" not in html and 'onerror="' not in html
    assert html.count("&lt;span class=&quot;vr-badge&quot;&gt;&lt;/span&gt;&lt;img") == 3
    assert html.count('<span class="vr-badge vr-badge--completed">') == 2
    # Markup in a cell, even a badge made here, is escaped like any other text.
    as_text = str(blocks.table(pd.DataFrame({"Status": [blocks.badge("Done", "overdue")]},
                                            dtype=object)))
    assert "&lt;span class=&quot;vr-badge vr-badge--overdue&quot;&gt;Done" in as_text
    assert "<span class=\"vr-badge" not in as_text
    # Markup made elsewhere in other blocks (not a table cell) is text too.
    assert "&lt;span" in str(blocks.paragraph(blocks.badge("x", "overdue")))


def test_badge_kinds():
    for kind in blocks.BADGE_KINDS:
        assert f"vr-badge vr-badge--{kind}" in blocks.badge("", kind)
    late = blocks.badge("Late", "overdue")
    assert isinstance(late, Markup)
    assert late == '<span class="vr-badge vr-badge--overdue">Late</span>'
    assert blocks.badge(NASTY, "overdue") == (
        f'<span class="vr-badge vr-badge--overdue">{ESCAPED}</span>'
    )
    with pytest.raises(ValueError, match="badge kind"):
        blocks.badge("x", "late")


def _chart(title: str):
    fig, ax = plt.subplots(figsize=(5, 2.5))
    ax.plot([1, 2, 3], [3, 1, 2], ls="--")
    ax.fill_between([1, 2], [0, 1], alpha=0.3)
    ax.set_title(title)
    return fig, ax


def test_figure_is_inline_svg_with_text():
    before = set(plt.get_fignums())
    fig, ax = _chart(NASTY)
    html = str(blocks.figure(ax, caption=NASTY, alt="Trend of value"))
    assert set(plt.get_fignums()) == before  # the figure was closed
    assert html.startswith('<figure class="vr-figure"><svg role="img" aria-label="Trend of value"')
    assert "<?xml" not in html and "DOCTYPE" not in html and "<metadata" not in html
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", html)
    assert ESCAPED in texts  # the title stays text, escaped by matplotlib
    assert "<script" not in html
    # Styles became presentation attributes: nothing leaks into the page's CSS.
    assert "<style" not in html and " style=" not in html
    assert 'font-family="' in html
    assert f"<figcaption>{ESCAPED}</figcaption>" in html


def test_figures_have_distinct_ids():
    ids = [
        set(re.findall(r'\sid="([^"]+)"', str(blocks.figure(_chart("same")[0])))) for _ in range(2)
    ]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    with pytest.raises(TypeError, match="matplotlib Figure or Axes"):
        blocks.figure("not a figure")  # type: ignore[arg-type]


def test_methodology_blocks_and_page_break():
    dl = str(blocks.definition_list({NASTY: NASTY, "ROI": "Value / cost"}))
    assert dl.startswith('<dl class="vr-definitions">') and dl.count(ESCAPED) == 2
    assert str(blocks.definition_list([("a", "b")])) == (
        '<dl class="vr-definitions"><dt>a</dt><dd>b</dd></dl>'
    )
    f = str(blocks.formula(NASTY, "(b − c) × v < 1", example="(6.4 − 4.3) × 35 = 73.5"))
    assert f.count(ESCAPED) == 1 and "× v &lt; 1" in f and "vr-formula__example" in f
    assert "vr-formula__example" not in str(blocks.formula("x", "y"))
    assert 'class="vr-page-break"' in str(blocks.page_break())


def _trend_chart() -> object:
    from valuelib.report import charts

    data = pd.DataFrame({"period": ["Q1 2026", "Q2 2026", "Q3 2026"], "value": [12.0, -4.0, 31.5]})
    return charts.score_trend(data=data, title="NPS by quarter", ref=0, ref_label="0")


def test_figure_svg_is_the_same_as_savefig_tight(monkeypatch):
    """The laid-out-once save draws exactly what savefig(bbox_inches="tight") draws."""
    import itertools

    monkeypatch.setattr(blocks, "_figure_ids", itertools.count(1))
    fast = blocks.figure(_trend_chart()).html
    monkeypatch.setattr(blocks, "_figure_ids", itertools.count(1))
    monkeypatch.setattr(blocks, "_tight_bbox", lambda fig: None)  # matplotlib's own path
    plain = blocks.figure(_trend_chart()).html
    assert fast == plain


def test_figures_with_raster_parts_are_saved_the_ordinary_way():
    fig, ax = plt.subplots(layout="constrained")
    ax.imshow(np.arange(4.0).reshape(2, 2))
    assert blocks._tight_bbox(fig) is None
    plt.close(fig)


def test_only_a_long_table_may_break_across_pages_in_print():
    short = pd.DataFrame({"n": range(blocks.LONG_TABLE_ROWS)})
    long = pd.DataFrame({"n": range(blocks.LONG_TABLE_ROWS + 1)})
    assert 'class="vr-table"' in str(blocks.table(short))
    assert 'class="vr-table vr-table--long"' in str(blocks.table(long))
    css = (ROOT / "templates" / "valuereview" / "static" / "print.css").read_text()
    assert "table.vr-table--long { break-inside: auto; }" in css


def test_plain_text_reaches_every_text_without_asking_the_locators():
    """Every Text findobj finds is made plain, and no axis computes its ticks for it."""
    from matplotlib.text import Text
    from matplotlib.ticker import MaxNLocator

    class Counting(MaxNLocator):
        calls = 0

        def __call__(self):
            Counting.calls += 1
            return super().__call__()

    fig, ax = _chart("Cost in $ and € $x$")
    ax.set_xticks([1, 2, 3], ["$a$", "b", "$c$"])
    ax.legend(["$ line"])
    ax.yaxis.set_major_locator(Counting())
    Counting.calls = 0
    theirs = fig.findobj(Text)
    assert Counting.calls > 0  # findobj asks the locator for the current ticks
    assert {id(t) for t in theirs} <= {id(t) for t in blocks._texts(fig)}
    for t in theirs:
        t.set_parse_math(True)
    Counting.calls = 0
    blocks._plain_text(fig)
    assert Counting.calls == 0
    assert not any(t.get_parse_math() for t in theirs)
    html = str(blocks.figure(fig))
    assert "Cost in $ and € $x$" in html and "&gt;$a$&lt;" not in html and ">$a$<" in html


def test_text_width_measures_each_character_in_the_first_font_that_has_it():
    from valuelib.report import fonts

    assert fonts.text_width("", 15) == 0
    digit = fonts.text_width("0", 10, bold=True)
    assert 5 < digit < 8  # DejaVu Sans Bold's figures are 0.696 em wide
    assert fonts.text_width("0" * 7, 20, bold=True) == pytest.approx(14 * digit)
    assert fonts.text_width("MWK", 15, bold=True) > fonts.text_width("MWK", 15)
    # The dram sign is not in DejaVu: Noto Sans Armenian draws it, at its own width.
    assert 0 < fonts.text_width("\u058f", 10) < 10
    assert fonts.text_width("\ue000", 10) == 10  # in no bundled font: one em


def test_not_enough_data_is_muted_and_aligned_with_the_numbers():
    """A formatter's "not enough data" in a column of figures keeps the column right-aligned
    and shows muted; a column of nothing but that text stays left; NaN shows the dash."""
    from valuelib.report.fmt import Formatter, NotEnoughData

    f = Formatter("en-GB", "GBP")
    assert isinstance(f.missing, NotEnoughData) and f.missing == "not enough data"
    assert isinstance(Formatter(missing="n/a").missing, NotEnoughData)
    df = pd.DataFrame({"Hours": [f.number(22.6, 1), f.missing],
                       "Nothing yet": [f.missing, f.missing], "Gap": [np.nan, "4"]})
    html = str(blocks.table(df))
    assert '<th scope="col" class="vr-right">Hours</th>' in html
    assert '<td class="vr-right"><span class="vr-missing">not enough data</span></td>' in html
    assert '<th scope="col">Nothing yet</th>' in html
    assert '<td><span class="vr-missing">not enough data</span></td>' in html
    assert '<td class="vr-right"><span class="vr-missing">—</span></td>' in html
    # The text is escaped like any other cell's.
    odd = Formatter(missing="<b>n/a</b>").missing
    assert "&lt;b&gt;n/a&lt;/b&gt;" in str(blocks.table(pd.DataFrame({"A": ["1", odd]})))


SHIPPED = [("en-US", "USD"), ("hy-AM", "AMD"), ("ka-GE", "GEL"), ("ha-NG", "NGN"),
           ("ny-MW", "MWK")]


def _figures(f) -> list[str]:
    """One of each figure a formatter writes (amounts, percents, changes, compact forms)."""
    return [f.number(1234567), f.number(22.6, 1), f.money(662120000), f.money(-1234.5, digits=2),
            f.money_compact(1234567), f.pct(12.3), f.signed(3.2), f.signed_pct(-4.1),
            f.signed_points(2.5), f.signed_points(-1, unit="pts"), f.compact(12345),
            f.multiple(2.5), f.axis_number(1234), f.axis_pct(4.5)]


@pytest.mark.parametrize(("locale", "currency"), SHIPPED)
def test_figures_align_right_and_periods_left_in_each_language(locale, currency):
    """A table of a review's figures and its quarters, months and dates: the figures right
    (Chichewa's "−1.0 mfundo" too), the periods left (Hausa's "K3 2026", "Sat 2026" too)."""
    import datetime as dt

    from valuelib.report.fmt import Figure, Formatter

    f = Formatter(locale, currency)
    figures = _figures(f)
    assert all(isinstance(x, Figure) for x in figures)
    periods = [f.quarter("2026Q3"), f.quarter("2025Q4"), f.month_year(dt.date(2026, 9, 1)),
               f.date(dt.date(2026, 9, 30)), f.month_year(dt.date(2025, 12, 1)),
               f.date(dt.date(2026, 1, 5)), "2026 Q3", "Sep 30, 2026", "30.09.2026", "Q3 2026",
               f.quarter("2026Q1"), f.quarter("2026Q2"), f.month_year(dt.date(2026, 5, 1)),
               f.date(dt.date(2025, 11, 11))]
    html = str(blocks.table(pd.DataFrame({"Period": periods, "Figure": figures})))
    assert '<th scope="col">Period</th><th scope="col" class="vr-right">Figure</th>' in html
    # A formatter's periods stay on one line; plain text is left to wrap.
    assert html.count('<td class="vr-nowrap">') == len(periods) - 4
    # Each period, alone in a column, stays left; each figure, as plain text, goes right
    # where it reads as one number (not "4.5%"'s locale-specific forms; those are Figures).
    for text in periods:
        alone = str(blocks.table(pd.DataFrame({"P": [text]})))
        assert '<th scope="col">P</th>' in alone, text
    for text in ["$1,234,567", "MWK 662,120,000", "662 120 000 ֏", "1 234,5", "−12%",
                 "+3 pp", "4.5×", "22.6", "109", "12,34,567", "₦1.2M", "US$ 5", "-0.5 pts"]:
        assert blocks._is_numeric(text), text


def test_no_period_in_any_locale_reads_as_a_number():
    """Every locale CLDR (babel) has: its quarters, months and dates are not taken for
    numbers by the plain-text rule, but where a month's abbreviation is one to three capitals
    (Luo "DOC 2026"), which a currency code followed by an amount cannot be told from."""
    import datetime as dt
    import logging

    import babel.localedata

    from valuelib.report.fmt import Formatter

    logging.disable(logging.WARNING)  # "no catalog for language ...": English text, fine
    try:
        checked, taken = 0, []
        for ident in babel.localedata.locale_identifiers():
            try:
                f = Formatter(ident.replace("_", "-"), "USD")
                periods = [f.quarter(f"2026Q{q}") for q in range(1, 5)] + [
                    f.month_year(dt.date(2026, m, 1)) for m in range(1, 13)] + [
                    f.date(dt.date(2026, m, 28)) for m in range(1, 13)]
            except (ValueError, LookupError):
                continue  # a locale babel lists but cannot format with
            checked += 1
            taken += [p for p in periods if blocks._is_numeric(p)]
    finally:
        logging.disable(logging.NOTSET)
    assert checked > 700
    odd = [p for p in taken if not re.fullmatch(r"[A-Z]{1,3} 20\d\d", p)]
    assert not odd, odd[:10]


def test_kpis_tell_the_screen_their_widest_unbreakable_figure():
    """On screen a card is as wide as its row's widest figure (review.css): the row carries
    that width in ems of the figure's size; a figure with ordinary spaces counts by words."""
    from valuelib.report import fonts

    def widest(*values: str) -> float:
        html = str(blocks.kpis(_cards(*values)))
        return float(re.search(r' style="--vr-kpi-widest: ([\d.]+)">', html).group(1))

    dram = "14\u00a0434\u00a0000\u00a0֏"
    assert widest(dram, "2,4×") == pytest.approx(fonts.text_width(dram, 1.0, bold=True),
                                                 abs=0.005)
    assert widest("not enough data", "1.6×") == pytest.approx(
        fonts.text_width("enough", 1.0, bold=True), abs=0.005)
