"""matplotlib work whose answer nothing reads, skipped: the same charts with less layout.

On every constrained-layout pass, for the tight box and again while it draws, each axis puts
its label beside its tick labels (`Axis._update_label_position`): it works out the ticks and
measures the tick labels of the axis and of its siblings to find where. A label with no text
draws nothing, and its box has no size, so the layout and the tight box leave it out and its
position is never used. Most axes of the house charts have no label (five in six positionings
in the demo's reviews), and for those `install` skips the measuring. The label is positioned
as before as soon as it has text; what differs is only where an empty label's position says
it would be. A matplotlib internal (checked with matplotlib 3.11): a matplotlib that lacks it
is left as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_MARK = "_valuereview_shortcut"


def positioned_when_labelled(update: Callable[..., Any]) -> Callable[..., Any]:
    """`update` (an axis class's ``_update_label_position``), skipped for a label with no text."""

    @functools.wraps(update)
    def _update_label_position(self: Any, renderer: Any) -> Any:
        if self.label.get_text() == "":
            return None
        return update(self, renderer)

    setattr(_update_label_position, _MARK, True)
    return _update_label_position


def install() -> None:
    """Skip positioning empty axis labels, on the x and y axes' classes. Idempotent."""
    from matplotlib.axis import XAxis, YAxis

    for cls in (XAxis, YAxis):
        current = cls.__dict__.get("_update_label_position")
        if current is None or getattr(current, _MARK, False):
            continue
        cls._update_label_position = positioned_when_labelled(current)
