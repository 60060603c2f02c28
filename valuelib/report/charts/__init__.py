"""House-style charts for value and portfolio reviews (matplotlib + seaborn).

Every function follows seaborn's convention: it takes ``data=`` (a DataFrame whose
columns are already computed by ``valuelib.metrics``), an optional ``ax=``, and returns
the Axes. Nothing here computes a business figure; it only draws. Every string a reader
can see is a parameter (English default) so reviews can be translated, and every number
on an axis goes through ``fmt=`` so callers can pass locale-aware formatting.

Charts are embedded in reviews as inline SVG with ``svg.fonttype = "none"``: text stays
text, set in the document fonts (the bundled DejaVu Sans, see FONT_FAMILIES), so keep labels
short.

The package: `style` (colours, fonts, rcParams), `axes` (what every chart shares), `account`
(the value review's charts) and `portfolio` (the portfolio review's); `textcache` and
`shortcuts` spare matplotlib work whose answers are known or unused (`style` installs them).
The locale-free number formats are `valuelib.report.fmt`'s. Use it as
``from valuelib.report import charts`` and ``charts.<name>``.
"""

from __future__ import annotations

# style first: it selects the backend before anything imports pyplot.
from valuelib.report.charts.style import (  # isort: skip
    BAND_COLORS,
    CYCLE,
    EVENT_LABELS,
    FIG_WIDTH,
    FONT_FAMILIES,
    PALETTE,
    apply_style,
    brand_cmap,
    house_style,
    is_styled,
    new_ax,
)
from valuelib.report.charts.style import plt as plt  # isort: skip  (pyplot, as charts.plt)
from valuelib.report.charts.account import (
    adoption_trend,
    arr_history,
    cumulative_value,
    driver_progress,
    feature_adoption,
    score_trend,
    support_trend,
)
from valuelib.report.charts.portfolio import (
    HEATMAP_ANNOT_MAX,
    HEATMAP_LABELS_MAX,
    cohort_heatmap,
    health_distribution,
    retention_bars,
    roc_curve,
    survival_curves,
    value_by_group,
)
from valuelib.report.fmt import compact_number, percent

__all__ = [
    "PALETTE",
    "CYCLE",
    "BAND_COLORS",
    "EVENT_LABELS",
    "FIG_WIDTH",
    "FONT_FAMILIES",
    "HEATMAP_ANNOT_MAX",
    "HEATMAP_LABELS_MAX",
    "apply_style",
    "house_style",
    "is_styled",
    "new_ax",
    "compact_number",
    "percent",
    "brand_cmap",
    "driver_progress",
    "cumulative_value",
    "adoption_trend",
    "feature_adoption",
    "score_trend",
    "support_trend",
    "arr_history",
    "retention_bars",
    "cohort_heatmap",
    "survival_curves",
    "health_distribution",
    "roc_curve",
    "value_by_group",
]
