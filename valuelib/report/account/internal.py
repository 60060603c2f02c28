"""The internal-only section: health score, its components, and the risks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from valuelib.model.account import AccountReview, Risk
from valuelib.report.account._shared import (
    COMPONENT_FORMULAS,
    SEVERITY_LABELS,
    _list,
    _num,
    band_label,
    component_label,
)
from valuelib.report.fmt import Formatter
from valuelib.report.i18n import N_


def health_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    _ = f.tr.gettext
    h, hp = r.health, r.health_previous
    card: dict[str, Any] = {"label": _("Health score"),
                            "value": f.number(h.score, 1) if h and h.score is not None
                            else f.missing,
                            "hint": band_label(h.band if h else None, f)}
    if h and hp and h.score is not None and hp.score is not None:
        d = h.score - hp.score
        card.update({"change": f.signed_points(d, 1, unit="pts"),
                     "tone": "up_good" if d >= 0 else "bad"})
    return [
        card,
        {"label": _("Contract value at risk"), "value": f.money(r.value_at_risk),
         "hint": _("ARR of an account in the At risk band")},
        {"label": _("ARR"), "value": f.money(r.commercial.arr)},
    ]


def health_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    _, p_ = f.tr.gettext, f.tr.pgettext
    cols = [p_("table header", "Component"), p_("table header", "Score"),
            p_("table header", "Weight"), p_("table header", "Formula")]
    h = r.health
    if h is None:
        return pd.DataFrame(columns=cols)
    rows = []
    for name in [*h.drivers, *h.missing]:
        formula = COMPONENT_FORMULAS.get(name)
        rows.append(dict(zip(cols, (component_label(name, f), _num(h.components.get(name), f),
                                    f.number(h.weights.get(name, 0), 2),
                                    _(formula) if formula else ""), strict=True)))
    return pd.DataFrame(rows, columns=cols)


def missing_components_text(r: AccountReview, f: Formatter) -> str | None:
    """The health components without data, or None when every component has data."""
    if not r.health or not r.health.missing:
        return None
    names = [component_label(m, f) for m in r.health.missing]
    return f.tr.ngettext(
        "Missing component (its weight is spread over the rest): {components}.",
        "Missing components (their weight is spread over the rest): {components}.",
        len(names),
    ).format(components=_list(names, f))


#: Risk messages by the model's risk key; fields are filled from the risk's own fields.
RISK_TEXT = {
    "churned": N_("Churned on {date}."),
    "at_risk": N_("Health score {score} is in the At risk band."),
    "low_adoption": N_("Seat utilisation {utilisation} is below {threshold}."),
    "negative_nps": N_("NPS is negative ({nps})."),
    "contraction": N_("ARR contracted this quarter by {change}."),
    "below_baseline": N_("Below baseline: {drivers}."),
}


def risk_text(k: Risk, f: Formatter) -> str:
    """A risk in the document's language, worded from its kind and figures."""
    key, x = k.kind, k.fields
    _, n_ = f.tr.gettext, f.tr.ngettext
    if key == "churned":
        return _(RISK_TEXT[key]).format(date=f.date(x["date"]))
    if key == "at_risk":
        return _(RISK_TEXT[key]).format(score=f.number(x["score"], 1))
    if key == "renewal":
        return n_("Renewal in {count} day with health band {band}.",
                  "Renewal in {count} days with health band {band}.", x["days"]).format(
            count=f.number(x["days"]), band=band_label(x["band"], f))
    if key == "low_adoption":
        return _(RISK_TEXT[key]).format(utilisation=f.pct(x["utilisation"]),
                                        threshold=f.pct(x["threshold"], 0))
    if key == "negative_nps":
        return _(RISK_TEXT[key]).format(nps=f.number(x["nps"], 1))
    if key == "contraction":
        return _(RISK_TEXT[key]).format(change=f.pct(x["change"]))
    if key == "overdue_goals":
        return n_("{count} success-plan goal overdue.", "{count} success-plan goals overdue.",
                  x["count"]).format(count=f.number(x["count"]))
    if key == "open_tickets":
        return n_("{count} support ticket open at quarter end.",
                  "{count} support tickets open at quarter end.", x["count"]).format(
            count=f.number(x["count"]))
    if key == "below_baseline":
        return _(RISK_TEXT[key]).format(drivers=_list(list(x["drivers"]), f))
    if key == "missing_component":
        return _("No data for the {component} component of the health score.").format(
            component=component_label(x["component"], f))
    raise ValueError(f"no wording for a risk of kind {key!r}")


def risk_table(r: AccountReview, f: Formatter | None = None) -> pd.DataFrame:
    """The internal review's risks, most severe first."""
    f = f or Formatter(r.locale, r.currency)
    _, p_ = f.tr.gettext, f.tr.pgettext
    cols = [p_("table header", "Severity"), p_("table header", "Risk")]
    if not r.risks:
        return pd.DataFrame([dict(zip(cols, ("—", _("No risks flagged.")), strict=True))])
    return pd.DataFrame([dict(zip(cols, (
        p_("risk severity", SEVERITY_LABELS.get(k.severity, k.severity)), risk_text(k, f)),
        strict=True)) for k in r.risks], columns=cols)
