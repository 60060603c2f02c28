"""The charts' house look: colours, fonts, figure size and matplotlib's rcParams.

Importing this selects the headless Agg backend unless someone chose a backend (see below).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections.abc import Iterator
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

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.axis import Axis, Tick  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from valuelib.model.health import AT_RISK, HEALTHY, WATCH  # noqa: E402
from valuelib.report import fonts  # noqa: E402
from valuelib.report.charts import shortcuts, textcache  # noqa: E402

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

#: Health band colours keyed by the model's band keys; other names get a bad→good ramp.
BAND_COLORS: dict[str, str] = {
    AT_RISK: PALETTE["bad"],
    WATCH: PALETTE["accent"],
    HEALTHY: PALETTE["good"],
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
textcache.install()
shortcuts.install()


FIG_WIDTH = 7.5  # inches: an A4 text column, and scales down cleanly on a phone

#: The base the house look is drawn on: seaborn's "whitegrid" style and "notebook" context, as
#: matplotlib ships them (its copies of seaborn 0.8's), so a value review's kernel need not
#: import seaborn and the scipy it pulls in (0.9 s of CPU at every batch's start).
BASE_STYLES = ("seaborn-v0_8-whitegrid", "seaborn-v0_8-notebook")

_STYLE_RC: dict[str, Any] = {
    # Where seaborn 0.13's theme differs from matplotlib's copies of seaborn 0.8's, the
    # newer one: thinner lines, smaller markers with an edge, white patch edges, no ticks on
    # the bottom and left, 12 pt legend titles.
    "lines.linewidth": 1.5,
    "lines.markersize": 6.0,
    "lines.markeredgewidth": 1.0,
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "xtick.bottom": False,
    "ytick.left": False,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1.0,
    "ytick.minor.width": 1.0,
    "legend.title_fontsize": 12.0,
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
    """Set the house look (`BASE_STYLES`, then the house's rcParams). Safe to call any number
    of times."""
    global _styled
    plt.style.use(BASE_STYLES)
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


#: Major ticks made ahead for each axis of a prepared figure (`_spare_ticks`): the demo
#: reviews' chart axes show up to six, the first made with the axis.
SPARE_TICKS = 6
#: Empty figures made ahead by `prepare_figures`, each with the look it was made under.
_prepared: list[tuple[Figure, dict[str, Any]]] = []
#: rcParams of the session (backend, interactive mode), which no figure's drawing reads: a
#: kernel turns interactive mode on when its notebook first uses pyplot.
_SESSION_RC = frozenset({"backend", "backend_fallback", "interactive", "toolbar"})


def _look() -> dict[str, Any]:
    """The rcParams a figure is made and drawn under, as stored (reading them through
    ``rcParams[...]`` would resolve the backend, and take a millisecond)."""
    rc = mpl.rcParams
    return {key: dict.__getitem__(rc, key) for key in dict.keys(rc) if key not in _SESSION_RC}


#: The rcParams a tick is made under: all but the session's and the SVG writer's own, which
#: only saving reads (a chart's ticks are mostly made while it is saved, under them).
_TICK_RC = tuple(key for key in dict.keys(mpl.rcParams)
                 if key not in _SESSION_RC and not key.startswith("svg."))


def _tick_look() -> tuple[Any, ...]:
    """The values of `_TICK_RC` now, as stored: a tuple, read and compared in C (a dict of
    them cost three times as much, and the check runs for every tick a chart makes)."""
    rc = mpl.rcParams
    return tuple(map(dict.__getitem__, itertools.repeat(rc, len(_TICK_RC)), _TICK_RC))


class _SpareTicks:
    """Major ticks made ahead for one axis of a prepared figure, handed out as its `_get_tick`.

    A tick is five artists, and a review's charts make about seventy of them: some 5% of its
    notebook's CPU. The axis hands out a spare only while one made at that moment would be
    the same: its tick list is the one the spares were made for (`reset_ticks`, which moving
    a spine calls, makes a new one), and the tick keywords and rcParams are those they were
    made under. Otherwise it makes a tick as matplotlib does. An object rather than a
    closure, so that a figure still pickles and deep-copies (each copy with its own spares).
    """

    def __init__(self, axis: Axis, count: int) -> None:
        self.axis = axis
        self.ticks = axis.majorTicks  # made now if need be: the list the spares belong to
        self.kw = dict(axis._major_tick_kw)
        self.look = _tick_look()
        self.spares = [type(axis)._get_tick(axis, True) for _ in range(count)]

    def __call__(self, major: bool) -> Tick:
        axis = self.axis
        if (major and self.spares and axis.__dict__.get("majorTicks") is self.ticks
                and axis._major_tick_kw == self.kw and _tick_look() == self.look):
            return self.spares.pop()
        return type(axis)._get_tick(axis, major)


def _spare_ticks(axis: Axis, count: int) -> None:
    """Give `axis` `count` spare major ticks, made now, for its chart's layout to use."""
    axis._get_tick = _SpareTicks(axis, count)  # type: ignore[method-assign]


def unheld_ax() -> Axes:
    """A house-size Axes on a figure that pyplot does not hold, on the canvas a kernel's
    (inline, Agg-based) figures get: for the kernel fork server, where making a figure through
    pyplot would import the kernel's backend. `new_ax` hands such a figure to pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(layout="constrained")
    FigureCanvasAgg(fig)
    return fig.subplots()


def prepare_figures(count: int) -> None:
    """Make `count` empty chart figures now, under the current rcParams, for `new_ax` to use.

    Making a figure and its Axes is about a fifth of a simple chart's CPU and the same for
    every chart. A process that forks once per review (the batch's kernel fork server) makes
    them once, before it forks, instead of every review making its own (`unheld_ax`).
    """
    look = _look()
    for _ in range(count):
        ax = unheld_ax()
        for axis in (ax.xaxis, ax.yaxis):
            _spare_ticks(axis, SPARE_TICKS)
        _prepared.append((ax.figure, look))


def _take_prepared(width: float, height: float) -> Axes | None:
    """A prepared figure's Axes, sized and handed to pyplot, if it was made under the look in
    force now (a chart made under another would look different); else None."""
    if not _prepared:
        return None
    fig, look = _prepared.pop(0)
    if look != _look():
        _prepared.clear()  # the style has changed since: none of them fits any more
        return None
    fig.set_size_inches(width, height)
    plt.figure(fig)  # pyplot now holds it as it holds a new one (shown, closed)
    return fig.axes[0]


def new_ax(height: float = 3.2, width: float = FIG_WIDTH) -> Axes:
    """A fresh Axes on a house-size figure (constrained layout keeps labels inside it)."""
    if not _styled:
        apply_style()
    ax = _take_prepared(width, height)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def brand_cmap() -> LinearSegmentedColormap:
    """A sequential colormap from a near-white teal tint to the brand teal."""
    return LinearSegmentedColormap.from_list(
        "valuereview_brand", ["#f2f7f8", "#8dbcc4", PALETTE["brand"], "#0a3f48"]
    )
