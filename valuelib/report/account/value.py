"""The value section: value cards, the driver table and its notes, progress, caption."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from valuelib.model.account import AccountReview
from valuelib.report.account._shared import (
    GRADE_TEXT,
    _num,
)
from valuelib.report.fmt import Formatter


def value_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    """Value to date, cost to date, ROI and payback."""
    _ = f.tr.gettext
    v = r.value
    payback = (f.with_unit(_("{months} months").format(months=f.number(v.payback_months, 1)))
               if v.payback_months is not None else f.missing)
    return [
        {"label": _("Value delivered to date"), "value": f.money(v.value_to_date)},
        {"label": _("Subscription cost to date"), "value": f.money(v.cost_to_date)},
        {"label": _("ROI to date"), "value": f.pct(v.roi_pct),
         "hint": _("multiple {multiple}").format(multiple=f.multiple(v.roi_multiple))},
        {"label": _("Payback"), "value": payback,
         "hint": _("months of this quarter's value to pay a year's subscription")},
    ]


def driver_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    """One row per driver: both baselines where re-baselined, current, target, progress, money."""
    _, p_ = f.tr.gettext, f.tr.pgettext
    rows = []
    for d in r.drivers:
        baseline = _num(d.business_case_baseline, f)
        if d.rebaselined:
            baseline = _("{business_case} → {baseline} (re-baselined)").format(
                business_case=baseline, baseline=_num(d.baseline, f))
        current = _num(d.current, f)
        if d.stale and d.current_period_end is not None:
            current = _("{value} (as of {date})").format(value=current,
                                                         date=f.date(d.current_period_end))
        progress = f.pct(d.progress_pct, 0)
        if d.rebaselined and d.business_case_progress_pct is not None:
            progress = _("{progress} ({business_case_progress} vs business case)").format(
                progress=progress, business_case_progress=f.pct(d.business_case_progress_pct, 0))
        grade = _(GRADE_TEXT[d.grade]) if d.grade in GRADE_TEXT else d.grade
        rows.append({
            p_("table header", "Driver"): d.name,
            p_("table header", "Unit"): d.unit,
            p_("table header", "Baseline"): baseline,
            p_("table header", "Current"): current,
            p_("table header", "Target"): _num(d.target, f),
            p_("table header", "Progress"): progress,
            p_("table header", "Value this quarter"): f.money(d.value_quarter),
            p_("table header", "Value to date"): f.money(d.value_to_date),
            p_("table header", "Confidence"): grade,
        })
    return pd.DataFrame(rows, dtype=object)


#: The badge kind (blocks.BADGE_KINDS) of each confidence grade; other grades: not_available.
GRADE_BADGES = {"A": "completed", "B": "in_progress"}


def driver_badges(f: Formatter) -> dict[str, Callable[[Any], str]]:
    """`blocks.table`'s ``badges`` for `driver_table`: the Confidence column as badges."""
    kinds = {f.tr.gettext(text): GRADE_BADGES.get(grade, "not_available")
             for grade, text in GRADE_TEXT.items()}
    return {f.tr.pgettext("table header", "Confidence"):
            lambda label: kinds.get(label, "not_available")}


def driver_notes(r: AccountReview, f: Formatter) -> list[str]:
    """Re-baselines and unmeasured drivers, said plainly."""
    _ = f.tr.gettext
    out = []
    for d in r.drivers:
        if d.rebaselined:
            out.append(_(
                "{driver} was re-baselined on {date}: from the business case's "
                "{business_case} to {baseline} {unit}. Progress is shown against both; money "
                "value uses the baseline in force when each measurement was taken."
            ).format(driver=d.name, date=f.date(d.rebaseline_date),
                     business_case=_num(d.business_case_baseline, f),
                     baseline=_num(d.baseline, f), unit=d.unit))
        if d.current is None:
            out.append(_("{driver} has no measurement yet: not enough data.").format(
                driver=d.name))
    return out


def driver_progress_frame(r: AccountReview, f: Formatter) -> pd.DataFrame:
    rows = [
        {"driver": d.name, "progress_pct": d.progress_pct,
         "label": f"{_num(d.baseline, f)} → {_num(d.current, f)} → {_num(d.target, f)} {d.unit}"}
        for d in r.drivers if d.progress_pct is not None
    ]
    return pd.DataFrame(rows, columns=["driver", "progress_pct", "label"])


def value_series_caption(r: AccountReview, f: Formatter) -> str:
    _ = f.tr.gettext
    v = r.value
    if v.value_to_date >= v.cost_to_date and v.cost_to_date > 0:
        return _("Value delivered to date ({value}) has passed the subscription cost to date "
                 "({cost}).").format(value=f.money(v.value_to_date), cost=f.money(v.cost_to_date))
    return _("Value delivered to date: {value}; subscription cost to date: {cost}.").format(
        value=f.money(v.value_to_date), cost=f.money(v.cost_to_date))
