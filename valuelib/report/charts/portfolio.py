"""The portfolio review's charts: retention, cohorts, survival, health, scoring, value."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D

from valuelib.report.charts.axes import (
    Fmt,
    _axis_formatter,
    _category_limits,
    _checked,
    _collide,
    _empty,
    _fit_category_labels,
    _headroom,
    _labels,
    _legend,
    _locator,
    _num,
    _ramp,
    _ref_line,
    _renderer,
    _rows_height,
    _top_legend,
    _wrap,
)
from valuelib.report.charts.style import BAND_COLORS, CYCLE, PALETTE, brand_cmap, new_ax
from valuelib.report.fmt import compact_number, percent
from valuelib.report.fmt import is_finite as _finite
from valuelib.report.fmt import trim_zeros as _trim

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
    _headroom(ax, top, factor=1.12, bottom=min(0.0, min(known) if known else 0.0),
              locator=_locator(5))
    if ref is not None:
        _ref_line(ax, ref, ref_label)
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    ax.set_xticks(range(len(groups)), [_wrap(g, 14) for g in groups])
    _category_limits(ax, len(groups), slots=4)
    _labels(ax, title, xlabel, ylabel)
    if hue:
        _top_legend(ax, *ax.get_legend_handles_labels())
    _fit_category_labels(ax)
    if bar_labels is not False:
        texts = [_bar_label(ax, bar, v, fmt) for cont, heights in drawn
                 for bar, v in zip(cont, heights, strict=True) if _finite(v)]
        if bar_labels is None and _collide(ax, texts):  # too many bars to label legibly
            for t in texts:
                t.remove()
    return ax


def _bar_label(ax: Axes, bar: Any, value: float, fmt: Fmt) -> Any:
    """A bar's value, inside the top of the bar (white) where it fits, else just above it.

    Inside, no reference line (drawn behind the bars) can run through the label.
    """
    x = bar.get_x() + bar.get_width() / 2
    top = bar.get_y() + bar.get_height()
    style = {"ha": "center", "fontsize": 8.5, "zorder": 4, "textcoords": "offset points"}
    if value > 0:
        label = ax.annotate(fmt(value), (x, top), xytext=(0, -3), va="top", color="white",
                            fontweight="bold", **style)
        renderer = _renderer(ax)
        if renderer is not None:
            box, room = label.get_window_extent(renderer), bar.get_window_extent(renderer)
            if box.x0 >= room.x0 + 1 and box.x1 <= room.x1 - 1 and box.y0 >= room.y0 + 2:
                return label
        label.remove()
    return ax.annotate(
        fmt(value), (x, top), xytext=(0, 2 if value >= 0 else -2),
        va="bottom" if value >= 0 else "top", color=PALETTE["ink"],
        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"}, **style,
    )


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
    import seaborn as sns  # here: with the scipy it imports, 0.9 s a value review never needs

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
    if (kinds == "projected").any():  # no key for lines that are not drawn
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
        import seaborn as sns  # here, as in `heatmap`

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
    _headroom(ax, float(stack.max()), factor=1.06, locator=_locator(5, integer=True))
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
