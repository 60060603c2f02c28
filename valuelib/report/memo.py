"""What saving one chart works out many times over, worked out once: axis ticks, text layouts.

Saving a chart asks every axis for its ticks (its locator's positions, its formatter's
labels, the tick artists moved and relabelled: ``Axis._update_ticks``) about a dozen times.
Each of the two constrained-layout passes and the tight box measure the axis, and measure
its ticks a second time to place the axis label (``_update_label_position`` measures the
ticks of the label's alignment group, the axis itself included); drawing does both again.
Each of those measurements lays out every text of the chart again (``Text._get_layout``:
its lines measured, aligned and rotated). Between these requests nothing changes but where
the layout puts the axes.

Inside `remembered` (`blocks.figure` saving one chart), a repeated request is answered from
a memo whose key is everything the answer depends on there:

- ticks: the axis, its view limits, its axes' box on the canvas (the layout and the crop move
  it, and an "auto" locator's tick count follows its length), its scale, its locators and
  formatters;
- a text's layout (which is relative to its anchor, so not moved by the layout): its string,
  font properties (a copy: they are mutable), mathtext parsing, rotation and rotation mode,
  alignments, line spacing, the figure's dpi and the renderer's kind and dpi. Wrapped text
  (it follows the figure's size) and TeX are laid out afresh every time.

The charts and their SVG bytes are the same (``make digest-check``). Outside `remembered`,
matplotlib answers as always. Both are matplotlib internals (checked with 3.11); a matplotlib
without one is left alone there.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["STATS", "install", "remembered"]

_MARK = "_valuereview_memo"
_memo: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar(
    "valuereview_save_memo", default=None)


class _Counts:
    """How often a request inside `remembered` was answered from the memo (for tests)."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0


#: Counts per memo: "ticks" and "text layout".
STATS: dict[str, _Counts] = {"ticks": _Counts(), "text layout": _Counts()}


def _ticks_key(axis: Any) -> tuple[Any, ...]:
    """What an axis's ticks depend on while a figure is saved."""
    return ("ticks", id(axis), tuple(axis.get_view_interval()), axis.axes.bbox.bounds,
            axis.get_scale(), id(axis.major.locator), id(axis.major.formatter),
            id(axis.minor.locator), id(axis.minor.formatter))


def _layout_key(text: Any, renderer: Any) -> tuple[Any, ...] | None:
    """What a text's layout depends on, or None for text laid out afresh every time."""
    if text.get_wrap() or text.get_usetex():
        return None
    return ("text layout", text.get_text(), text.get_fontproperties(), text.get_parse_math(),
            text.get_rotation(), text.get_rotation_mode(), text.get_horizontalalignment(),
            text.get_verticalalignment(), text._get_multialignment(), text._linespacing,
            text.get_figure(root=True).dpi, type(renderer), getattr(renderer, "dpi", None))


def _answer(memo: dict[tuple[Any, ...], Any], key: tuple[Any, ...], counts: _Counts,
            work: Callable[[], Any], stored_key: Callable[[], tuple[Any, ...]]) -> Any:
    try:
        answer = memo[key]
    except KeyError:
        counts.misses += 1
        answer = memo[stored_key()] = work()
    else:
        counts.hits += 1
    return answer


def _memoized_ticks(update_ticks: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    counts = STATS["ticks"]

    @functools.wraps(update_ticks)
    def _update_ticks(self: Any) -> list[Any]:
        memo = _memo.get()
        if memo is None:
            return update_ticks(self)
        key = _ticks_key(self)
        return list(_answer(memo, key, counts, lambda: update_ticks(self), lambda: key))

    setattr(_update_ticks, _MARK, True)
    return _update_ticks


def _memoized_layout(get_layout: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    counts = STATS["text layout"]

    @functools.wraps(get_layout)
    def _get_layout(self: Any, renderer: Any) -> Any:
        memo = _memo.get()
        key = None if memo is None else _layout_key(self, renderer)
        if key is None:
            return get_layout(self, renderer)

        def stored() -> tuple[Any, ...]:  # font properties are mutable: keep a copy
            return (*key[:2], key[2].copy(), *key[3:])

        bbox, lines, corner = _answer(memo, key, counts, lambda: get_layout(self, renderer),
                                      stored)
        return bbox.frozen(), list(lines), corner

    setattr(_get_layout, _MARK, True)
    return _get_layout


def install() -> None:
    """Put the memos in front of ``Axis._update_ticks`` and ``Text._get_layout``
    (idempotent); they answer from a memo only inside `remembered`."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    for cls, name, wrap in ((Axis, "_update_ticks", _memoized_ticks),
                            (Text, "_get_layout", _memoized_layout)):
        own = cls.__dict__.get(name)
        if own is not None and not getattr(own, _MARK, False):
            setattr(cls, name, wrap(own))


@contextlib.contextmanager
def remembered() -> Iterator[None]:
    """Answer repeated tick and text-layout requests from one memo for the duration (one
    figure's save)."""
    install()
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)
