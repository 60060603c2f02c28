"""House-style charts for value and portfolio reviews (matplotlib + seaborn).

Every function follows seaborn's convention: it takes ``data=`` (a DataFrame whose
columns are already computed by ``valuelib.metrics``), an optional ``ax=``, and returns
the Axes. Nothing here computes a business figure; it only draws. Every string a reader
can see is a parameter (English default) so reviews can be translated, and every number
on an axis goes through ``fmt=`` so callers can pass locale-aware formatting.

Charts are embedded in reviews as inline SVG with ``svg.fonttype = "none"``: text stays
text, set in the document fonts (the bundled DejaVu Sans, see FONT_FAMILIES), so keep labels
short.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib as mpl

# Headless by default (batch rendering, CI), but never override a backend someone chose:
# Jupyter's inline backend (MPLBACKEND), a matplotlibrc, or an already-imported pyplot.
if (
    os.environ.get("MPLBACKEND") is None
    and "matplotlib.pyplot" not in sys.modules
    and getattr(mpl.rcParams, "_get_backend_or_none", lambda: None)() is None
):
    mpl.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from valuelib.report import fonts  # noqa: E402

__all__ = [
    "PALETTE",
    "CYCLE",
    "BAND_COLORS",
    "EVENT_LABELS",
    "FIG_WIDTH",
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

Fmt = Callable[[float], str]
DateFmt = Callable[[Any], str]

# --------------------------------------------------------------------------- style

PALETTE: dict[str, str] = {
    "brand": "#0f5e6b",  # teal: the account's own series
    "brand_light": "#cfe3e6",  # teal tint: areas under a brand line, payback zone
    "accent": "#e07a1f",  # orange: the second series, peer markers
    "muted": "#9aa5ac",  # grey: secondary series (cost, seats), chance line
    "neutral": "#5b6b75",  # slate: annotations, reference lines, "neither good nor bad"
    "good": "#2e7d32",
    "bad": "#c62828",
    "ink": "#1c2a33",  # text
    "grid": "#e4e9ec",
    "track": "#e9eef0",  # the 100% track behind progress bars
}

#: Categorical colours, in order, for hue levels (segments, metrics).
CYCLE: tuple[str, ...] = (
    PALETTE["brand"],
    PALETTE["accent"],
    "#6aa2ad",  # light teal
    "#3f4d57",  # dark slate
    "#c4a35a",  # sand
    "#8a5a7c",  # plum
)

#: Health band colours keyed by the English band names; other names get a bad→good ramp.
BAND_COLORS: dict[str, str] = {
    "At risk": PALETTE["bad"],
    "Watch": PALETTE["accent"],
    "Healthy": PALETTE["good"],
}

#: Default legend labels for ARR events (``kind`` values are data, labels are prose).
EVENT_LABELS: dict[str, str] = {
    "new": "New",
    "expansion": "Expansion",
    "contraction": "Contraction",
    "churn": "Churn",
}

_EVENT_STYLE: dict[str, tuple[str, str]] = {
    "new": (PALETTE["good"], "o"),
    "expansion": (PALETTE["good"], "^"),
    "contraction": (PALETTE["bad"], "v"),
    "churn": (PALETTE["bad"], "X"),
}

#: Chart text uses the documents' fonts, the ones bundled in valuelib/report/fonts and nothing
#: the machine has (`valuelib.report.fonts.SANS`): DejaVu Sans holds Latin (Hausa's ɓ ɗ ƙ ƴ,
#: Chichewa's ŵ),
#: Georgian and Armenian; the Noto families after it supply the currency signs DejaVu lacks
#: (₾ lari, ֏ dram). The SVG names them and the PDF draws them with the same files; the
#: generic family after them (which matplotlib reads as FONT_FAMILIES again) is for a viewer of
#: the SVG without them, such as Jupyter's.
FONT_FAMILIES = fonts.SANS
fonts.register_matplotlib()


FIG_WIDTH = 7.5  # inches: an A4 text column, and scales down cleanly on a phone
MINUS = "\u2212"

_STYLE_RC: dict[str, Any] = {
    "font.family": [*FONT_FAMILIES, "sans-serif"],
    "font.sans-serif": list(FONT_FAMILIES),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    # A fixed title height (matplotlib's default, None, re-measures every axis label on
    # each layout pass to dodge x-axis decorations at the top, and ours are never there):
    # the same place, without the cost.
    "axes.titley": 1.0,
    "axes.titlecolor": PALETTE["ink"],
    "axes.labelsize": 9.5,
    "axes.labelcolor": PALETTE["neutral"],
    "axes.edgecolor": "#b9c3c9",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,  # the horizontal grid carries the scale
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "axes.facecolor": "white",
    "axes.prop_cycle": mpl.cycler(color=list(CYCLE)),
    "grid.color": PALETTE["grid"],
    "grid.linewidth": 0.8,
    "grid.linestyle": "-",
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "xtick.color": PALETTE["neutral"],
    "ytick.color": PALETTE["neutral"],
    "xtick.labelcolor": PALETTE["ink"],
    "ytick.labelcolor": PALETTE["ink"],
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "xtick.minor.size": 0,
    "ytick.minor.size": 0,
    "xtick.major.pad": 5,
    "ytick.major.pad": 5,
    "legend.fontsize": 9,
    "legend.frameon": True,  # a plain white box: grid lines never run through a legend
    "legend.framealpha": 1.0,
    "legend.facecolor": "white",
    "legend.edgecolor": "white",
    "legend.fancybox": False,
    "legend.handlelength": 1.6,
    "legend.borderaxespad": 0.3,
    "legend.columnspacing": 1.4,
    "text.color": PALETTE["ink"],
    "figure.facecolor": "white",
    "figure.figsize": (FIG_WIDTH, 3.2),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.facecolor": "white",
    "svg.fonttype": "none",
    # Chart text is plain text: a "$" in a driver, feature or segment name from the data
    # must never become mathtext (it would be typeset, or raise on an unknown command).
    "text.parse_math": False,
    "lines.solid_capstyle": "round",
    "patch.linewidth": 0,
}

_styled = False


def apply_style() -> None:
    """Set the house look (seaborn theme + rcParams). Safe to call any number of times."""
    global _styled
    sns.set_theme(style="whitegrid", palette=list(CYCLE), rc=_STYLE_RC)
    mpl.rcParams.update(_STYLE_RC)
    _styled = True


def is_styled() -> bool:
    """Whether the house look has been applied in this process (`apply_style`)."""
    return _styled


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """The house look for the duration, then rcParams and `is_styled` exactly as before, so a
    warm-up that draws charts leaves this process looking like one that drew none."""
    global _styled
    styled = _styled
    try:
        with mpl.rc_context():
            apply_style()
            yield
    finally:
        _styled = styled


def new_ax(height: float = 3.2, width: float = FIG_WIDTH) -> Axes:
    """A fresh Axes on a house-size figure (constrained layout keeps labels inside it)."""
    if not _styled:
        apply_style()
    _fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def brand_cmap() -> LinearSegmentedColormap:
    """A sequential colormap from a near-white teal tint to the brand teal."""
    return LinearSegmentedColormap.from_list(
        "valuereview_brand", ["#f2f7f8", "#8dbcc4", PALETTE["brand"], "#0a3f48"]
    )


# --------------------------------------------------------------------------- formatting


def _finite(x: object) -> bool:
    try:
        return x is not None and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _trim(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def compact_number(x: float) -> str:
    """A short number for axes and labels: 950, 1.2k, 34k, 3.4M, 1.1B (empty if missing)."""
    if not _finite(x):
        return ""
    v = float(x)
    a = abs(v)
    sign = MINUS if v < 0 and a >= 0.005 else ""
    units = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
    for i, (div, suffix) in enumerate(units):
        if a >= div * 0.9995:
            scaled = a / div
            digits = 0 if scaled >= 100 else 1
            text = _trim(f"{scaled:.{digits}f}")
            if float(text) >= 1000 and i > 0:  # 999.96k rounds up to the next unit
                div, suffix = units[i - 1]
                text = _trim(f"{a / div:.1f}")
            return f"{sign}{text}{suffix}"
    digits = 0 if a >= 100 else (1 if a >= 10 else 2)
    text = _trim(f"{a:.{digits}f}")
    return "0" if text == "0" else f"{sign}{text}"


def percent(x: float) -> str:
    """A percent for values already on a 0–100 scale: 42%, 4.5% (empty if missing)."""
    if not _finite(x):
        return ""
    v = float(x)
    text = _trim(f"{abs(v):.1f}") if abs(v) < 10 and round(v) != v else f"{abs(v):.0f}"
    return f"{MINUS if v < 0 and text != '0' else ''}{text}%"


def _plain(x: float) -> str:
    """Up to one decimal, no trailing zeros: 42, 4.3, −12."""
    if not _finite(x):
        return ""
    v = float(x)
    text = _trim(f"{abs(v):.1f}")
    return f"{MINUS if v < 0 and text != '0' else ''}{text}"


def _month_year(d: Any) -> str:
    return pd.Timestamp(d).strftime("%b %Y")


_MEMO_LIMIT = 1024


def _memoized(fn: Callable[[float], str]) -> Callable[[float, Any], str]:
    """A tick-formatter function that formats each tick value once.

    Matplotlib formats every tick again on each layout and drawing pass (a chart is
    measured several times before it is saved), so a formatter that goes through
    locale or date machinery is worth remembering. Formatting is a pure function of
    the value, so the labels are the same.
    """
    memo: dict[float, str] = {}

    def format_tick(v: float, _pos: Any = None) -> str:
        try:
            return memo[v]
        except KeyError:
            text = fn(v)
            if len(memo) < _MEMO_LIMIT:
                memo[v] = text
            return text
        except TypeError:  # an unhashable value: nothing to remember
            return fn(v)

    return format_tick


def _axis_formatter(fmt: Fmt) -> FuncFormatter:
    return FuncFormatter(_memoized(fmt))


def _wrap(label: object, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width=width)) or str(label)


# --------------------------------------------------------------------------- helpers


def _checked(
    data: pd.DataFrame | None, required: Iterable[str], func: str, name: str = "data"
) -> pd.DataFrame | None:
    """The frame if it can be drawn, None if it is empty; ValueError naming a missing column."""
    if data is None:
        return None
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{func}(): {name} must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0 and len(data.columns) == 0:
        return None
    missing = [c for c in required if c not in data.columns]
    if missing:
        have = ", ".join(map(str, data.columns)) or "none"
        cols = ", ".join(repr(c) for c in missing)
        raise ValueError(
            f"{func}(): {name} has no column {cols} (columns present: {have})"
        )
    if len(data) == 0:
        return None
    return data


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _dates(s: pd.Series) -> np.ndarray:
    return mdates.date2num(pd.to_datetime(s).to_numpy())


def _empty(ax: Axes, text: str, title: str | None) -> Axes:
    """Draw an empty axes that says so, keeping the title."""
    ax.set_title(title or "")
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
        fontsize=10, color=PALETTE["neutral"],
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def _rows_height(n: int, per_row: float = 0.42, base: float = 0.9, low: float = 1.8,
                 high: float = 4.0) -> float:
    """Figure height for a one-row-per-item chart: grows with rows, within `low`–`high` in."""
    return float(min(high, max(low, base + per_row * n)))


#: A cohort heat map writes each cell's value up to this many rows and columns (colour and a
#: colour scale only beyond), labels at most HEATMAP_LABELS_MAX rows or columns (every k-th
#: beyond), and grows to at most _HEATMAP_MAX_HEIGHT inches.
HEATMAP_ANNOT_MAX = 24
HEATMAP_LABELS_MAX = 24
_HEATMAP_MAX_HEIGHT = 6.0


def _heatmap_height(rows: int) -> float:
    """0.3 in a row within 1.8–4 in up to 16 rows; past that 0.15 in a row, up to 6 in."""
    if rows <= 16:
        return _rows_height(rows, per_row=0.3, base=1.2)
    return float(min(_HEATMAP_MAX_HEIGHT, 4.0 + 0.15 * (rows - 16)))


def _labels(ax: Axes, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    ax.set_title(title or "")
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")


def _category_limits(ax: Axes, n: int, slots: int = 4) -> None:
    """Keep few categories from becoming fat bars: at least `slots` widths, centred."""
    pad = max(0.5, (slots - n) / 2)
    ax.set_xlim(-pad, n - 1 + pad)


def _date_axis(ax: Axes, x: np.ndarray, date_fmt: DateFmt | None, max_exact: int = 8) -> None:
    """Ticks at the data's own dates when few, otherwise automatic; labels via date_fmt."""
    date_fmt = date_fmt or _month_year
    uniq = np.unique(x[np.isfinite(x)])
    if len(uniq) <= max_exact:
        ax.set_xticks(uniq)
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.xaxis.set_major_formatter(
        FuncFormatter(_memoized(lambda v: date_fmt(mdates.num2date(v).replace(tzinfo=None))))
    )
    if len(uniq) == 1:
        ax.set_xlim(uniq[0] - 45, uniq[0] + 45)
    elif len(uniq) > 1:
        span = uniq[-1] - uniq[0]
        ax.set_xlim(uniq[0] - 0.03 * span, uniq[-1] + 0.03 * span)


def _locator(nbins: int = 5, integer: bool = False) -> MaxNLocator:
    """Ticks on round steps (1, 2, 2.5, 5 × 10^k) only."""
    return MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10], integer=integer)


def _headroom(ax: Axes, top: float, factor: float = 1.08, bottom: float = 0.0) -> None:
    """Start at zero (or below) and leave a little air above the highest value."""
    if not _finite(top) or top <= bottom:
        top = bottom + 1
    ax.set_ylim(bottom, bottom + (top - bottom) * factor)


def _nice_ceil(x: float) -> float:
    """The smallest 1/2/2.5/5×10^k step not below x."""
    if x <= 0 or not _finite(x):
        return 1.0
    exp = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= x * (1 - 1e-9):
            return m * exp
    return 10 * exp  # pragma: no cover


def _ref_line(ax: Axes, value: float, label: str | None) -> None:
    """A dashed horizontal reference line, its label just outside the right edge."""
    ax.axhline(value, color=PALETTE["neutral"], lw=1, ls=(0, (4, 3)), zorder=1.5)
    if label:
        ax.text(
            1.01, value, label, transform=blended_transform_factory(ax.transAxes, ax.transData),
            ha="left", va="center", fontsize=8.5, color=PALETTE["neutral"], clip_on=False,
        )


def _renderer(ax: Axes) -> Any:
    """The figure's renderer, for measuring text (None if the canvas has none).

    Measured before the layout engine runs, the axes is a little narrower than it will be
    drawn, so fitting decisions err on the legible side (and cost no layout pass).
    """
    fig = ax.figure
    # Raster canvases (Agg, Jupyter inline) have one; others (svg, pdf) get a dry-run one.
    get = getattr(fig.canvas, "get_renderer", None) or getattr(fig, "_get_renderer", None)
    if get is None:  # pragma: no cover
        return None
    return get()


def _collide(ax: Axes, texts: Sequence[Any], gap_px: float = 2.0) -> bool:
    """Whether any two of these texts overlap on the rendered figure."""
    renderer = _renderer(ax)
    if renderer is None:  # pragma: no cover
        return False
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_text()]
    boxes.sort(key=lambda b: b.x0)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if b.x0 >= a.x1 + gap_px:
                break
            if b.y0 < a.y1 and a.y0 < b.y1:
                return True
    return False


def _fit_category_labels(ax: Axes) -> None:
    """Slant the x tick labels when they are wider than their slots."""
    renderer = _renderer(ax)
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    if renderer is None or len(labels) < 2:
        return
    widest = max(t.get_window_extent(renderer).width for t in labels)
    lo, hi = ax.get_xlim()
    slot = ax.get_window_extent(renderer).width / max(abs(hi - lo), 1e-9)
    if widest > slot * 0.92:
        for t in labels:
            t.set_rotation(35)
            t.set_horizontalalignment("right")
            t.set_rotation_mode("anchor")


def _ramp(n: int) -> list[str]:
    """n colours from bad through accent to good, for ordered bands without known names."""
    if n == 1:
        return [PALETTE["brand"]]
    stops = [to_rgb(PALETTE["bad"]), to_rgb(PALETTE["accent"]), to_rgb(PALETTE["good"])]
    out = []
    for i in range(n):
        t = 2 * i / (n - 1)
        k = min(int(t), 1)
        f = t - k
        rgb = tuple(a + (b - a) * f for a, b in zip(stops[k], stops[k + 1], strict=True))
        out.append(to_hex(rgb))
    return out


_LEGEND_FRAME: dict[str, Any] = {
    "frameon": True, "framealpha": 1.0, "facecolor": "white", "edgecolor": "white",
    "fancybox": False,
}


def _legend(ax: Axes, **kwargs: Any) -> None:
    leg = ax.legend(**{**_LEGEND_FRAME, **kwargs})
    if leg is not None:
        for t in leg.get_texts():
            t.set_color(PALETTE["ink"])


def _top_legend(
    ax: Axes, handles: Sequence[Any], labels: Sequence[str], *, host: Axes | None = None
) -> None:
    """A legend between the title and the plot, so it never covers data.

    Falls back to fewer columns when the labels (e.g. translated) are wider than the axes,
    and raises the title by the legend's height.
    """
    host = host or ax
    if host.get_legend() is not None:
        host.get_legend().remove()
    if not labels:
        return
    fig = ax.figure
    renderer = _renderer(ax)
    ncol = len(labels)
    while True:
        leg = host.legend(
            list(handles), list(labels), loc="lower left", bbox_to_anchor=(0.0, 1.0),
            borderaxespad=0.2, borderpad=0.2, ncol=ncol, **_LEGEND_FRAME,
        )
        for t in leg.get_texts():
            t.set_color(PALETTE["ink"])
        if renderer is None or ncol == 1:
            break
        if leg.get_window_extent(renderer).width <= ax.get_window_extent(renderer).width:
            break
        leg.remove()
        ncol -= 1
    if renderer is not None:
        height_pt = leg.get_window_extent(renderer).height * 72 / fig.dpi
    else:  # pragma: no cover - every stock canvas has a renderer
        rows = math.ceil(len(labels) / ncol)
        height_pt = rows * 1.6 * float(mpl.rcParams["legend.fontsize"] or 9)
    pad = float(mpl.rcParams["axes.titlepad"]) + height_pt + 2
    for loc in ("left", "center", "right"):
        text = ax.get_title(loc=loc)
        if text:
            ax.set_title(text, loc=loc, pad=pad)


# --------------------------------------------------------------------------- value review


def driver_progress(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    title: str | None = "Value realized toward target",
    fmt: Fmt | None = None,
    empty_text: str = "No data",
) -> Axes:
    """One row per value driver: progress toward its target (0–100) on a light 100% track.

    Columns: ``driver``, ``progress_pct``; optional ``label`` (e.g. "8.0 → 6.0 → 4.0 weeks")
    is shown at the right end of each row. ``fmt`` formats the percent annotations.
    """
    df = _checked(data, ["driver", "progress_pct"], "driver_progress")
    n = 0 if df is None else len(df)
    if ax is None:
        ax = new_ax(height=_rows_height(n, per_row=0.4, base=0.8, low=1.5))
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or percent

    y = np.arange(n)
    p = _num(df["progress_pct"])
    shown = np.clip(np.nan_to_num(p, nan=0.0), 0, None)
    xmax = max(100.0, float(shown.max()))
    bar_h = 0.5
    ax.barh(y, 100, height=bar_h, color=PALETTE["track"], label="_track", zorder=1)
    ax.barh(y, shown, height=bar_h, color=PALETTE["brand"], label="_progress", zorder=2)
    for yi, pi, si in zip(y, p, shown, strict=True):
        text = fmt(pi) if _finite(pi) else "\u2013"
        inside = si > xmax * 0.86
        ax.text(
            si - xmax * 0.012 if inside else si + xmax * 0.012, yi, text,
            ha="right" if inside else "left", va="center", fontsize=9, fontweight="bold",
            color="white" if inside else PALETTE["ink"], zorder=3,
        )
    ax.set_xlim(0, xmax * 1.01)
    pad = max(0.0, (2 - n) / 2)  # one or two drivers still get slim bars
    ax.set_ylim(n - 0.45 + pad, -0.55 - pad)
    ax.set_yticks(y, [_wrap(d, 28) for d in df["driver"]])
    ax.xaxis.set_visible(False)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title or "")

    if "label" in df.columns and df["label"].notna().any():
        right = ax.twinx()
        right.set_ylim(ax.get_ylim())
        right.set_yticks(y, ["" if pd.isna(v) else str(v) for v in df["label"]])
        right.tick_params(axis="y", length=0, labelsize=9, labelcolor=PALETTE["neutral"])
        right.grid(False)
        for spine in right.spines.values():
            spine.set_visible(False)
    return ax


def cumulative_value(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    date_fmt: DateFmt | None = None,
    title: str | None = "Cumulative value against cost",
    xlabel: str | None = None,
    ylabel: str | None = None,
    value_label: str = "Value delivered",
    cost_label: str = "Cost",
    payback_label: str = "Payback reached",
    empty_text: str = "No data",
) -> Axes:
    """Cumulative value (brand) against cumulative cost (grey, dashed); value above cost shaded.

    Columns: ``period_end`` (date), ``cumulative_value``, ``cumulative_cost``.
    """
    df = _checked(
        data, ["period_end", "cumulative_value", "cumulative_cost"], "cumulative_value"
    )
    if ax is None:
        ax = new_ax()
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or compact_number
    df = df.sort_values("period_end")
    x = _dates(df["period_end"])
    v = _num(df["cumulative_value"])
    c = _num(df["cumulative_cost"])
    ahead = np.nan_to_num(v, nan=-np.inf) >= np.nan_to_num(c, nan=np.inf)

    ax.fill_between(
        x, c, v, where=ahead, interpolate=True, color=PALETTE["brand_light"], lw=0,
        label=payback_label if ahead.any() else "_payback", zorder=1,
    )
    marker = "o" if len(df) <= 16 else None
    ms = 6.5 if len(df) == 1 else 4.5
    ax.plot(
        x, c, color=PALETTE["muted"], lw=1.8, ls=(0, (4, 3)), marker=marker, ms=ms - 1,
        label=cost_label, zorder=2,
    )
    ax.plot(
        x, v, color=PALETTE["brand"], lw=2.2, marker=marker, ms=ms, mec="white", mew=0.8,
        label=value_label, zorder=3,
    )
    top = np.nanmax(np.concatenate([v, c])) if np.isfinite(np.concatenate([v, c])).any() else 1
    low = min(0.0, float(np.nanmin(np.concatenate([v, c, [0.0]]))))
    _headroom(ax, float(top), bottom=low)
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    ax.yaxis.set_major_locator(_locator(5))
    _date_axis(ax, x, date_fmt)
    _labels(ax, title, xlabel, ylabel)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(lbl) for lbl in (value_label, cost_label, payback_label) if lbl in labels]
    _top_legend(ax, [handles[i] for i in order], [labels[i] for i in order])
    return ax


def adoption_trend(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    date_fmt: DateFmt | None = None,
    title: str | None = "Active users and licensed seats",
    xlabel: str | None = None,
    ylabel: str | None = None,
    users_label: str = "Active users",
    seats_label: str = "Licensed seats",
    empty_text: str = "No data",
) -> Axes:
    """Active users (brand line, light area) against licensed seats (grey step line).

    Columns: ``date``, ``active_users``, ``licensed_seats``.
    """
    df = _checked(data, ["date", "active_users", "licensed_seats"], "adoption_trend")
    if ax is None:
        ax = new_ax()
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or compact_number
    df = df.sort_values("date")
    x = _dates(df["date"])
    users = _num(df["active_users"])
    seats = _num(df["licensed_seats"])
    many = len(df) > 24

    ax.fill_between(x, users, color=PALETTE["brand_light"], alpha=0.55, lw=0, zorder=1)
    ax.step(x, seats, where="post", color=PALETTE["muted"], lw=1.8, label=seats_label, zorder=2)
    ax.plot(
        x, users, color=PALETTE["brand"], lw=2 if many else 2.2,
        marker=None if many else "o", ms=4, mec="white", mew=0.8, label=users_label, zorder=3,
    )
    both = np.concatenate([users, seats])
    _headroom(ax, float(np.nanmax(both)) if np.isfinite(both).any() else 1.0)
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    ax.yaxis.set_major_locator(_locator(5, integer=True))
    _date_axis(ax, x, date_fmt)
    _labels(ax, title, xlabel, ylabel)
    handles, labels = ax.get_legend_handles_labels()
    _top_legend(ax, handles[::-1], labels[::-1])
    return ax


def feature_adoption(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    title: str | None = "Feature adoption",
    xlabel: str | None = "Share of active users",
    account_label: str = "This account",
    peer_label: str = "Peer median",
    empty_text: str = "No data",
) -> Axes:
    """Adoption per feature as horizontal bars, highest first, with the peer median marked.

    Columns: ``feature``, ``adoption_pct`` (0–100); optional ``peer_pct`` (0–100).
    """
    df = _checked(data, ["feature", "adoption_pct"], "feature_adoption")
    n = 0 if df is None else len(df)
    if ax is None:
        ax = new_ax(height=_rows_height(n, per_row=0.36, base=1.1))
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or percent
    df = df.assign(_a=_num(df["adoption_pct"])).sort_values("_a", ascending=False, kind="stable")
    y = np.arange(n)
    a = df["_a"].to_numpy()
    has_peer = "peer_pct" in df.columns and df["peer_pct"].notna().any()
    peer = _num(df["peer_pct"]) if has_peer else np.full(n, np.nan)

    ax.barh(y, np.nan_to_num(a), height=0.6, color=PALETTE["brand"], label=account_label,
            zorder=2)
    if has_peer:
        ax.plot(
            peer, y, ls="none", marker="|", ms=15, mew=2.6, color=PALETTE["accent"],
            label=peer_label, zorder=3,
        )
    xmax = max(100.0, float(np.nanmax(np.concatenate([a, peer, [0.0]]))))
    for yi, ai, pi in zip(y, a, peer, strict=True):
        if not _finite(ai):
            continue
        end = max(ai, pi) if _finite(pi) else ai
        ax.text(end + xmax * 0.015, yi, fmt(ai), ha="left", va="center", fontsize=9,
                color=PALETTE["ink"], zorder=4)
    ax.set_xlim(0, xmax * 1.1)
    pad = max(0.0, (2 - n) / 2)
    ax.set_ylim(n - 0.4 + pad, -0.6 - pad)
    ax.set_yticks(y, [_wrap(f, 26) for f in df["feature"]])
    ax.xaxis.set_major_formatter(_axis_formatter(fmt))
    ax.set_xticks([t for t in (0, 25, 50, 75, 100) if t <= xmax])
    ax.grid(False)
    ax.grid(axis="x", visible=True)
    ax.spines["left"].set_visible(False)
    _labels(ax, title, xlabel, None)
    if has_peer:
        handles, labels = ax.get_legend_handles_labels()
        _top_legend(ax, handles[::-1], labels[::-1])
    return ax


def score_trend(
    data: pd.DataFrame | None,
    *,
    x: str = "period",
    y: str = "value",
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    ylim: tuple[float, float] | None = None,
    ref: float | None = None,
    ref_label: str | None = None,
    title: str | None = "Score by quarter",
    xlabel: str | None = None,
    ylabel: str | None = None,
    color: str | None = None,
    empty_text: str = "No data",
) -> Axes:
    """A quarterly score (NPS, CSAT...) as a line with labelled points.

    ``x`` holds period labels (drawn as categories, in data order), ``y`` the scores.
    ``ref`` draws a dashed reference line (e.g. a target or the peer median) with ``ref_label``.
    """
    df = _checked(data, [x, y], "score_trend")
    if ax is None:
        ax = new_ax(height=2.9)
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or _plain
    color = color or PALETTE["brand"]
    pos = np.arange(len(df))
    vals = _num(df[y])

    ax.plot(pos, vals, color=color, lw=2.2, marker="o", ms=6.5, mec="white", mew=1.2, zorder=3)
    for p, v in zip(pos, vals, strict=True):
        if _finite(v):
            ax.annotate(
                fmt(v), (p, v), xytext=(0, 8), textcoords="offset points", ha="center",
                va="bottom", fontsize=9, fontweight="bold", color=PALETTE["ink"], zorder=4,
            )
    if ref is not None:
        _ref_line(ax, ref, ref_label)
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        known = vals[np.isfinite(vals)].tolist() + ([ref] if ref is not None else [])
        if known:
            lo, hi = min(known), max(known)
            span = (hi - lo) or (abs(hi) * 0.2) or 1.0
            ax.set_ylim(lo - 0.3 * span, hi + 0.4 * span)
    ax.set_xticks(pos, [str(v) for v in df[x]])
    _category_limits(ax, len(df), slots=2)
    ax.yaxis.set_major_locator(_locator(5))
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    _labels(ax, title, xlabel, ylabel)
    _fit_category_labels(ax)
    return ax


def support_trend(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    hours_fmt: Fmt | None = None,
    title: str | None = "Support tickets and resolution time",
    xlabel: str | None = None,
    ylabel: str | None = "Tickets",
    ylabel_right: str | None = "Hours",
    tickets_label: str = "Tickets",
    resolution_label: str = "Median resolution (hours)",
    empty_text: str = "No data",
) -> Axes:
    """Ticket volume per period (bars) and median resolution time (line, right axis).

    Columns: ``period``, ``tickets``, ``median_resolution_hours``. Returns the primary
    (tickets) Axes; the twin is ``ax.right_ax``.
    """
    df = _checked(data, ["period", "tickets", "median_resolution_hours"], "support_trend")
    if ax is None:
        ax = new_ax(height=3.0)
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or compact_number
    hours_fmt = hours_fmt or _plain
    pos = np.arange(len(df))
    tickets = _num(df["tickets"])
    hours = _num(df["median_resolution_hours"])

    ax.bar(pos, np.nan_to_num(tickets), width=0.6, color=PALETTE["brand"], label=tickets_label,
           zorder=2)
    right = ax.twinx()
    right.plot(
        pos, hours, color=PALETTE["accent"], lw=2.2, marker="o", ms=6, mec="white", mew=1.2,
        label=resolution_label, zorder=3,
    )
    # Align the two scales so both sets of ticks sit on the same grid lines.
    tmax = float(np.nanmax(tickets)) if np.isfinite(tickets).any() else 1.0
    ticks = _locator(5, integer=True).tick_values(0, max(tmax, 1.0) * 1.08)
    ticks = ticks[ticks >= 0]
    k = max(len(ticks) - 1, 1)
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    ax.set_ylim(0, step * k)
    ax.set_yticks(np.arange(k + 1) * step)
    hmax = float(np.nanmax(hours)) if np.isfinite(hours).any() else 1.0
    hstep = _nice_ceil(max(hmax, 1e-9) * 1.08 / k)
    right.set_ylim(0, hstep * k)
    right.set_yticks(np.arange(k + 1) * hstep)

    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    right.yaxis.set_major_formatter(_axis_formatter(hours_fmt))
    right.grid(False)
    for spine in right.spines.values():
        spine.set_visible(False)
    right.tick_params(axis="y", length=0, labelcolor=PALETTE["ink"])
    right.set_ylabel(ylabel_right or "")
    ax.set_xticks(pos, [str(v) for v in df["period"]])
    _category_limits(ax, len(df))
    _labels(ax, title, xlabel, ylabel)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    _top_legend(ax, h1 + h2, l1 + l2, host=right)
    _fit_category_labels(ax)
    ax.right_ax = right  # type: ignore[attr-defined]
    return ax


def arr_history(
    data: pd.DataFrame | None,
    *,
    events: pd.DataFrame | None = None,
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    date_fmt: DateFmt | None = None,
    title: str | None = "Annual recurring revenue",
    xlabel: str | None = None,
    ylabel: str | None = None,
    arr_label: str = "ARR",
    event_labels: Mapping[str, str] | None = None,
    empty_text: str = "No data",
) -> Axes:
    """ARR by month as a step line over a light area; optional events marked on it.

    Columns: ``month``, ``arr``. ``events`` (optional): ``month``, ``kind`` in
    new / expansion / contraction / churn, drawn in good / bad colours; ``event_labels``
    maps each kind to its legend label.
    """
    df = _checked(data, ["month", "arr"], "arr_history")
    ev = _checked(events, ["month", "kind"], "arr_history", name="events")
    if ax is None:
        ax = new_ax()
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or compact_number
    labels_for = {**EVENT_LABELS, **(event_labels or {})}
    df = df.sort_values("month")
    x = _dates(df["month"])
    arr = _num(df["arr"])

    ax.fill_between(x, arr, step="post", color=PALETTE["brand_light"], alpha=0.6, lw=0, zorder=1)
    ax.step(x, arr, where="post", color=PALETTE["brand"], lw=2.2, label=arr_label, zorder=2)
    if len(df) == 1:
        ax.plot(x, arr, ls="none", marker="o", ms=5, color=PALETTE["brand"], zorder=2)

    if ev is not None:
        ex = _dates(ev["month"])
        # Each event sits on the ARR step in force at its month; events outside the
        # drawn months have no step to sit on and are left out.
        inside = (ex >= x[0]) & (ex <= x[-1] + 31)
        ex = ex[inside]
        idx = np.clip(np.searchsorted(x, ex, side="right") - 1, 0, len(x) - 1)
        ey = arr[idx]
        kinds = ev["kind"].astype(str).to_numpy()[inside]
        for kind in dict.fromkeys(kinds):
            sel = kinds == kind
            color, marker = _EVENT_STYLE.get(kind, (PALETTE["neutral"], "o"))
            ax.plot(
                ex[sel], ey[sel], ls="none", marker=marker, ms=8, color=color, mec="white",
                mew=1.2, label=labels_for.get(kind, kind), zorder=4, clip_on=False,
            )

    top = float(np.nanmax(arr)) if np.isfinite(arr).any() else 1.0
    _headroom(ax, top)
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    ax.yaxis.set_major_locator(_locator(5))
    _date_axis(ax, x, date_fmt, max_exact=6)
    _labels(ax, title, xlabel, ylabel)
    handles, labels = ax.get_legend_handles_labels()
    _top_legend(ax, handles, labels)
    return ax


# --------------------------------------------------------------------------- portfolio


def retention_bars(
    data: pd.DataFrame | None,
    *,
    x: str = "group",
    y: str = "value",
    hue: str | None = "metric",
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    order: Sequence[str] | None = None,
    hue_order: Sequence[str] | None = None,
    palette: Sequence[str] | Mapping[str, str] | None = None,
    ref: float | None = 100.0,
    ref_label: str | None = None,
    bar_labels: bool | None = None,
    title: str | None = "Retention by segment",
    xlabel: str | None = None,
    ylabel: str | None = None,
    empty_text: str = "No data",
) -> Axes:
    """Grouped bars (e.g. GRR and NRR per segment, in percent) with a reference line at 100.

    ``bar_labels`` writes each value above its bar (default: when the labels don't collide).
    """
    required = [x, y] + ([hue] if hue else [])
    df = _checked(data, required, "retention_bars")
    if ax is None:
        ax = new_ax()
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or percent
    df = df.assign(**{x: df[x].astype(str), y: _num(df[y])})
    if hue:
        df = df.assign(**{hue: df[hue].astype(str)})
    keys = [x] + ([hue] if hue else [])
    dup = df.duplicated(keys)
    if dup.any():
        first = df[dup].iloc[0]
        where = ", ".join(f"{k}={first[k]!r}" for k in keys)
        raise ValueError(f"retention_bars(): more than one {y!r} for {where}")
    groups = [str(g) for g in order] if order is not None else list(dict.fromkeys(df[x]))
    levels: list[str | None]
    if hue:
        levels = ([str(h) for h in hue_order] if hue_order is not None
                  else list(dict.fromkeys(df[hue])))
        colors = _hue_colors(levels, palette)
    else:
        levels, colors = [None], {None: PALETTE["brand"]}
    slot = {g: i for i, g in enumerate(groups)}
    width = 0.72 / len(levels)
    drawn: list[tuple[Any, np.ndarray]] = []
    for j, level in enumerate(levels):
        part = df if level is None else df[df[hue] == level]
        part = part[part[x].isin(slot)]
        pos = np.array([slot[g] for g in part[x]], dtype=float) - 0.36 + width * (j + 0.5)
        heights = part[y].to_numpy(dtype=float)
        cont = ax.bar(pos, np.nan_to_num(heights), width=width, color=colors[level],
                      label="_bars" if level is None else level, zorder=2)
        drawn.append((cont, heights))
    vals = df[y].to_numpy(dtype=float)
    known = vals[np.isfinite(vals)].tolist() + ([ref] if ref is not None else [])
    top = max(known) if known else 1.0
    _headroom(ax, top, factor=1.12, bottom=min(0.0, min(known) if known else 0.0))
    if ref is not None:
        _ref_line(ax, ref, ref_label)
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    ax.yaxis.set_major_locator(_locator(5))
    ax.set_xticks(range(len(groups)), [_wrap(g, 14) for g in groups])
    _category_limits(ax, len(groups), slots=4)
    _labels(ax, title, xlabel, ylabel)
    if hue:
        _top_legend(ax, *ax.get_legend_handles_labels())
    _fit_category_labels(ax)
    if bar_labels is not False:
        texts = []
        for cont, heights in drawn:
            texts += ax.bar_label(
                cont, labels=[fmt(v) if _finite(v) else "" for v in heights],
                padding=2, fontsize=8.5, color=PALETTE["ink"], zorder=4,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"},
            )
        if bar_labels is None and _collide(ax, texts):  # too many bars to label legibly
            for t in texts:
                t.remove()
    return ax


def cohort_heatmap(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    fmt: str | Fmt = "{:.0f}%",
    vmin: float | None = None,
    vmax: float | None = None,
    annot: bool = True,
    cbar: bool = False,
    title: str | None = "Retention by cohort",
    xlabel: str | None = "Periods since start",
    ylabel: str | None = "Cohort",
    empty_text: str = "No data",
) -> Axes:
    """Cohort retention as a heatmap: rows are cohorts, columns periods since start.

    ``data`` is wide: index = cohort label, columns = periods, values = retention percent;
    NaN (not yet observed) stays blank. ``fmt`` is a format string or a callable.
    """
    if data is not None and not isinstance(data, pd.DataFrame):
        raise TypeError(f"cohort_heatmap(): data must be a pandas DataFrame, got "
                        f"{type(data).__name__}")
    rows = 0 if data is None else len(data)
    if ax is None:
        ax = new_ax(height=_heatmap_height(rows))
    if data is None or data.size == 0:
        return _empty(ax, empty_text, title)
    grid = data.apply(pd.to_numeric, errors="coerce").astype(float)
    if not np.isfinite(grid.to_numpy()).any():
        return _empty(ax, empty_text, title)
    fmt_fn: Fmt = fmt.format if isinstance(fmt, str) else fmt
    values = grid.to_numpy()
    n_rows, n_cols = grid.shape
    # Past HEATMAP_ANNOT_MAX rows or columns the numbers no longer fit their cells: the colour
    # (and its scale, drawn then) carries the values.
    annot = annot and max(n_rows, n_cols) <= HEATMAP_ANNOT_MAX
    texts = np.array(
        [[fmt_fn(v) if _finite(v) else "" for v in row] for row in values], dtype=object
    ) if annot else False
    size = 8.5 if n_cols <= 12 else (7.5 if n_cols <= 18 else 6.5)
    # Every label as text, thinned to every k-th when there are more than fit (seaborn's own
    # "auto" thinning would not match labels set afterwards).
    xstep = max(1, math.ceil(n_cols / HEATMAP_LABELS_MAX))
    ystep = max(1, math.ceil(n_rows / HEATMAP_LABELS_MAX))
    sns.heatmap(
        grid, ax=ax, cmap=brand_cmap(), vmin=vmin, vmax=vmax, annot=texts, fmt="",
        annot_kws={"fontsize": size}, linewidths=1.5 if max(n_rows, n_cols) <= 24 else 0.5,
        linecolor="white", cbar=cbar or not annot, square=False,
        cbar_kws={"format": _axis_formatter(fmt_fn), "shrink": 0.8},
        xticklabels=[str(v) if i % xstep == 0 else "" for i, v in enumerate(grid.columns)],
        yticklabels=[str(v) if i % ystep == 0 else "" for i, v in enumerate(grid.index)],
    )
    ax.grid(False)
    ax.tick_params(axis="both", length=0)
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=0)
    _labels(ax, title, xlabel, ylabel)
    return ax


def survival_curves(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    hue_order: Sequence[str] | None = None,
    palette: Sequence[str] | Mapping[str, str] | None = None,
    title: str | None = "Customers retained by segment",
    xlabel: str | None = "Periods since start",
    ylabel: str | None = None,
    observed_label: str = "Observed",
    projected_label: str = "Projected",
    empty_text: str = "No data",
) -> Axes:
    """Share of customers still retained over time per segment: observed points, projected lines.

    Columns: ``period``, ``survival_pct`` (0–100), ``group``, ``kind`` ("observed" or
    "projected").
    """
    df = _checked(data, ["period", "survival_pct", "group", "kind"], "survival_curves")
    if ax is None:
        ax = new_ax(height=3.4)
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or percent
    kinds = df["kind"].astype(str)
    bad = sorted(set(kinds) - {"observed", "projected"})
    if bad:
        raise ValueError(
            f"survival_curves(): column 'kind' must be 'observed' or 'projected', got {bad[0]!r}"
        )
    groups = list(hue_order) if hue_order is not None else list(dict.fromkeys(df["group"]))
    colors = _hue_colors(groups, palette)
    handles: list[Any] = []
    for g in groups:
        part = df[df["group"] == g].sort_values("period")
        color = colors[g]
        proj = part[part["kind"].astype(str) == "projected"]
        obs = part[part["kind"].astype(str) == "observed"]
        if len(proj):
            ax.plot(_num(proj["period"]), _num(proj["survival_pct"]), color=color, lw=2,
                    zorder=2)
        if len(obs):
            ax.plot(_num(obs["period"]), _num(obs["survival_pct"]), ls="none", marker="o",
                    ms=5.5, color=color, mec="white", mew=0.9, zorder=3)
        handles.append(Line2D([], [], color=color, lw=2, marker="o", ms=5.5, mec="white",
                              label=str(g)))
    handles.append(Line2D([], [], color="none", label=" "))
    handles.append(Line2D([], [], ls="none", marker="o", ms=5.5, color=PALETTE["neutral"],
                          mec="white", label=observed_label))
    handles.append(Line2D([], [], lw=2, color=PALETTE["neutral"], label=projected_label))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_locator(_locator(5))
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    ax.xaxis.set_major_locator(_locator(8, integer=True))
    periods = _num(df["period"])
    if np.isfinite(periods).any():
        lo, hi = float(np.nanmin(periods)), float(np.nanmax(periods))
        if hi == lo:
            ax.set_xticks([lo])
        pad = max(0.3, 0.02 * (hi - lo))
        ax.set_xlim(lo - pad, hi + pad)
    _labels(ax, title, xlabel, ylabel)
    _legend(ax, handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _hue_colors(
    levels: Sequence[Any], palette: Sequence[str] | Mapping[str, str] | None
) -> dict[Any, str]:
    if isinstance(palette, Mapping):
        return {lv: palette.get(lv, PALETTE["neutral"]) for lv in levels}
    colors = list(palette) if palette is not None else list(CYCLE)
    if len(levels) > len(colors):
        colors = [to_hex(c) for c in sns.color_palette(colors, n_colors=len(levels))]
    return {lv: colors[i % len(colors)] for i, lv in enumerate(levels)}


def health_distribution(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    band_order: Sequence[str] | None = None,
    palette: Sequence[str] | Mapping[str, str] | None = None,
    bins: int | Sequence[float] = 20,
    binrange: tuple[float, float] | None = (0, 100),
    fmt: Fmt | None = None,
    title: str | None = "Health score distribution",
    xlabel: str | None = "Health score",
    ylabel: str | None = "Accounts",
    empty_text: str = "No data",
) -> Axes:
    """How many accounts sit at each health score: a histogram stacked by band, in band colours.

    Columns: ``health``, ``band``. Bands are ordered worst → best: ``band_order`` if given,
    else At risk / Watch / Healthy, else by their median score. ``binrange`` defaults to the
    0–100 health scale; pass None to fit the data.
    """
    df = _checked(data, ["health", "band"], "health_distribution")
    if ax is None:
        ax = new_ax(height=3.0)
    if df is None:
        return _empty(ax, empty_text, title)
    df = df.assign(health=_num(df["health"]), band=df["band"].astype(str))
    known = df["health"].dropna()
    if binrange is not None and len(known) and (
        known.min() < binrange[0] or known.max() > binrange[1]
    ):
        binrange = None  # scores outside the expected scale: never hide an account
    present = list(dict.fromkeys(df["band"]))
    if band_order is not None:
        order = [str(b) for b in band_order]
        order += [b for b in present if b not in order]  # never drop an account
    elif set(present) <= set(BAND_COLORS):
        order = [b for b in BAND_COLORS if b in present]
    else:
        order = list(df.groupby("band")["health"].median().sort_values().index)
    if isinstance(palette, Mapping):
        colors = {b: palette.get(b, PALETTE["neutral"]) for b in order}
    elif palette is not None:
        colors = dict(zip(order, palette, strict=False))
    elif set(order) <= set(BAND_COLORS):
        colors = {b: BAND_COLORS[b] for b in order}
    else:
        colors = dict(zip(order, _ramp(len(order)), strict=True))
    health = df["health"].to_numpy(dtype=float)
    ok = np.isfinite(health)
    if not ok.any():
        return _empty(ax, empty_text, title)
    edges = np.histogram_bin_edges(health[ok], bins=bins, range=binrange)
    stack = np.zeros(len(edges) - 1)
    bands = df["band"].to_numpy()
    for band in order:
        counts = np.histogram(health[ok & (bands == band)], edges)[0]
        ax.bar(edges[:-1], counts, width=np.diff(edges), bottom=stack, align="edge",
               color=colors.get(band, PALETTE["neutral"]), edgecolor="white", linewidth=0.6,
               label=band if counts.any() else "_empty", zorder=2)
        stack = stack + counts
    span = edges[-1] - edges[0]
    ax.set_xlim(edges[0] - 0.02 * span, edges[-1] + 0.02 * span)
    _headroom(ax, float(stack.max()), factor=1.06)
    ax.yaxis.set_major_locator(_locator(5, integer=True))
    if fmt is not None:
        ax.xaxis.set_major_formatter(_axis_formatter(fmt))
    _labels(ax, title, xlabel, ylabel)
    _top_legend(ax, *ax.get_legend_handles_labels())
    return ax


def roc_curve(
    data: pd.DataFrame | None,
    *,
    ax: Axes | None = None,
    auc_label: str | None = None,
    fmt: Fmt | None = None,
    title: str | None = "Health score against actual churn",
    xlabel: str | None = "False positive rate",
    ylabel: str | None = "True positive rate",
    curve_label: str = "Health score",
    chance_label: str = "Chance",
    empty_text: str = "No data",
) -> Axes:
    """A ROC curve (``fpr``, ``tpr`` on 0–1) against the chance diagonal; ``auc_label`` e.g.
    "AUC 0.82" is written in the open lower-right corner."""
    df = _checked(data, ["fpr", "tpr"], "roc_curve")
    if ax is None:
        ax = new_ax(height=3.6, width=4.6)
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or (lambda v: _trim(f"{v:.1f}") if _finite(v) else "")
    ax.plot([0, 1], [0, 1], color=PALETTE["muted"], lw=1.2, ls=(0, (4, 3)),
            label=chance_label, zorder=1)
    fpr, tpr = _num(df["fpr"]), _num(df["tpr"])
    ax.fill_between(fpr, tpr, color=PALETTE["brand_light"], alpha=0.45, lw=0, zorder=1)
    ax.plot(fpr, tpr, color=PALETTE["brand"], lw=2.2, label=curve_label, zorder=3,
            marker="o" if len(df) == 1 else None)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_aspect("equal", adjustable="box")
    ticks = np.linspace(0, 1, 6)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.spines["left"].set_visible(True)
    ax.xaxis.set_major_formatter(_axis_formatter(fmt))
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    _labels(ax, title, xlabel, ylabel)
    handles, labels = ax.get_legend_handles_labels()
    _legend(ax, handles=handles[::-1], labels=labels[::-1], loc="lower right",
            title=auc_label, alignment="left",
            title_fontproperties={"weight": "bold", "size": 9.5})
    return ax


def value_by_group(
    data: pd.DataFrame | None,
    *,
    x: str = "group",
    y: str = "value",
    ax: Axes | None = None,
    fmt: Fmt | None = None,
    sort: bool = True,
    color: str | None = None,
    title: str | None = "Value delivered by group",
    xlabel: str | None = None,
    empty_text: str = "No data",
) -> Axes:
    """One horizontal bar per group (``x`` = category, ``y`` = amount), labelled with ``fmt``.

    ``sort`` puts the largest first; negative amounts are drawn in the bad colour.
    """
    df = _checked(data, [x, y], "value_by_group")
    n = 0 if df is None else len(df)
    if ax is None:
        ax = new_ax(height=_rows_height(n, per_row=0.34, base=1.1))
    if df is None:
        return _empty(ax, empty_text, title)
    fmt = fmt or compact_number
    df = df.assign(_v=_num(df[y]))
    if sort:
        df = df.sort_values("_v", ascending=False, kind="stable", na_position="last")
    vals = df["_v"].to_numpy()
    pos = np.arange(n)
    colors = [PALETTE["bad"] if _finite(v) and v < 0 else (color or PALETTE["brand"])
              for v in vals]
    ax.barh(pos, np.nan_to_num(vals), height=0.62, color=colors, label="_values", zorder=2)
    finite = vals[np.isfinite(vals)]
    hi = float(max(finite.max(), 0.0)) if len(finite) else 1.0
    lo = float(min(finite.min(), 0.0)) if len(finite) else 0.0
    span = (hi - lo) or 1.0
    for p, v in zip(pos, vals, strict=True):
        if _finite(v):
            ax.text(v + (1 if v >= 0 else -1) * span * 0.012, p, fmt(v),
                    ha="left" if v >= 0 else "right", va="center", fontsize=9,
                    color=PALETTE["ink"], zorder=3)
    ax.set_xlim(lo - (span * 0.14 if lo < 0 else 0), hi + span * 0.14)
    if lo < 0:
        ax.axvline(0, color=PALETTE["neutral"], lw=0.8, zorder=2.5)
    pad = max(0.0, (2 - n) / 2)
    ax.set_ylim(n - 0.4 + pad, -0.6 - pad)
    ax.set_yticks(pos, [_wrap(g, 26) for g in df[x]])
    ax.xaxis.set_major_locator(_locator(5))
    ax.xaxis.set_major_formatter(_axis_formatter(fmt))
    ax.grid(False)
    ax.grid(axis="x", visible=True)
    ax.spines["left"].set_visible(False)
    _labels(ax, title, xlabel, None)
    return ax
