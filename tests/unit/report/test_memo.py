"""Tests for valuelib.report.memo: while a chart is saved, each axis's ticks and each text's
layout are worked out once, the SVG stays byte for byte what matplotlib draws without the
memo, and a change of limits, of the axes' place or of a text's font or angle is never
answered from it."""

from __future__ import annotations

import contextlib
import io
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axis import Axis
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.text import Text

from valuelib.render.kernels import warm
from valuelib.report import blocks, charts, memo
from valuelib.report.charts import portfolio


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _svg(draw, monkeypatch: pytest.MonkeyPatch, *, remember: bool) -> str:
    monkeypatch.setattr(blocks, "_figure_ids", itertools.count(1))
    if not remember:
        monkeypatch.setattr(memo, "remembered", contextlib.nullcontext)
    try:
        return blocks.figure(draw()).html
    finally:
        monkeypatch.undo()


def _review_and_portfolio_charts():
    """Every value-review chart (its constant warm-up frames), and portfolio charts with a
    colorbar, dates and a log-free numeric axis."""
    for draw, kwargs in warm._sample_charts():
        yield draw.__name__, (lambda d=draw, k=kwargs: d(
            ax=plt.figure(layout="constrained").add_subplot(), **k))
    cohorts = pd.DataFrame(np.array([[100, 91, 84], [100, 88, np.nan], [100, np.nan, np.nan]]),
                           index=["2026Q1", "2026Q2", "2026Q3"], columns=[0, 1, 2])
    yield "cohort_heatmap", lambda: portfolio.cohort_heatmap(
        cohorts, cbar=True, ax=plt.figure(layout="constrained").add_subplot())


@pytest.mark.parametrize("name,draw", list(_review_and_portfolio_charts()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_svg_is_byte_identical_without_the_memo(name, draw, monkeypatch):
    charts.apply_style()
    hits = {kind: counts.hits for kind, counts in memo.STATS.items()}
    with_memo = _svg(draw, monkeypatch, remember=True)
    for kind, counts in memo.STATS.items():
        assert counts.hits > hits[kind], f"{name}: no {kind} was answered from the memo"
    assert _svg(draw, monkeypatch, remember=False) == with_memo
    assert "<svg" in with_memo


def test_the_memo_holds_only_inside_a_save():
    memo.install()
    assert getattr(Axis.__dict__["_update_ticks"], "_valuereview_memo", False)
    assert getattr(Text.__dict__["_get_layout"], "_valuereview_memo", False)
    counts = memo.STATS["ticks"]
    fig, ax = plt.subplots()
    ax.plot([0, 10], [0, 10])
    hits, misses = counts.hits, counts.misses
    ax.xaxis._update_ticks()
    ax.xaxis._update_ticks()
    assert (counts.hits, counts.misses) == (hits, misses)  # not remembered
    with memo.remembered():
        first = ax.xaxis._update_ticks()
        assert ax.xaxis._update_ticks() == first
    assert (counts.hits, counts.misses) == (hits + 1, misses + 1)
    with memo.remembered():  # a new save starts from an empty memo
        ax.xaxis._update_ticks()
    assert counts.misses == misses + 2


def _labels(axis: Axis) -> list[str]:
    return [t.label1.get_text() for t in axis._update_ticks()]


def test_new_limits_or_a_moved_axes_are_worked_out_afresh():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([0, 10], [0, 10])
    with memo.remembered():
        wide = [t.get_loc() for t in ax.xaxis._update_ticks()]
        ax.set_xlim(0, 1)
        narrow = [t.get_loc() for t in ax.xaxis._update_ticks()]
        assert max(narrow) <= 1 < max(wide)
        assert _labels(ax.xaxis) == [t.label1.get_text() for t in ax.xaxis._update_ticks()]
        # An "auto" locator gives a short axis fewer ticks: the layout shrinking the axes
        # must not be answered with the long axis's ticks.
        ax.set_xlim(0, 10)
        long_axis = len(ax.xaxis._update_ticks())
        ax.set_position([0.1, 0.1, 0.08, 0.8])
        short_axis = len(ax.xaxis._update_ticks())
    ax.set_position([0.1, 0.1, 0.08, 0.8])
    assert short_axis == len(ax.xaxis._update_ticks()) < long_axis


def test_a_text_changed_inside_a_save_is_laid_out_afresh():
    fig, ax = plt.subplots()
    label = ax.set_ylabel("Active users ₾")
    renderer = RendererSVG(400, 300, io.StringIO())
    counts = memo.STATS["text layout"]
    with memo.remembered():
        first = label.get_window_extent(renderer)
        hits = counts.hits
        assert label.get_window_extent(renderer).bounds == first.bounds
        assert counts.hits == hits + 1
        label.get_fontproperties().set_size(24)  # mutated in place, not replaced
        bigger = label.get_window_extent(renderer)
        assert bigger.width > first.width and bigger.height > first.height
        label.set_rotation(0)  # a y label stands at 90 degrees
        flat = label.get_window_extent(renderer)
        assert flat.width > flat.height
        label.set_text("Seats")
        assert label.get_window_extent(renderer).width < flat.width
        wrapped = ax.text(0, 0, "wrapped text follows the figure", wrap=True)
        misses = counts.misses
        wrapped.get_window_extent(renderer)
        wrapped.get_window_extent(renderer)
        assert counts.misses == misses  # never remembered
    label.get_fontproperties().set_size(10)
    with memo.remembered():
        assert label.get_window_extent(renderer).width < flat.width
