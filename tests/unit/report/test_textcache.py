"""Tests for valuelib.report.charts.textcache: the memos answer exactly what matplotlib
answers, follow rcParams and mutated font properties, and leave a chart's SVG unchanged."""

from __future__ import annotations

import io
import itertools

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.text as mtext
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties

from valuelib.report import blocks, charts
from valuelib.report.charts import textcache


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _without_memos(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib's own lookup and measurement for the rest of the test."""
    monkeypatch.delattr(font_manager.fontManager, "_find_fonts_by_props")
    monkeypatch.setattr(mtext, "get_font", mtext.get_font.__wrapped__)
    monkeypatch.setattr(mtext.Text, "_get_layout", mtext.Text._get_layout.__wrapped__)
    for cls in (RendererSVG, RendererAgg):
        monkeypatch.setattr(cls, "get_text_width_height_descent",
                            cls.__dict__["get_text_width_height_descent"].__wrapped__)


def test_installed_once_by_the_charts_package():
    textcache.install()
    textcache.install()
    lookup = font_manager.fontManager._find_fonts_by_props
    assert getattr(lookup, "_valuereview_memo", False)
    assert getattr(mtext.get_font, "_valuereview_memo", False)
    assert mtext.get_font.__wrapped__ is font_manager.get_font
    assert getattr(mtext.Text._get_layout, "_valuereview_memo", False)
    assert not getattr(mtext.Text._get_layout.__wrapped__, "_valuereview_memo", False)
    for cls in (RendererSVG, RendererAgg):
        measure = cls.__dict__["get_text_width_height_descent"]
        assert getattr(measure, "_valuereview_memo", False)
        # Wrapped once: the function under the memo is matplotlib's own.
        assert not getattr(measure.__wrapped__, "_valuereview_memo", False)


@pytest.mark.parametrize("cls", [RendererSVG, RendererAgg])
def test_measurements_are_matplotlibs_and_shared_between_renderers(cls):
    own = cls.__dict__["get_text_width_height_descent"].__wrapped__
    memo = textcache.MEMOS[f"measure:{cls.__name__}"]

    def renderer(dpi: float):
        if cls is RendererSVG:
            return RendererSVG(300, 200, io.StringIO())
        return RendererAgg(300, 200, dpi)

    prop = FontProperties(family=list(charts.FONT_FAMILIES), size=9.5, weight="bold")
    for text in ("Q3 2026", "₾ 1,234 ֏", "Ŵ ɓ ɗ ƙ ƴ — Active users"):
        first, second = renderer(100), renderer(100)
        expected = own(first, text, prop, False)
        assert first.get_text_width_height_descent(text, prop, False) == expected
        hits = memo.hits
        assert second.get_text_width_height_descent(text, prop, False) == expected
        assert memo.hits == hits + 1  # the second renderer did not shape the text again
    if cls is RendererAgg:  # a raster renderer's answer depends on its dpi
        hi = renderer(200)
        assert hi.get_text_width_height_descent("Q3 2026", prop, False) == \
            own(hi, "Q3 2026", prop, False) != own(renderer(100), "Q3 2026", prop, False)


def test_a_mutated_font_property_is_measured_afresh():
    r = RendererSVG(300, 200, io.StringIO())
    prop = FontProperties(family=list(charts.FONT_FAMILIES), size=9)
    small = r.get_text_width_height_descent("Adoption", prop, False)
    prop.set_size(18)
    big = r.get_text_width_height_descent("Adoption", prop, False)
    assert big[0] == pytest.approx(2 * small[0], rel=0.02)


def test_font_tables_are_the_fonts_and_read_once():
    paths = font_manager.fontManager._find_fonts_by_props(
        FontProperties(family=list(charts.FONT_FAMILIES)))
    font = font_manager.get_font(paths)
    tables = mtext.get_font(paths)
    assert tables is mtext.get_font(list(paths))  # one reader per set of files
    head = tables.get_sfnt_table("head")
    assert head == font.get_sfnt_table("head") and head["unitsPerEm"] == 2048
    assert tables.get_sfnt_table("head") is head
    assert tables.get_sfnt_table("OS/2") == font.get_sfnt_table("OS/2")
    assert tables.family_name == font.family_name  # anything else is the font's


def test_font_lookup_follows_rcparams():
    prop = FontProperties(family=["sans-serif"])
    with mpl.rc_context({"font.sans-serif": ["VR DejaVu Sans"]}):
        ours = font_manager.fontManager._find_fonts_by_props(prop)
    with mpl.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        stock = font_manager.fontManager._find_fonts_by_props(prop)
    assert "VRDejaVuSans" in str(ours[0]) and "VRDejaVuSans" not in str(stock[0])


def _svg(draw, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(blocks, "_figure_ids", itertools.count(1))
    return blocks.figure(draw()).html


def test_chart_svg_is_byte_identical_without_the_memos(monkeypatch):
    charts.apply_style()
    quarters = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]

    def draw():
        return charts.support_trend(data=pd.DataFrame({
            "period": quarters, "tickets": [12, 30, 7, 18],
            "median_resolution_hours": [9.5, 4.0, 12.25, 6.0]}),
            tickets_label="Tickets ₾", resolution_label="Median resolution (hours)")

    with_memos = _svg(draw, monkeypatch)
    _without_memos(monkeypatch)
    assert not getattr(font_manager.fontManager._find_fonts_by_props, "_valuereview_memo",
                       False)
    assert _svg(draw, monkeypatch) == with_memos
    assert "Tickets ₾" in with_memos


def _layout(text: mtext.Text, renderer) -> tuple:
    bbox, lines, box = text._get_layout(renderer)
    return tuple(bbox.bounds), lines, box


@pytest.mark.parametrize("options", [
    {},
    {"rotation": 30, "ha": "right", "rotation_mode": "anchor"},
    {"rotation": 90, "va": "center", "multialignment": "center", "linespacing": 1.6},
    {"ha": "center", "va": "baseline", "fontsize": 14, "fontweight": "bold"},
])
def test_layouts_are_matplotlibs_and_follow_every_setting(options):
    own = mtext.Text._get_layout.__wrapped__
    fig = plt.figure(dpi=100)
    renderer = fig.canvas.get_renderer()
    memo = textcache.MEMOS["layout"]
    for string in ("Q3 2026", "Two lines:\nActive users ₾", "Ŵ ɓ ɗ ƙ ƴ"):
        text = fig.text(0.5, 0.5, string, **options)
        expected = own(text, renderer)
        first = _layout(text, renderer)
        assert first == (tuple(expected[0].bounds), expected[1], expected[2])
        hits = memo.hits
        again = fig.text(0.1, 0.9, string, **options)  # elsewhere: the layout is relative
        assert _layout(again, renderer) == first and memo.hits == hits + 1
    text = fig.text(0.5, 0.5, "Q3 2026", **options)
    wide = _layout(text, renderer)
    text.set_rotation(45)
    assert _layout(text, renderer) == (tuple(own(text, renderer)[0].bounds),
                                       *own(text, renderer)[1:]) != wide
    text.get_fontproperties().set_size(20)  # mutated in place: laid out afresh
    assert _layout(text, renderer)[0] == tuple(own(text, renderer)[0].bounds)


def test_layouts_are_per_renderer_class_and_dpi_and_handed_out_fresh():
    own = mtext.Text._get_layout.__wrapped__
    low, high = plt.figure(dpi=72), plt.figure(dpi=200)
    svg = RendererSVG(300, 200, io.StringIO())
    for fig, renderer in ((low, low.canvas.get_renderer()), (high, high.canvas.get_renderer()),
                          (low, svg)):
        text = fig.text(0, 0, "Renewal date")
        bbox, lines, box = text._get_layout(renderer)
        assert tuple(bbox.bounds) == tuple(own(text, renderer)[0].bounds)
        bbox.x0 = -999  # a caller may change what it is given
        lines.clear()
        again = text._get_layout(renderer)
        assert again[0].x0 != -999 and again[1]


def test_wrapped_and_math_text_are_laid_out_by_matplotlib():
    fig = plt.figure(dpi=100)
    renderer = fig.canvas.get_renderer()
    assert textcache._layout_key(fig.text(0, 0, "A long label", wrap=True), renderer) is None
    math = fig.text(0, 0, r"$\alpha$ cost", parse_math=True)
    assert textcache._layout_key(math, renderer) is None
    assert textcache._layout_key(fig.text(0, 0, "TeX", usetex=True), renderer) is None
    plain = fig.text(0, 0, r"$\alpha$ cost", parse_math=False)
    assert textcache._layout_key(plain, renderer)[0] == r"$\alpha$ cost"
