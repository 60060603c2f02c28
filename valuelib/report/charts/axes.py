"""What every chart shares: checking its frame, tick formatters, limits, labels and legends."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory

from valuelib.report.charts.style import PALETTE
from valuelib.report.fmt import is_finite as _finite

Fmt = Callable[[float], str]
DateFmt = Callable[[Any], str]

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


class _DateLocator(mdates.AutoDateLocator):
    """`AutoDateLocator` that works out the ticks of one view once.

    Matplotlib asks an axis for its ticks on every layout and drawing pass, and the
    automatic date locator builds a new recurrence rule and walks it each time (about a
    millisecond). Its ticks depend only on the view's dates (in its time zone) and the
    locator's own settings, including the intervals a user may edit in place, so they are
    remembered for the last view, with the frequency it chose (which `nonsingular` reads).
    """

    #: (the view's key, its ticks, the frequency chosen for them), or None before the first.
    _view_ticks: tuple[tuple[Any, ...], np.ndarray, Any] | None = None

    def __call__(self) -> Any:
        dmin, dmax = self.viewlim_to_dt()
        key = (dmin, dmax, dmin.tzinfo, self.minticks, repr(self.maxticks),
               repr(self.intervald), self.interval_multiples)
        if self._view_ticks is None or self._view_ticks[0] != key:
            self._view_ticks = (key, np.array(super().__call__()), self._freq)
        self._freq = self._view_ticks[2]
        return self._view_ticks[1].copy()


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
        ax.xaxis.set_major_locator(_DateLocator(minticks=3, maxticks=7))
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


def _headroom(ax: Axes, top: float, factor: float = 1.08, bottom: float = 0.0,
              locator: MaxNLocator | None = None) -> None:
    """Start at zero (or below) and leave a little air above the highest value. With the
    axis's `locator` (set here), the highest value never stands above the top labelled
    line: the axis then ends on the next tick (273M on a scale to 300M, not past 200M)."""
    if not _finite(top) or top <= bottom:
        top = bottom + 1
    limit = bottom + (top - bottom) * factor
    if locator is not None:
        ticks = locator.tick_values(bottom, limit)
        ticks = ticks[ticks >= bottom]
        inside, above = ticks[ticks <= limit], ticks[ticks >= top]
        if inside.size and inside.max() < top and above.size:
            limit = float(above.min())
            locator = FixedLocator(ticks[ticks <= limit])
        ax.yaxis.set_major_locator(locator)
    ax.set_ylim(bottom, limit)


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
