"""Warm the caches a kernel would otherwise fill on its own time, with fixed sample data.

A forked kernel inherits the fork server's memory, so a cache filled there is filled in every
kernel. matplotlib's font lookup (`FontManager.findfont`, scored against every installed font)
is the one that matters: a fresh kernel spends about 0.2 s of its first review finding the
same few fonts again. The sample below draws each chart of the value review once through the
same SVG path as a review, in the house style, then puts matplotlib and valuelib's module
state back as they were. No account's data is involved: the frames are constants of this
module. `export_caches` does the same for nbconvert (and WeasyPrint, when it prints) with a
sample review.

Figures are made without pyplot (`charts.style.unheld_ax`): in the server pyplot would pick
(and import) the inline backend, which must be imported by the kernel itself
(`forkserver.NEVER_PRELOAD`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def _sample_charts() -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    """Each value-review chart with a small constant frame (and options that add text)."""
    import numpy as np
    import pandas as pd

    from valuelib.report import charts

    quarters = [f"2025Q{i}" for i in range(1, 5)]
    months = pd.date_range("2025-01-31", periods=12, freq="ME")
    return [
        (charts.driver_progress, {"data": pd.DataFrame({
            "driver": ["Cycle time", "Hours saved"], "progress_pct": [45.0, 105.0],
            "label": ["8.0 → 6.0 → 4.0 weeks", "100 → 120 → 110 hours"]})}),
        (charts.cumulative_value, {"data": pd.DataFrame({
            "period_end": pd.date_range("2025-03-31", periods=4, freq="QE"),
            "cumulative_value": [50_000.0, 120_000.0, 200_000.0, 290_000.0],
            "cumulative_cost": [100_000.0, 120_000.0, 140_000.0, 160_000.0]})}),
        (charts.adoption_trend, {"data": pd.DataFrame({
            "date": pd.date_range("2025-01-06", periods=8, freq="W-MON"),
            "active_users": np.arange(8) * 5 + 100, "licensed_seats": 200})}),
        (charts.feature_adoption, {"data": pd.DataFrame({
            "feature": ["Reports", "Workflows", "API"], "adoption_pct": [80.0, 45.0, 10.0],
            "peer_pct": [70.0, 50.0, 20.0]})}),
        (charts.score_trend, {"data": pd.DataFrame({"period": quarters,
                                                    "value": [20.0, 30.0, 25.0, 40.0]}),
                              "ref": 30.0, "ref_label": "Peer median"}),
        (charts.support_trend, {"data": pd.DataFrame({
            "period": quarters, "tickets": [20, 30, 25, 15],
            "median_resolution_hours": [12.0, 9.5, 8.0, 6.5]})}),
        (charts.arr_history, {"data": pd.DataFrame({"month": months,
                                                    "arr": np.linspace(1e5, 1.5e5, 12)}),
                              "events": pd.DataFrame({"month": months[[3, 8]],
                                                      "kind": ["expansion", "contraction"]})}),
    ]


@contextlib.contextmanager
def _house_style() -> Iterator[None]:
    """The house chart style for the duration, then matplotlib's rcParams and valuelib's
    module state (`charts` styled or not, `blocks`' figure numbering) exactly as before, so
    a kernel forked afterwards numbers its figures and styles its charts as a fresh one."""
    from valuelib.report import blocks, charts

    figure_ids = blocks.reset_figure_ids()
    try:
        with charts.house_style():
            yield
    finally:
        blocks.reset_figure_ids(figure_ids)


def _svg(draw: Callable[..., Any], kwargs: dict[str, Any], caption: str | None = None) -> Any:
    """One chart drawn as a review draws it, as the `blocks.figure` a review would show."""
    from valuelib.report import blocks
    from valuelib.report.charts import style

    return blocks.figure(draw(ax=style.unheld_ax(), **kwargs), caption=caption)


def chart_caches() -> None:
    """Draw every value-review chart once as a review would (house style, inline SVG).

    Leaves rcParams, pyplot's figures and valuelib's module state as they were. Also reads
    the font metrics that `blocks` fits printed tables and cards with.
    """
    from valuelib.report import fonts

    fonts.load_metrics()
    with _house_style():
        for draw, kwargs in _sample_charts():
            _svg(draw, kwargs)


#: Empty chart figures the fork server makes for each kernel (`prepare_figures`): a value
#: review draws up to eight charts, a portfolio review six.
PREPARED_FIGURES = 10


def prepared_figures() -> None:
    """Make the empty chart figures every forked kernel would otherwise make for itself, in
    the house style its notebook applies (`charts.style.prepare_figures`)."""
    from valuelib.report.charts import style

    with _house_style():
        style.prepare_figures(PREPARED_FIGURES)


def _sample_review(*, drawn: bool = True) -> Any:
    """A short review-shaped notebook: the blocks a review is made of, with constant text;
    `drawn`: with its table and chart too, which import pandas and matplotlib."""
    import nbformat

    from valuelib.report import blocks

    sample = [
        blocks.cover(title="Quarterly value review", account_name="Sample Company",
                     quarter_label="Q3 2026", prepared_for="Sample Company",
                     prepared_by="Customer Success", as_of="30 September 2026",
                     audience="customer"),
        blocks.heading("Executive summary", new_page=True),
        blocks.paragraph("Value delivered this quarter: $12,345 (ROI 1.8×), ₾ ֏ ₦ ɓ ŵ ა ա."),
        blocks.kpis([{"label": "Value delivered", "value": "$12,345", "change": "+4.2%",
                      "tone": "up_good"},
                     {"label": "Seat utilisation", "value": "94.8%"}]),
        blocks.note("An illustrative estimate.", "estimate", title="Estimate"),
        blocks.definition_list({"ROI": "value ÷ cost"}),
        blocks.formula("ROI", "value ÷ cost", "2 ÷ 1 = 2×"),
    ]
    if drawn:
        import pandas as pd

        sample.append(blocks.table(pd.DataFrame({"Driver": ["Cycle time", "Hours saved"],
                                                 "Value": ["$1,234", "$5,678"]}),
                                   caption="Value by driver"))
        with _house_style():
            draw, kwargs = _sample_charts()[1]
            sample.append(_svg(draw, kwargs, caption="Value"))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("", outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": str(block)})
        for block in sample]))
    return nb


def export_caches(exporters: Any, engine: str = "auto", *, drawn: bool = True) -> None:
    """Export a short review-shaped sample to HTML once with `exporters` (the template
    compiled, the stylesheet parsed), and to PDF when WeasyPrint is the engine `engine`
    resolves to (every font of the documents loaded), which otherwise makes each worker's first
    review half a second slower. A browser is never started here: it belongs to its worker.
    `drawn`: the sample has a table and a chart (see `_sample_review`)."""
    from valuelib.render.chromium import resolve_engine

    html = exporters.html(_sample_review(drawn=drawn), audience="customer", lang="en")
    if resolve_engine(engine) == "weasyprint":
        exporters.pdf(html)
    else:  # the Chromium writer's modules (pypdf), which a worker's first PDF would import
        from valuelib.render import export_chromium  # noqa: F401
