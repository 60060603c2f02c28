"""The value review's charts: one account's drivers, value, adoption, scores, support, ARR."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator

from valuelib.report.charts.axes import (
    DateFmt,
    Fmt,
    _axis_formatter,
    _category_limits,
    _checked,
    _date_axis,
    _dates,
    _empty,
    _fit_category_labels,
    _headroom,
    _labels,
    _locator,
    _nice_ceil,
    _num,
    _ref_line,
    _rows_height,
    _top_legend,
    _wrap,
)
from valuelib.report.charts.style import _EVENT_STYLE, EVENT_LABELS, PALETTE, new_ax
from valuelib.report.fmt import compact_number, percent
from valuelib.report.fmt import is_finite as _finite
from valuelib.report.fmt import plain_number as _plain

# Share of a fixed score scale left free above its top for the points' labels (a label is 8 pt
# above its point and about 11 pt tall; a 2.9-inch chart's plot area is about 150 pt high).
_LABEL_ROOM = 0.18


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
    _headroom(ax, float(top), bottom=low, locator=_locator(5))
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
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
    _headroom(ax, float(np.nanmax(both)) if np.isfinite(both).any() else 1.0,
              locator=_locator(5, integer=True))
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
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
            # On a white ground: a reference line (0, a target) under a label stops at it.
            ax.annotate(
                fmt(v), (p, v), xytext=(0, 8), textcoords="offset points", ha="center",
                va="bottom", fontsize=9, fontweight="bold", color=PALETTE["ink"], zorder=4,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"},
            )
    if ref is not None:
        _ref_line(ax, ref, ref_label)
    if ylim is not None:
        # A fixed scale (0-100, -100-100) keeps its ticks, and gains room above its top so a
        # point's label at the top never runs into the title.
        lo, hi = ylim
        ax.yaxis.set_major_locator(FixedLocator(_locator(5).tick_values(lo, hi)))
        ax.set_ylim(lo, hi + _LABEL_ROOM * (hi - lo))
    else:
        known = vals[np.isfinite(vals)].tolist() + ([ref] if ref is not None else [])
        if known:
            lo, hi = min(known), max(known)
            span = (hi - lo) or (abs(hi) * 0.2) or 1.0
            ax.set_ylim(lo - 0.3 * span, hi + 0.4 * span)
    ax.set_xticks(pos, [str(v) for v in df[x]])
    _category_limits(ax, len(df), slots=2)
    if ylim is None:
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
    _headroom(ax, top, locator=_locator(5))
    ax.yaxis.set_major_formatter(_axis_formatter(fmt))
    _date_axis(ax, x, date_fmt, max_exact=6)
    _labels(ax, title, xlabel, ylabel)
    handles, labels = ax.get_legend_handles_labels()
    _top_legend(ax, handles, labels)
    return ax
