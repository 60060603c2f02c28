"""The success plan: goals with their status badges and completion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from valuelib.model.account import AccountReview
from valuelib.report.account._shared import (
    STATUS_LABELS,
)
from valuelib.report.fmt import Formatter


def plan_table(plan: pd.DataFrame, f: Formatter) -> pd.DataFrame:
    """Goals with owner, due date and status (never the internal note); shown with
    `plan_badges`, the status is a badge."""
    p_ = f.tr.pgettext
    cols = [p_("table header", "Goal"), p_("table header", "Owner"), p_("table header", "Due"),
            p_("table header", "Status")]
    rows = [dict(zip(cols, (
        str(p.goal),
        str(p.owner),
        f.date(pd.Timestamp(p.due_date).date()),
        _status_label(str(p.status), f),
    ), strict=True)) for p in plan.itertuples()]
    return pd.DataFrame(rows, columns=cols, dtype=object)


def _status_label(status: str, f: Formatter) -> str:
    """A goal's status in the document's language (an unknown status as it is)."""
    return f.tr.pgettext("status", STATUS_LABELS[status]) if status in STATUS_LABELS else status


def plan_badges(f: Formatter) -> dict[str, Callable[[Any], str]]:
    """`blocks.table`'s ``badges`` for `plan_table`: each status as a badge of its own kind."""
    kinds = {_status_label(status, f): status for status in STATUS_LABELS}
    return {f.tr.pgettext("table header", "Status"): lambda label: kinds.get(label, label)}


def plan_caption(r: AccountReview, f: Formatter) -> str:
    _ = f.tr.gettext
    if r.plan_completion_pct is None:
        return _("Goals for {quarter}").format(quarter=f.quarter(r.quarter))
    return _("Goals for {quarter}: {completed} completed (goals marked not available are "
             "left out)").format(quarter=f.quarter(r.quarter),
                                 completed=f.pct(r.plan_completion_pct, 0))
