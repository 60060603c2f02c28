"""Tests for valuelib.report.charts: every chart draws, handles one row and no rows, names a
missing column, formats its axis through ``fmt``, and keeps text as text in SVG."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.container import BarContainer

from valuelib.report import charts, fonts

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
    from valuelib.report.charts import style

    style._prepared.clear()  # none left for the next test by one that failed half-way


def _quarters(n: int) -> list[str]:
    return [f"{2024 + i // 4}Q{i % 4 + 1}" for i in range(n)]


def driver_df(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "driver": [f"Driver {i}" for i in range(n)],
        "progress_pct": np.linspace(20, 110, n),
        "label": [f"{8 - i} → {6 - i} → 4 weeks" for i in range(n)],
    })


def cumulative_df(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "period_end": pd.date_range("2025-03-31", periods=n, freq="QE"),
        "cumulative_value": np.cumsum(np.full(n, 50_000.0)),
        "cumulative_cost": 100_000 + np.arange(n) * 20_000.0,
    })


def adoption_df(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range("2025-01-01", periods=n, freq="MS"),
        "active_users": 100 + np.arange(n) * 5,
        "licensed_seats": 200,
    })


def feature_df(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "feature": [f"Feature {i}" for i in range(n)],
        "adoption_pct": [30.0, 90.0, 55.0, 10.0][:n],
        "peer_pct": [40.0, 80.0, 50.0, 20.0][:n],
    })


def score_df(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"period": _quarters(n), "value": np.linspace(10, 42, n)})


def support_df(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "period": _quarters(n),
        "tickets": np.arange(n) * 10 + 20,
        "median_resolution_hours": np.linspace(12, 6, n),
    })


def arr_df(n: int = 24) -> pd.DataFrame:
    return pd.DataFrame({
        "month": pd.date_range("2024-01-01", periods=n, freq="MS"),
        "arr": np.where(np.arange(n) < n // 2, 100_000.0, 140_000.0),
    })


def events_df() -> pd.DataFrame:
    return pd.DataFrame({
        "month": pd.to_datetime(["2024-01-01", "2025-01-01", "2025-06-01"]),
        "kind": ["new", "expansion", "contraction"],
    })


def retention_df() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["Enterprise", "Enterprise", "SMB", "SMB", "All", "All"],
        "metric": ["GRR", "NRR"] * 3,
        "value": [94.0, 112.0, 82.0, 95.0, 90.0, 105.0],
    })


def cohort_df() -> pd.DataFrame:
    grid = pd.DataFrame(np.nan, index=["2025Q1", "2025Q2", "2025Q3"], columns=[0, 1, 2])
    grid.iloc[0] = [100.0, 92.0, 85.0]
    grid.iloc[1, :2] = [100.0, 95.0]
    grid.iloc[2, 0] = 100.0
    return grid


def survival_df() -> pd.DataFrame:
    rows = []
    for group, rate in [("Enterprise", 0.9), ("SMB", 0.75)]:
        rows += [{"group": group, "period": t, "survival_pct": 100 * rate**t, "kind": "observed"}
                 for t in range(4)]
        rows += [{"group": group, "period": t, "survival_pct": 100 * rate**t,
                  "kind": "projected"} for t in range(8)]
    return pd.DataFrame(rows)


def health_df() -> pd.DataFrame:
    health = np.array([15, 35, 45, 50, 62, 70, 75, 88, 91, 99], dtype=float)
    band = np.where(health < 40, "At risk", np.where(health < 65, "Watch", "Healthy"))
    return pd.DataFrame({"health": health, "band": band})


def roc_df() -> pd.DataFrame:
    fpr = np.linspace(0, 1, 11)
    return pd.DataFrame({"fpr": fpr, "tpr": np.sqrt(fpr)})


def group_df() -> pd.DataFrame:
    return pd.DataFrame({"group": ["Ana", "Ben", "Chen", "Dana"],
                         "value": [1.2e6, 3.4e6, -50e3, 800e3]})


# name -> (function, sample data, required columns, extra kwargs)
CASES: dict[str, tuple[Callable[..., Axes], Callable[[], pd.DataFrame], list[str], dict]] = {
    "driver_progress": (charts.driver_progress, driver_df, ["driver", "progress_pct"], {}),
    "cumulative_value": (charts.cumulative_value, cumulative_df,
                         ["period_end", "cumulative_value", "cumulative_cost"], {}),
    "adoption_trend": (charts.adoption_trend, adoption_df,
                       ["date", "active_users", "licensed_seats"], {}),
    "feature_adoption": (charts.feature_adoption, feature_df, ["feature", "adoption_pct"], {}),
    "score_trend": (charts.score_trend, score_df, ["period", "value"], {}),
    "support_trend": (charts.support_trend, support_df,
                      ["period", "tickets", "median_resolution_hours"], {}),
    "arr_history": (charts.arr_history, arr_df, ["month", "arr"], {"events": events_df()}),
    "retention_bars": (charts.retention_bars, retention_df, ["group", "value", "metric"], {}),
    "survival_curves": (charts.survival_curves, survival_df,
                        ["period", "survival_pct", "group", "kind"], {}),
    "health_distribution": (charts.health_distribution, health_df, ["health", "band"], {}),
    "roc_curve": (charts.roc_curve, roc_df, ["fpr", "tpr"], {}),
    "value_by_group": (charts.value_by_group, group_df, ["group", "value"], {}),
}

# Charts whose value axis goes through fmt, and which axis that is.
FMT_AXIS = {
    "cumulative_value": "y",
    "adoption_trend": "y",
    "feature_adoption": "x",
    "score_trend": "y",
    "support_trend": "y",
    "arr_history": "y",
    "retention_bars": "y",
    "survival_curves": "y",
    "health_distribution": "x",
    "roc_curve": "x",
    "value_by_group": "x",
}


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _tick_texts(ax: Axes, axis: str) -> list[str]:
    ax.figure.canvas.draw()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels if t.get_text()]


def _bars(ax: Axes, label: str | None = None) -> list[Any]:
    conts = [c for c in ax.containers if isinstance(c, BarContainer)]
    if label is not None:
        conts = [c for c in conts if c.get_label() == label]
    return [b for c in conts for b in c]


# --------------------------------------------------------------------------- style


def test_apply_style_is_idempotent_and_keeps_text_as_text():
    charts.apply_style()
    first = {k: mpl.rcParams[k] for k in ("svg.fonttype", "font.sans-serif", "axes.titlelocation",
                                          "axes.spines.top", "axes.spines.right", "axes.grid.axis")}
    charts.apply_style()
    second = {k: mpl.rcParams[k] for k in first}
    assert first == second
    assert first["svg.fonttype"] == "none"
    assert first["font.sans-serif"] == list(fonts.SANS)  # the bundled families, nothing else
    assert first["axes.titlelocation"] == "left"
    assert not first["axes.spines.top"] and not first["axes.spines.right"]
    assert first["axes.grid.axis"] == "y"


def test_palette_has_the_house_colours():
    for key in ("brand", "accent", "muted", "good", "bad", "neutral"):
        assert re.fullmatch(r"#[0-9a-f]{6}", charts.PALETTE[key])
    assert charts.PALETTE["brand"] == "#0f5e6b"
    assert charts.PALETTE["accent"] == "#e07a1f"
    assert charts.PALETTE["good"] == "#2e7d32"
    assert charts.PALETTE["bad"] == "#c62828"


def test_new_ax_is_house_size():
    ax = charts.new_ax()
    w, h = ax.figure.get_size_inches()
    assert (w, h) == (pytest.approx(7.5), pytest.approx(3.2))
    assert charts.new_ax(height=2.8).figure.get_size_inches()[1] == pytest.approx(2.8)


def _ticks_made(monkeypatch) -> list[int]:
    """Count the ticks matplotlib makes from now on (`Axis._get_tick`, spares included)."""
    import matplotlib.axis as maxis

    made = [0]
    plain = maxis.Axis._get_tick

    def counted(self, major):
        made[0] += 1
        return plain(self, major)

    monkeypatch.setattr(maxis.Axis, "_get_tick", counted)
    return made


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_chart_on_a_prepared_figure_is_the_same_chart(name, monkeypatch):
    """The batch's fork server makes every review's empty figures ahead (`prepare_figures`),
    with spare ticks: a chart drawn on one is, byte for byte, the chart drawn on a figure made
    for it, makes fewer ticks of its own, and pyplot holds the figure as it holds one it made
    (so a notebook sees and closes it)."""
    from valuelib.report import blocks
    from valuelib.report.charts import style

    func, make, _required, kwargs = CASES[name]
    charts.apply_style()
    ticks = _ticks_made(monkeypatch)

    def svg() -> str:
        ids = blocks.reset_figure_ids()
        try:
            ax = func(make(), **kwargs)
            assert plt.gcf() is ax.figure
            return str(blocks.figure(ax))
        finally:
            blocks.reset_figure_ids(ids)

    made = svg()
    on_its_own = ticks[0]
    style.prepare_figures(1)
    prepared = style._prepared[0][0]
    ticks[0] = 0
    drawn = svg()
    assert not style._prepared and prepared.number not in plt.get_fignums()  # used, closed
    assert drawn == made
    if on_its_own > 4:  # ticks beyond the four every new axes starts with
        assert ticks[0] < on_its_own


def _line_chart(ax: Axes) -> Axes:
    ax.plot(pd.date_range("2025-01-01", periods=9, freq="MS"), np.arange(9) * 1_000.0)
    ax.set_title("Active users")
    return ax


@pytest.mark.parametrize("change", ["spine moved", "tick keywords", "tick rcParams"])
def test_spare_ticks_are_not_used_where_a_new_tick_would_differ(change):
    """A prepared axis hands out its spare ticks only while a tick made then would be the same:
    after a spine has moved (its ticks were reset), once tick keywords were set, or under other
    rcParams, the chart is the same chart as on a figure made for it. Without the tick-list
    check the spine case fails; with matplotlib 3.11 the other two would pass even without
    their checks (a new tick takes the first tick's visible properties), and they guard the
    same equality should that change."""
    from valuelib.report import blocks
    from valuelib.report.charts import style

    charts.apply_style()

    def svg(ax: Axes) -> str:
        if change == "spine moved":
            ax.spines["bottom"].set_position(("outward", 9))
        elif change == "tick keywords":
            ax.tick_params(axis="both", pad=11)
        ids = blocks.reset_figure_ids()
        try:
            _line_chart(ax)
            with mpl.rc_context({"xtick.major.pad": 12, "ytick.major.pad": 3}
                                if change == "tick rcParams" else {}):
                return str(blocks.figure(ax))
        finally:
            blocks.reset_figure_ids(ids)

    made = svg(plt.subplots(figsize=(7.5, 3.2), layout="constrained")[1])
    style.prepare_figures(1)
    prepared = style._prepared[0][0]
    ax = charts.new_ax()
    assert ax.figure is prepared
    assert svg(ax) == made


def _case_svg(name: str) -> str:
    """The SVG markup of the chart of `CASES[name]`, with the same element ids every time."""
    from valuelib.report import blocks

    func, make, _required, kwargs = CASES[name]
    ids = blocks.reset_figure_ids()
    try:
        return str(blocks.figure(func(make(), **kwargs)))
    finally:
        blocks.reset_figure_ids(ids)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_chart_laid_out_from_the_layout_memo_is_the_same_chart(name, monkeypatch):
    """Every text's layout is remembered across the layout passes, the tight box, the drawing
    and the charts drawn after (`textcache.memoized_layout`): a chart drawn with the memo full
    is, byte for byte, the chart matplotlib lays out itself."""
    import matplotlib.text as mtext

    from valuelib.report.charts import textcache

    charts.apply_style()
    memo = textcache.MEMOS["layout"]
    _case_svg(name)
    hits = memo.hits
    remembered = _case_svg(name)  # every text seen before
    assert memo.hits > hits
    monkeypatch.setattr(mtext.Text, "_get_layout", mtext.Text._get_layout.__wrapped__)
    assert _case_svg(name) == remembered


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_chart_that_skips_positioning_empty_axis_labels_is_the_same_chart(name, monkeypatch):
    """An axis label with no text is not positioned (`shortcuts.install`): every chart is,
    byte for byte, the chart drawn when matplotlib positions every label, and each label
    with text is positioned as often as before."""
    import matplotlib.axis as maxis

    from valuelib.report.charts import shortcuts

    charts.apply_style()
    positioned: list[str] = []
    for cls in (maxis.XAxis, maxis.YAxis):
        plain = cls._update_label_position.__wrapped__

        def record(self: Any, renderer: Any, plain: Callable[..., Any] = plain) -> Any:
            positioned.append(self.label.get_text())
            return plain(self, renderer)

        monkeypatch.setattr(cls, "_update_label_position",
                            shortcuts.positioned_when_labelled(record))
    shortcut = _case_svg(name)
    assert "" not in positioned
    labelled = len(positioned)
    for cls in (maxis.XAxis, maxis.YAxis):  # the same recording, without the shortcut
        monkeypatch.setattr(cls, "_update_label_position",
                            cls._update_label_position.__wrapped__)
    positioned.clear()
    assert _case_svg(name) == shortcut
    assert len([text for text in positioned if text]) == labelled


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_chart_on_a_prepared_figure_pickles_and_copies(how):
    """A notebook may pickle or copy its figure: the copy of a chart on a prepared figure (its
    axes with their spare ticks) is the same chart, and leaves the original's spares alone."""
    import copy
    import pickle

    from valuelib.report import blocks
    from valuelib.report.charts import style

    charts.apply_style()
    style.prepare_figures(1)
    ax = _line_chart(charts.new_ax())
    twin = pickle.loads(pickle.dumps(ax.figure)) if how == "pickle" else copy.deepcopy(ax.figure)

    def svg(fig) -> str:
        ids = blocks.reset_figure_ids()
        try:
            return str(blocks.figure(fig))
        finally:
            blocks.reset_figure_ids(ids)

    copied = svg(twin)
    assert copied == svg(ax.figure)


def test_prepared_figures_made_in_another_style_are_not_used():
    """A notebook that changes the style after the figures were made gets new figures in its
    own style, never one of the old ones."""
    from valuelib.report.charts import style

    charts.apply_style()
    style.prepare_figures(2)
    prepared = [fig for fig, _rc in style._prepared]
    with mpl.rc_context({"axes.facecolor": "#fafafa"}):
        ax = charts.new_ax()
        assert ax.figure not in prepared and ax.get_facecolor() == mpl.colors.to_rgba("#fafafa")
    assert not style._prepared


def test_a_prepared_figure_takes_the_size_asked_for():
    from valuelib.report.charts import style

    charts.apply_style()
    style.prepare_figures(1)
    ax = charts.new_ax(height=2.8, width=6.0)
    assert ax.figure.get_size_inches() == pytest.approx((6.0, 2.8))
    assert ax.figure.get_layout_engine() is not None and plt.gcf() is ax.figure


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (950, "950"), (1234, "1.2k"), (1000, "1k"), (34_000, "34k"), (125_000, "125k"),
     (999_960, "1M"), (3_400_000, "3.4M"), (1.1e9, "1.1B"), (-1500, "\u22121.5k"), (2.5, "2.5"),
     (0.25, "0.25"), (float("nan"), "")],
)
def test_compact_number(value, text):
    assert charts.compact_number(value) == text


def test_percent():
    assert charts.percent(42) == "42%"
    assert charts.percent(4.5) == "4.5%"
    assert charts.percent(-5) == "\u22125%"
    assert charts.percent(None) == ""


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name", sorted(CASES))
def test_returns_the_axes_it_drew_on(name):
    func, make, _required, kwargs = CASES[name]
    ax = func(make(), **kwargs)
    assert isinstance(ax, Axes)
    assert ax.get_title(loc="left")
    fig, (left, right) = plt.subplots(1, 2)
    assert func(make(), ax=right, **kwargs) is right
    assert not left.has_data()


@pytest.mark.parametrize("name", sorted(CASES))
def test_single_row(name):
    func, make, _required, kwargs = CASES[name]
    ax = func(make().iloc[:1], **kwargs)
    assert isinstance(ax, Axes)
    ax.figure.canvas.draw()


@pytest.mark.parametrize(
    ("name", "empty"),
    [(n, "no_rows") for n in sorted(CASES)]
    + [(n, e) for n in ("value_by_group", "survival_curves", "cohort_heatmap")
       for e in ("bare", "none")]
    + [("cohort_heatmap", "no_rows"), ("cohort_heatmap", "all_nan")],
)
def test_empty_data_says_so(name, empty):
    if name == "cohort_heatmap":
        func, cols, kwargs = charts.cohort_heatmap, [0, 1], {}
    else:
        func, _make, cols, kwargs = CASES[name]
    data = {
        "no_rows": pd.DataFrame(columns=cols),
        "bare": pd.DataFrame(),
        "none": None,
        "all_nan": pd.DataFrame(np.nan, index=["2025Q1"], columns=cols),
    }[empty]
    ax = func(data, empty_text="Nothing yet", **kwargs)
    assert "Nothing yet" in _texts(ax)
    assert not ax.has_data()


@pytest.mark.parametrize(
    ("name", "column"), [(n, c) for n, case in sorted(CASES.items()) for c in case[2]]
)
def test_missing_column_is_named(name, column):
    func, make, _required, kwargs = CASES[name]
    with pytest.raises(ValueError, match=rf"{name}\(\).*'{column}'"):
        func(make().drop(columns=[column]), **kwargs)


def test_missing_column_in_empty_frame_is_still_an_error():
    with pytest.raises(ValueError, match="'arr'"):
        charts.arr_history(pd.DataFrame(columns=["month"]))


def test_missing_events_column_is_named():
    with pytest.raises(ValueError, match=r"events has no column 'kind'"):
        charts.arr_history(arr_df(), events=events_df().drop(columns=["kind"]))


def test_not_a_dataframe_is_a_type_error():
    with pytest.raises(TypeError, match="DataFrame"):
        charts.value_by_group([{"group": "a", "value": 1}])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FMT_AXIS))
def test_fmt_formats_the_value_axis(name):
    func, make, _required, kwargs = CASES[name]
    ax = func(make(), fmt=lambda v: f"<{v:g}>", **kwargs)
    ticks = _tick_texts(ax, FMT_AXIS[name])
    assert ticks and all(t.startswith("<") and t.endswith(">") for t in ticks)


def test_default_fmt_is_compact():
    ax = charts.cumulative_value(cumulative_df())
    ticks = _tick_texts(ax, "y")
    assert any(t.endswith("k") for t in ticks)


def test_every_visible_string_is_a_parameter():
    ax = charts.cumulative_value(
        cumulative_df(), title="Valeur cumulée", xlabel="Trimestre", ylabel="EUR",
        value_label="Valeur", cost_label="Coût", payback_label="Rentabilisé",
    )
    assert ax.get_title(loc="left") == "Valeur cumulée"
    assert ax.get_xlabel() == "Trimestre"
    assert ax.get_ylabel() == "EUR"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Valeur", "Coût", "Rentabilisé"]


def test_dates_go_through_date_fmt():
    ax = charts.adoption_trend(adoption_df(), date_fmt=lambda d: f"M{d.month}")
    assert all(t.startswith("M") for t in _tick_texts(ax, "x"))


def test_date_ticks_worked_out_once_per_view_are_matplotlibs(monkeypatch):
    """The date locator remembers one view's ticks: the same as matplotlib's automatic
    locator for every view it is asked about, and worked out again when the view moves."""
    import matplotlib.dates as mdates

    ax = charts.adoption_trend(adoption_df(24))
    locator = ax.xaxis.get_major_locator()
    reference = mdates.AutoDateLocator(minticks=3, maxticks=7)
    reference.set_axis(ax.xaxis)
    calls: list[int] = []
    make = mdates.AutoDateLocator.get_locator
    monkeypatch.setattr(mdates.AutoDateLocator, "get_locator",
                        lambda self, *a: calls.append(1) or make(self, *a))
    start = mdates.date2num(pd.Timestamp("2025-01-01"))
    for days in (400, 400, 90, 2000, 2000, 25):
        ax.set_xlim(start, start + days)
        expected = list(reference())
        asked = len(calls)
        assert list(locator()) == expected == list(locator())
        assert len(calls) - asked <= 1  # the second call is remembered
        assert locator._get_unit() == reference._get_unit()  # its frequency too
    assert len(calls) == 6 + 4  # six reference calls; the locator's four views
    # Intervals edited in place (matplotlib's documented way to tune it) are followed.
    ax.set_xlim(start, start + 700)
    assert list(locator()) == list(reference())
    for loc in (locator, reference):
        loc.intervald[mdates.MONTHLY] = [5]
    assert list(locator()) == list(reference())


# --------------------------------------------------------------------------- per chart


def test_driver_progress_rows_track_and_labels():
    df = driver_df(3)
    ax = charts.driver_progress(df)
    assert len(_bars(ax, "_track")) == 3
    progress = _bars(ax, "_progress")
    assert [b.get_width() for b in progress] == pytest.approx(df["progress_pct"].tolist())
    assert {"20%", "65%", "110%"} <= set(_texts(ax))
    right = [a for a in ax.figure.axes if a is not ax][0]
    assert [t.get_text() for t in right.get_yticklabels()] == df["label"].tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == df["driver"].tolist()


def test_driver_progress_negative_and_missing_progress():
    df = pd.DataFrame({"driver": ["a", "b"], "progress_pct": [-10.0, np.nan]})
    ax = charts.driver_progress(df)
    assert [b.get_width() for b in _bars(ax, "_progress")] == [0, 0]
    assert "\u221210%" in _texts(ax)
    assert len(ax.figure.axes) == 1  # no label column, no right-hand labels


def test_cumulative_value_lines_and_payback_area():
    ax = charts.cumulative_value(cumulative_df())
    assert len(ax.get_lines()) == 2
    assert len(ax.collections) == 1  # the shaded payback area
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Value delivered", "Cost", "Payback reached"]


def test_cumulative_value_without_payback_has_no_payback_legend():
    df = cumulative_df().assign(cumulative_cost=1e9)
    ax = charts.cumulative_value(df)
    assert "Payback reached" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_adoption_trend_lines():
    ax = charts.adoption_trend(adoption_df(), users_label="Users", seats_label="Seats")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert all(len(line.get_xdata()) == 12 for line in lines)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Users", "Seats"]


def test_feature_adoption_sorted_with_peer_markers():
    ax = charts.feature_adoption(feature_df())
    widths = [b.get_width() for b in _bars(ax)]
    assert widths == [90.0, 55.0, 30.0, 10.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Feature 1", "Feature 2", "Feature 0", "Feature 3"]
    (peer,) = ax.get_lines()
    assert list(peer.get_xdata()) == [80.0, 50.0, 40.0, 20.0]


def test_feature_adoption_without_peers():
    ax = charts.feature_adoption(feature_df().drop(columns=["peer_pct"]))
    assert not ax.get_lines()
    assert ax.get_legend() is None


def test_score_trend_points_labels_ref_and_ylim():
    df = score_df(4)
    ax = charts.score_trend(df, ref=30, ref_label="Peer median", ylim=(-100, 100),
                            fmt=lambda v: f"{v:.0f}")
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 4]
    assert list(line.get_ydata()) == pytest.approx(df["value"].tolist())
    assert "Peer median" in _texts(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == df["period"].tolist()
    lo, hi = ax.get_ylim()
    assert lo == -100 and hi > 100  # room above the scale for the top point's label
    assert list(ax.get_yticks()) == [-100, -50, 0, 50, 100]
    annotations = [t for t in ax.texts if t.get_text() in {"10", "21", "31", "42"}]
    assert len(annotations) == 4


@pytest.mark.parametrize("values, ylim, title", [
    ([100.0, 100.0, 100.0], (0, 100), "CSAT by quarter (%)"),
    ([90.0, 100.0, 95.0, 100.0], (-100, 100), "NPS by quarter"),
    ([100.0, 64.0], (0, 100), "CSAT ըստ եռամսյակի (%), բոլոր պատասխանները"),
    ([-100.0, 100.0, 98.0, 100.0, 99.0, 100.0, 100.0, 97.0], (-100, 100), "NPS"),
])
def test_score_trend_labels_stay_clear_of_the_title(values, ylim, title):
    """A point at the top of a fixed scale keeps its label inside the plot, below the title."""
    df = pd.DataFrame({"period": _quarters(len(values)), "value": values})
    ax = charts.score_trend(df, ylim=ylim, title=title, fmt=lambda v: f"{v:.0f}")
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    heading = ax.title.get_window_extent(renderer)
    plot = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text() in {f"{v:.0f}" for v in values}]
    assert len(labels) == len(values)
    for label in labels:
        box = label.get_window_extent(renderer)
        assert not box.overlaps(heading), (label.get_text(), box, heading)
        assert box.y1 <= plot.y1, (label.get_text(), box, plot)


def test_score_trend_custom_columns_and_gaps():
    df = pd.DataFrame({"q": ["Q1", "Q2", "Q3"], "csat": [4.1, np.nan, 4.5]})
    ax = charts.score_trend(df, x="q", y="csat")
    assert {"4.1", "4.5"} <= set(_texts(ax))


def test_support_trend_bars_and_line_on_twin():
    ax = charts.support_trend(support_df())
    assert len(_bars(ax)) == 4
    right = ax.right_ax
    (line,) = right.get_lines()
    assert len(line.get_xdata()) == 4
    # Both scales have the same number of ticks, so they share grid lines.
    assert len(ax.get_yticks()) == len(right.get_yticks())
    assert [t.get_text() for t in right.get_legend().get_texts()] == [
        "Tickets", "Median resolution (hours)"]


def test_arr_history_step_and_events():
    ax = charts.arr_history(arr_df(), events=events_df(),
                            event_labels={"expansion": "Erweiterung"})
    lines = ax.get_lines()
    assert lines[0].get_drawstyle() == "steps-post"
    markers = {ln.get_label(): ln for ln in lines[1:]}
    assert set(markers) == {"New", "Erweiterung", "Contraction"}
    assert markers["Erweiterung"].get_color() == charts.PALETTE["good"]
    assert markers["Contraction"].get_color() == charts.PALETTE["bad"]
    # Events sit on the ARR in force at their month.
    assert list(markers["Contraction"].get_ydata()) == [140_000.0]


def test_retention_bars_grouped_with_reference():
    ax = charts.retention_bars(retention_df(), ref_label="100%")
    assert len(_bars(ax)) == 6
    refs = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [100, 100]]
    assert len(refs) == 1
    assert "100%" in _texts(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GRR", "NRR"]
    assert "112%" in _texts(ax)  # value labels


@pytest.mark.parametrize("values", [
    [97.0, 100.0, 93.0, 100.0, 97.0, 99.0],  # the portfolio's GRR and NRR by segment
    [100.5, 101.0, 99.5, 112.0, 4.0, 0.0],
])
def test_retention_bar_labels_never_sit_on_the_reference_line(values):
    """A value sits inside the top of its bar where it fits (the 100% line runs behind the
    bars), else above it; no label is crossed by the line, and each stays over its own bar."""
    df = retention_df().assign(value=values)
    ax = charts.retention_bars(df, ref_label="100%", bar_labels=True, fmt=lambda v: f"{v:g}%")
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    line_y = ax.transData.transform((0, 100))[1]
    labels = [t for t in ax.texts if hasattr(t, "xy")]
    bars = {round(b.get_x() + b.get_width() / 2, 6): b for b in _bars(ax)}
    assert sorted(t.get_text() for t in labels) == sorted(f"{v:g}%" for v in values)
    inside = 0
    for label in labels:
        bar = bars[round(label.xy[0], 6)]
        box, room = label.get_window_extent(renderer), bar.get_window_extent(renderer)
        if label.get_color() == "white":
            inside += 1
            assert room.x0 <= box.x0 and box.x1 <= room.x1 and room.y0 <= box.y0, label
        else:
            assert not box.y0 < line_y < box.y1, (label.get_text(), "crossed by the line")
            assert box.y0 >= room.y1 - 1, (label.get_text(), "above its bar")
    assert inside >= 4  # the tall bars hold their labels


def test_retention_bars_many_bars_drop_colliding_labels():
    df = pd.DataFrame([{"group": f"CSM number {i}", "metric": m, "value": 90.0 + i}
                       for i in range(14) for m in ("Gross revenue retention", "NRR", "CRR")])
    ax = charts.retention_bars(df)
    assert len(_bars(ax)) == 42
    assert not [t for t in _texts(ax) if t.endswith("%")]


def test_retention_bars_without_hue():
    df = pd.DataFrame({"group": ["A", "B"], "value": [95.0, 101.0]})
    ax = charts.retention_bars(df, hue=None, ref=None)
    assert len(_bars(ax)) == 2
    assert ax.get_legend() is None


def test_cohort_heatmap_cells_and_blank_nan():
    grid = cohort_df()
    ax = charts.cohort_heatmap(grid)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().size == grid.size
    shown = [t for t in _texts(ax) if t]
    assert len(shown) == int(grid.notna().sum().sum())
    assert "92%" in shown
    assert [t.get_text() for t in ax.get_yticklabels()] == list(grid.index)


def test_cohort_heatmap_callable_fmt():
    ax = charts.cohort_heatmap(cohort_df(), fmt=lambda v: f"{v:.1f} %")
    assert "92.0 %" in _texts(ax)


def test_survival_curves_points_and_lines():
    ax = charts.survival_curves(survival_df())
    lines = ax.get_lines()
    projected = [ln for ln in lines if ln.get_linestyle() == "-"]
    observed = [ln for ln in lines if ln.get_linestyle() == "None"]
    assert len(projected) == 2 and len(observed) == 2
    assert all(len(ln.get_xdata()) == 4 for ln in observed)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"Enterprise", "SMB", "Observed", "Projected"} <= set(legend)


def test_survival_curves_without_projection_has_no_projected_key():
    ax = charts.survival_curves(survival_df().query("kind == 'observed'"))
    assert not [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Observed" in legend and "Projected" not in legend


def test_survival_curves_rejects_unknown_kind():
    with pytest.raises(ValueError, match="'forecast'"):
        charts.survival_curves(survival_df().assign(kind="forecast"))


def test_health_distribution_band_colours_and_order():
    ax = charts.health_distribution(health_df())
    assert sum(1 for p in ax.patches if p.get_height() > 0) >= 3
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["At risk", "Watch", "Healthy"]
    colours = {mpl.colors.to_hex(h.get_facecolor()) for h in legend.legend_handles}
    assert colours == {charts.PALETTE["bad"], charts.PALETTE["accent"], charts.PALETTE["good"]}


def test_health_distribution_translated_bands_ordered_by_score():
    df = health_df().replace({"At risk": "Gefährdet", "Watch": "Beobachten",
                              "Healthy": "Gesund"})
    ax = charts.health_distribution(df)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Gefährdet", "Beobachten", "Gesund"]


def test_roc_curve_with_diagonal_and_auc():
    ax = charts.roc_curve(roc_df(), auc_label="AUC 0.82")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert any(list(ln.get_xdata()) == [0, 1] and list(ln.get_ydata()) == [0, 1]
               for ln in lines)
    assert ax.get_legend().get_title().get_text() == "AUC 0.82"


def test_value_by_group_sorted_bars_and_labels():
    ax = charts.value_by_group(group_df(), fmt=lambda v: f"€{v:,.0f}")
    bars = _bars(ax)
    assert [b.get_width() for b in bars] == [3.4e6, 1.2e6, 800e3, -50e3]
    assert mpl.colors.to_hex(bars[-1].get_facecolor()) == charts.PALETTE["bad"]
    assert "€3,400,000" in _texts(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ben", "Ana", "Dana", "Chen"]


def test_value_by_group_keeps_order_when_asked():
    ax = charts.value_by_group(group_df(), sort=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ana", "Ben", "Chen", "Dana"]


# --------------------------------------------------------------------------- output


def test_svg_keeps_text_as_text():
    ax = charts.cumulative_value(cumulative_df(), title="Cumulative value")
    buf = io.StringIO()
    ax.figure.savefig(buf, format="svg")
    svg = buf.getvalue()
    assert "<text" in svg
    assert "Cumulative value" in svg
    assert "VR DejaVu Sans" in svg
    assert 'id="DejaVuSans' not in svg and 'id="VRDejaVuSans' not in svg  # not drawn as paths


# Data text that matplotlib would read as mathtext: one typesets, one raises when drawn.
MATH_NAMES = [r"$\frac{1}{2}$ cost & <b>", r"$\nosuchcommand$ {{7*7}}", "Plain"]


def test_data_text_is_never_mathtext_in_an_embedded_figure():
    from valuelib.report import blocks

    charts.apply_style()
    drawn = [
        charts.driver_progress(data=pd.DataFrame({
            "driver": MATH_NAMES, "progress_pct": [10.0, 50.0, 80.0],
            "label": [r"$x^2$ units", "b", "c"]})),
        charts.feature_adoption(data=pd.DataFrame({
            "feature": MATH_NAMES, "adoption_pct": [10.0, 50.0, 80.0],
            "peer_pct": [20.0, 30.0, 40.0]})),
        charts.value_by_group(data=pd.DataFrame({"group": MATH_NAMES,
                                                 "value": [1.0, 2.0, 3.0]})),
        charts.survival_curves(data=pd.DataFrame({
            "period": [0, 1, 0, 1], "survival_pct": [100.0, 80.0, 100.0, 90.0],
            "group": [MATH_NAMES[0]] * 2 + [MATH_NAMES[1]] * 2,
            "kind": ["observed", "projected"] * 2})),
    ]
    with mpl.rc_context({"text.parse_math": True}):  # even where the house style is off
        drawn.append(charts.value_by_group(data=pd.DataFrame({"group": MATH_NAMES,
                                                              "value": [1.0, 2.0, 3.0]})))
    for ax in drawn:
        html = str(blocks.figure(ax))
        assert r"$\frac{1}{2}$ cost &amp; &lt;b&gt;" in html
        assert r"$\nosuchcommand$ {{7*7}}" in html


def _scaled(frame: pd.DataFrame, columns: list[str], top: float) -> pd.DataFrame:
    """`frame` with `columns` scaled so that their highest value is `top`."""
    out = frame.copy()
    high = float(out[columns].to_numpy(dtype=float).max())
    for c in columns:
        out[c] = out[c].astype(float) * (top / high)
    return out


_TOPPED = {
    "arr_history": lambda top: charts.arr_history(_scaled(arr_df(), ["arr"], top)),
    "cumulative_value": lambda top: charts.cumulative_value(
        _scaled(cumulative_df(), ["cumulative_value", "cumulative_cost"], top)),
    "adoption_trend": lambda top: charts.adoption_trend(
        _scaled(adoption_df(), ["active_users", "licensed_seats"], round(top))),
    "retention_bars": lambda top: charts.retention_bars(
        _scaled(retention_df(), ["value"], top), ref=None),
}


@pytest.mark.parametrize("top", [273e6, 201.0, 105.0, 19.0, 2.6, 1_040.0, 7_350.0, 130.0])
@pytest.mark.parametrize("name", list(_TOPPED))
def test_the_highest_value_stays_under_a_labelled_line(name, top):
    """An amount or count axis ends on a tick at or above the highest value, so a reader can
    read it off the scale (ARR of 273M under a line at 300M, not above the last one at 200M),
    with no more than one step of air above it."""
    ax = _TOPPED[name](top)
    ax.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if lo - 1e-9 <= t <= hi * (1 + 1e-9)]
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    assert len(shown) >= 3 and len(labels) >= 3
    assert max(shown) >= top * (1 - 1e-9), (shown, top)
    step = shown[1] - shown[0]
    assert hi - top <= step + 1e-9 and hi <= max(shown) + step, (lo, hi, shown, top)


def test_the_highest_health_count_stays_under_a_labelled_line():
    health = np.array([72.0] * 13 + [15, 35, 45, 50, 62, 88, 91, 99])
    band = np.where(health < 40, "At risk", np.where(health < 65, "Watch", "Healthy"))
    ax = charts.health_distribution(pd.DataFrame({"health": health, "band": band}))
    lo, hi = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if lo <= t <= hi]
    assert max(shown) >= 13, shown


def test_score_labels_hide_the_reference_line_under_them():
    """NPS −16.7 with a reference line at 0: the label above the point sits on the line, so
    it is drawn on a white ground above it (the dashes stopped showing through the digits)."""
    df = pd.DataFrame({"period": _quarters(3), "value": [-100.0, -16.7, 0.0]})
    ax = charts.score_trend(df, ylim=(-100, 100), ref=0, fmt=lambda v: f"{v:.1f}")
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    (line,) = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [0, 0]]
    y0 = ax.transData.transform((0, 0))[1]
    label = next(t for t in ax.texts if t.get_text() == "-16.7")
    box = label.get_window_extent(renderer)
    assert box.y0 <= y0 <= box.y1  # this label is on the line
    for text in [t for t in ax.texts if t.get_text() in {"-100.0", "-16.7", "0.0"}]:
        patch = text.get_bbox_patch()
        assert patch is not None and mpl.colors.to_hex(patch.get_facecolor()) == "#ffffff"
        assert text.get_zorder() > line.get_zorder()


def test_the_house_look_is_seaborns_theme_drawn_without_seaborn() -> None:
    """`apply_style` starts from matplotlib's copies of seaborn's styles and spells out where
    seaborn 0.13's theme differs: every rcParam is the one seaborn's theme under the house's
    rcParams gives, but the default colormap (seaborn's own, which nothing here draws with)."""
    import seaborn as sns

    from valuelib.report.charts import style

    with mpl.rc_context():
        mpl.rcdefaults()
        sns.set_theme(style="whitegrid", palette=list(style.CYCLE), rc=style._STYLE_RC)
        mpl.rcParams.update(style._STYLE_RC)
        themed = dict(mpl.rcParams)
    with mpl.rc_context():
        mpl.rcdefaults()
        style.apply_style()
        house = dict(mpl.rcParams)
    assert {k: (themed[k], house[k]) for k in themed if themed[k] != house[k]} == {
        "image.cmap": ("rocket", "Greys")}


def test_a_value_reviews_imports_leave_out_seaborn_and_scipy() -> None:
    """What a value review's kernel imports (`forkserver.preload_modules`, the house style
    applied) holds neither seaborn nor scipy: 0.9 s of CPU at every batch's start."""
    import os
    import subprocess
    import sys

    code = ("import importlib, sys\n"
            "from valuelib.render.kernels import forkserver\n"
            "for name in forkserver.preload_modules(): importlib.import_module(name)\n"
            "from valuelib.report import charts\n"
            "charts.apply_style()\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'seaborn', 'scipy'}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    assert done.stdout.strip() == "[]"
