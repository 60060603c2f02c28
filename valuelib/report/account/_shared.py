"""Labels and small formatting helpers that every section of the value review shares."""

from __future__ import annotations

from typing import Any

import pandas as pd

from valuelib.model import health
from valuelib.model.account import HIGH, LOW, MEDIUM, Headline
from valuelib.report import blocks
from valuelib.report.fmt import Formatter
from valuelib.report.i18n import C_, N_
from valuelib.report.record import figure_formatters

STATUS_LABELS = {
    "completed": C_("status", "Completed"),
    "in_progress": C_("status", "In progress"),
    "overdue": C_("status", "Overdue"),
    "not_available": C_("status", "Not available"),
}
GRADE_TEXT = {
    "A": N_("A · customer confirmed"),
    "B": N_("B · measured"),
    "C": N_("C · estimated"),
}
#: The contract's tables as a reader knows them (the methodology lists those not provided).
TABLE_LABELS = {
    "accounts": N_("accounts"),
    "arr_history": N_("ARR history"),
    "value_drivers": N_("value drivers"),
    "value_measurements": N_("value measurements"),
    "usage": N_("product usage"),
    "nps_responses": N_("NPS answers"),
    "support_tickets": N_("support tickets"),
    "online_reviews": N_("online reviews"),
    "success_plan": N_("success plan"),
}
#: Health bands by `model.health`'s keys, as a reader sees them (worst first).
BAND_LABELS = {health.AT_RISK: C_("health band", "At risk"),
               health.WATCH: C_("health band", "Watch"),
               health.HEALTHY: C_("health band", "Healthy")}
#: Health score components, as a reader sees them (pgettext context "health component").
COMPONENT_LABELS = {
    "adoption": C_("health component", "adoption"),
    "value": C_("health component", "value"),
    "nps": C_("health component", "NPS"),
    "support": C_("health component", "support"),
}
#: Each health component's formula (`model.health.components`), as the methodology says it.
COMPONENT_FORMULAS = {
    "adoption": N_("seat utilisation %, capped at 100"),
    "value": N_("value realized vs business case %, clipped to 0–100"),
    "nps": N_("(NPS + 100) / 2"),
    "support": N_("CSAT %"),
}
SEVERITY_LABELS = {HIGH: C_("risk severity", "high"), MEDIUM: C_("risk severity", "medium"),
                   LOW: C_("risk severity", "low")}
NOTE_TITLES = {
    "info": C_("note", "Note"),
    "warning": C_("note", "Please note"),
    "estimate": C_("note", "Illustrative estimate"),
    "not_enough_data": C_("note", "Not enough data"),
    "internal": C_("note", "Internal only"),
}


def note_title(kind: str, f: Formatter) -> str:
    """The label of a note box of `kind` (blocks.NOTE_KINDS) in the document's language."""
    return f.tr.pgettext("note", NOTE_TITLES[kind])


EVENT_LABELS = {"new": C_("ARR event", "New"), "expansion": C_("ARR event", "Expansion"),
                "contraction": C_("ARR event", "Contraction"), "churn": C_("ARR event", "Churn")}


def event_labels(f: Formatter) -> dict[str, str]:
    """Legend labels of the ARR chart's events, in the document's language."""
    return {k: f.tr.pgettext("ARR event", v) for k, v in EVENT_LABELS.items()}


def note(text: str, kind: str, f: Formatter, *, title: str | None = None) -> blocks.Block:
    """A note box (blocks.note) whose label is in the document's language."""
    return blocks.note(text, kind=kind, title=note_title(kind, f) if title is None else title)


def band_label(band: str | None, f: Formatter) -> str:
    """A health band's name in the document's language ("not enough data" when None)."""
    if not band:
        return f.missing
    return f.tr.pgettext("health band", BAND_LABELS.get(band, band))


def component_label(name: str, f: Formatter) -> str:
    """A health score component's name in the document's language."""
    return f.tr.pgettext("health component", COMPONENT_LABELS.get(name, name))


def _change(h: Headline, f: Formatter, prev_label: str) -> dict[str, Any]:
    """A KPI card's change text and tone for one headline figure."""
    if h.change is None:
        return {}
    if h.kind == "money":
        if not h.previous:
            return {}
        text = f.signed_pct(h.change / abs(h.previous) * 100.0, 1)
    elif h.kind == "pct":
        text = f.signed_points(h.change, 1, unit="pp")
    elif h.kind == "multiple":
        text = f.signed(h.change, 1, "×")
    else:
        text = f.signed_points(h.change, 0, unit="pts")
    tone = "neutral" if abs(h.change) < 1e-9 else ("up_good" if h.change > 0 else "bad")
    return {"change": text, "tone": tone,
            "hint": f.tr.gettext("vs {quarter}").format(quarter=prev_label)}


def _value(h: Headline, f: Formatter) -> str:
    return figure_formatters(f)[h.kind](h.value)


def _num(x: float | None, f: Formatter) -> str:
    if x is None:
        return f.missing
    digits = 0 if abs(x) >= 100 else 1
    return f.number(x, digits)


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def _list(items: list[str], f: Formatter) -> str:
    from babel.lists import format_list

    return format_list(items, locale=f.babel_locale)
