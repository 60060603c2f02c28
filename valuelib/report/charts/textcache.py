"""Remembered font lookups and text measurements for matplotlib: same answers, found once.

A chart's text is measured many times: by the chart itself (legend columns, slanted labels,
on the raster canvas), by each constrained-layout pass and the tight box (on a dry-run SVG
renderer), and again while the SVG is drawn (on a new SVG renderer). matplotlib remembers a
measurement only per renderer object, so every new renderer shapes the same strings again
(``FT2Font.set_text``), and every measurement first asks the font manager for the files of
the text's font families (``FontManager._find_fonts_by_props``), which copies the font
properties and reads eleven ``font.*`` rcParams once per family (the house style has five)
before it reaches matplotlib's own cache.

Each of those passes also lays every text out again (`Text._get_layout`: its lines, line
metrics, rotation and alignment, relative to its anchor), the same way for the same tick
label, title or legend entry.

`install` puts a memo in front of each, process-wide. A memo's key holds everything the
answer depends on (the string, a copy of the font properties, the renderer's dpi for the
raster renderer, the font and hinting rcParams, the installed fonts and
``MPL_IGNORE_SYSTEM_FONTS``; for a layout also the renderer's class, the figure's dpi, the
text's rotation, alignments and line spacing), so the answers, the charts and their SVG bytes
are the same; mathtext, TeX and wrapped text are passed through unremembered. These are matplotlib
internals (checked with matplotlib 3.11); `install` leaves out any that a matplotlib lacks.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
from matplotlib import font_manager

#: The rcParams a font lookup or a measurement depends on (the ``font.*`` ones are those
#: matplotlib's `FontManager.findfont` reads; the ``text.*`` ones set hinting and kerning).
RC_KEYS: tuple[str, ...] = (
    *(f"font.{key}" for key in ("family", "style", "variant", "weight", "stretch", "size",
                                "serif", "sans-serif", "cursive", "fantasy", "monospace")),
    "text.hinting", "text.hinting_factor", "text.kerning_factor",
)

#: Entries a memo keeps before it starts over (a review needs a few hundred).
MEMO_LIMIT = 8192

_MARK = "_valuereview_memo"


def _rc_key() -> tuple[Any, ...]:
    """The rcParams of `RC_KEYS` as a hashable tuple (read directly, as ``rcParams._get``)."""
    rc = mpl.rcParams
    get = getattr(rc, "_get", rc.__getitem__)
    return tuple(tuple(v) if isinstance(v, list) else v for v in map(get, RC_KEYS))


def _fonts_key(manager: Any) -> tuple[Any, ...]:
    """What a lookup depends on besides its arguments: rcParams and the installed fonts."""
    return (_rc_key(), len(manager.ttflist), len(manager.afmlist),
            os.environ.get("MPL_IGNORE_SYSTEM_FONTS"))


class _Memo:
    """A bounded dict of answers (cleared when full), with hit and miss counts for tests."""

    def __init__(self) -> None:
        self.answers: dict[tuple[Any, ...], Any] = {}
        self.hits = 0
        self.misses = 0

    def remember(self, key: tuple[Any, ...], answer: Any) -> None:
        if len(self.answers) >= MEMO_LIMIT:
            self.answers.clear()
        self.answers[key] = answer


#: The memos `install` puts in place, by name (for tests and the profile script).
MEMOS: dict[str, _Memo] = {}


def memoized_font_lookup(find: Callable[..., list[Any]], manager: Any) -> Callable[..., list[Any]]:
    """`find` (a font manager's ``_find_fonts_by_props``) answering repeated requests from a
    memo; anything but `FontProperties` goes straight to `find`."""
    memo = MEMOS.setdefault("fonts", _Memo())

    def find_fonts_by_props(prop: Any, fontext: str = "ttf", directory: Any = None,
                            fallback_to_default: bool = True,
                            rebuild_if_missing: bool = True) -> list[Any]:
        if not isinstance(prop, font_manager.FontProperties):
            return find(prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        rest = (fontext, directory, fallback_to_default, rebuild_if_missing,
                *_fonts_key(manager))
        try:
            paths = memo.answers[(prop, *rest)]
        except KeyError:
            memo.misses += 1
            paths = find(prop, fontext, directory, fallback_to_default, rebuild_if_missing)
            # Properties are mutable: the key holds a copy, as they were when asked.
            memo.remember((prop.copy(), *rest), list(paths))
            return paths
        memo.hits += 1
        return list(paths)

    setattr(find_fonts_by_props, _MARK, True)
    return find_fonts_by_props


def memoized_measure(measure: Callable[..., Any], name: str, *,
                     by_dpi: bool) -> Callable[..., Any]:
    """A renderer's ``get_text_width_height_descent`` answering plain text from a memo
    shared by every renderer of its class (keyed by the renderer's dpi when `by_dpi`)."""
    memo = MEMOS.setdefault(name, _Memo())

    @functools.wraps(measure)
    def get_text_width_height_descent(self: Any, s: str, prop: Any, ismath: Any) -> Any:
        if ismath or not isinstance(s, str) or not isinstance(
                prop, font_manager.FontProperties):
            return measure(self, s, prop, ismath)
        rest = (getattr(self, "dpi", None) if by_dpi else None,
                *_fonts_key(font_manager.fontManager))
        try:
            answer = memo.answers[(s, prop, *rest)]
        except KeyError:
            memo.misses += 1
            answer = measure(self, s, prop, ismath)
            memo.remember((s, prop.copy(), *rest), answer)
            return answer
        memo.hits += 1
        return answer

    setattr(get_text_width_height_descent, _MARK, True)
    return get_text_width_height_descent


def _layout_key(text: Any, renderer: Any) -> tuple[Any, ...] | None:
    """What `Text._get_layout` depends on besides the fonts, or None for a text it does not
    remember: wrapped (laid out against the figure), TeX, or possibly mathtext."""
    string = text.get_text()
    if (not isinstance(string, str) or text.get_wrap() or text.get_usetex()
            or (text.get_parse_math() and "$" in string)):
        return None
    figure = text.get_figure(root=True)
    return (string, text.get_fontproperties(), type(renderer),
            figure.dpi if figure is not None else None, text.get_linespacing(),
            text._get_multialignment(), text.get_rotation(), text.get_horizontalalignment(),
            text.get_verticalalignment(), text.get_rotation_mode(),
            *_fonts_key(font_manager.fontManager))


def memoized_layout(layout: Callable[..., Any]) -> Callable[..., Any]:
    """`Text._get_layout` answering a text laid out before in the same way from a memo
    (a fresh `Bbox` and list each time: callers may change what they are given)."""
    from matplotlib.transforms import Bbox

    memo = MEMOS.setdefault("layout", _Memo())

    @functools.wraps(layout)
    def _get_layout(self: Any, renderer: Any) -> Any:
        key = _layout_key(self, renderer)
        if key is None:
            return layout(self, renderer)
        try:
            points, lines, box = memo.answers[key]
        except KeyError:
            memo.misses += 1
            bbox, lines, box = layout(self, renderer)
            memo.remember((key[0], key[1].copy(), *key[2:]),
                          (bbox.get_points().copy(), tuple(lines), box))
            return bbox, lines, box
        memo.hits += 1
        return Bbox(points.copy()), list(lines), box

    setattr(_get_layout, _MARK, True)
    return _get_layout


class _FontTables:
    """One font's SFNT tables, each read once; anything else goes to the font itself.

    `Text` reads a font's ``OS/2``/``hhea`` and ``head`` tables (line metrics) every time it
    lays itself out; the tables are the file's, so one reading serves every later layout.
    """

    def __init__(self, font: Any) -> None:
        self._font = font
        self._tables: dict[str, Any] = {}

    def get_sfnt_table(self, name: str) -> Any:
        try:
            return self._tables[name]
        except KeyError:
            table = self._tables[name] = self._font.get_sfnt_table(name)
            return table

    def __getattr__(self, name: str) -> Any:
        return getattr(self._font, name)


def memoized_font_tables(get_font: Callable[..., Any]) -> Callable[..., Any]:
    """`get_font` as `matplotlib.text` uses it (for the line metrics in a font's tables):
    the font for the same files once, behind `_FontTables`."""
    memo = MEMOS.setdefault("font tables", _Memo())

    @functools.wraps(get_font)
    def get_font_tables(font_filepaths: Any, *args: Any, **kwargs: Any) -> Any:
        key = tuple(font_filepaths) if isinstance(font_filepaths, list | tuple) else None
        if key is None or args or kwargs:
            return get_font(font_filepaths, *args, **kwargs)
        try:
            found = memo.answers[key]
        except KeyError:
            memo.misses += 1
            found = _FontTables(get_font(font_filepaths))
            memo.remember(key, found)
            return found
        memo.hits += 1
        return found

    setattr(get_font_tables, _MARK, True)
    return get_font_tables


def install() -> None:
    """Put the memos in front of matplotlib's font lookup, of the font tables `Text` reads for
    its line metrics, of the SVG and raster (Agg) renderers' text measurement, and of
    `Text`'s layout. Idempotent."""
    from matplotlib import text
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    # Each piece is matplotlib-internal: one another matplotlib lacks is left as it is.
    manager = font_manager.fontManager
    get_font = getattr(text, "get_font", None)
    if get_font is not None and not getattr(get_font, _MARK, False):
        text.get_font = memoized_font_tables(get_font)
    layout = text.Text.__dict__.get("_get_layout")
    if (layout is not None and hasattr(text.Text, "_get_multialignment")
            and not getattr(layout, _MARK, False)):
        text.Text._get_layout = memoized_layout(layout)
    find = getattr(manager, "_find_fonts_by_props", None)
    if find is not None and not getattr(find, _MARK, False):
        manager._find_fonts_by_props = memoized_font_lookup(find, manager)
    # SVG measures with matplotlib's TextToPath at a fixed 72 dpi; Agg at its own dpi.
    for cls, by_dpi in ((RendererSVG, False), (RendererAgg, True)):
        current = cls.__dict__.get("get_text_width_height_descent")
        if current is None or getattr(current, _MARK, False):
            continue
        cls.get_text_width_height_descent = memoized_measure(
            current, f"measure:{cls.__name__}", by_dpi=by_dpi)
