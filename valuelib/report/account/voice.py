"""The voice-of-the-customer section: NPS, support, promoters' comments, online reviews."""

from __future__ import annotations

from typing import Any

import pandas as pd

from valuelib.model.account import AccountReview
from valuelib.report.account._shared import _change, _none, _num, _value
from valuelib.report.fmt import Formatter


def voice_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    _ = f.tr.gettext
    n = r.nps.iloc[-1] if not r.nps.empty else None
    s = r.support.iloc[-1] if not r.support.empty else None
    cards = []
    if r.shows("nps"):
        nps_h = r.headline_figure("nps")
        answers = {}
        if n is not None:
            k = int(n["responses"])
            answers = {"hint": f.tr.ngettext("{count} answer", "{count} answers", k).format(
                count=f.number(k))}
        cards.append({"label": _("NPS"), "value": _value(nps_h, f),
                      **_change(nps_h, f, f.quarter(r.previous_quarter)), **answers})
    if r.shows("support"):
        hours = _none(s["median_resolution_hours"]) if s is not None else None
        cards += [
            {"label": _("CSAT"), "value": f.pct(None if s is None else _none(s["csat"]), 0)},
            {"label": _("Support tickets"),
             "value": f.number(0 if s is None else s["tickets"])},
            {"label": _("Median resolution"),
             "value": (f.with_unit(_("{hours} h").format(hours=f.number(hours, 1)))
                       if hours is not None else f.missing)},
        ]
    return cards


def trend_frame(df: pd.DataFrame, column: str, f: Formatter) -> pd.DataFrame:
    """Quarters that have a value of `column`, as `period`, `value` for a trend chart."""
    rows = [{"period": f.quarter(q), "value": float(v)}
            for q, v in zip(df["quarter"], df[column], strict=True) if _none(v) is not None]
    return pd.DataFrame(rows, columns=["period", "value"])


def support_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    p_ = f.tr.pgettext
    rows = []
    for s in r.support.itertuples():
        rows.append({
            p_("table header", "Quarter"): f.quarter(s.quarter),
            p_("table header", "Tickets"): f.number(s.tickets),
            p_("table header", "Critical"): f.number(s.critical),
            p_("table header", "Median resolution (h)"): _num(_none(s.median_resolution_hours),
                                                               f),
            p_("table header", "CSAT"): f.pct(_none(s.csat), 0),
            p_("table header", "CSAT answers"): f.number(s.csat_responses),
            p_("table header", "Open at quarter end"): f.number(s.open_at_end),
        })
    return pd.DataFrame(rows)


def support_frame(r: AccountReview, f: Formatter) -> pd.DataFrame:
    """Tickets and median resolution hours per quarter, for the support trend chart."""
    return pd.DataFrame({
        "period": [f.quarter(q) for q in r.support["quarter"]],
        "tickets": r.support["tickets"].astype(int),
        "median_resolution_hours": [_none(h) for h in r.support["median_resolution_hours"]],
    })


def verbatims(r: AccountReview, limit: int = 2, f: Formatter | None = None) -> list[str]:
    """Up to `limit` of this quarter's NPS comments from promoters, newest first, quoted."""
    f = f or Formatter(r.locale, r.currency)
    return [f.tr.gettext("“{comment}” (score {score})").format(
                comment=c.text, score=f.number(c.score))
            for c in r.promoter_comments[:limit]]


def reviews_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    _, p_ = f.tr.gettext, f.tr.pgettext
    rv = r.reviews
    return pd.DataFrame([{
        p_("table header", "Window"): _("{first} – {last}").format(first=f.date(rv.first),
                                                                  last=f.date(rv.last)),
        p_("table header", "Reviews"): f.number(rv.count),
        p_("table header", "Average rating"): _("{rating} / 5").format(
            rating=f.number(rv.average_rating, 1)),
        p_("table header", "Positive"): f.number(rv.positive),
        p_("table header", "Negative"): f.number(rv.negative),
        p_("table header", "Negative, resolved"): f.number(rv.resolved_negative),
    }])


def reviews_estimate_text(r: AccountReview, f: Formatter) -> str:
    _ = f.tr.gettext
    rv = r.reviews
    lo, hi = rv.clip
    clipped = rv.impact_raw_pct is not None and rv.impact_pct != rv.impact_raw_pct
    fields = {"effect": f.signed_pct(rv.impact_pct, 1), "low": f.signed_pct(lo, 0),
              "high": f.signed_pct(hi, 0), "formula": REVIEW_FORMULA}
    if clipped:
        return _(
            "Estimated effect of these reviews on sales: {effect}. This is an illustrative "
            "estimate from a published formula ({formula}, commissioned by Trustpilot, 2014), "
            "not a measurement; it is clipped to {low} … {high} (unclipped: {unclipped})."
        ).format(**fields, unclipped=f.signed_pct(rv.impact_raw_pct, 1))
    return _(
        "Estimated effect of these reviews on sales: {effect}. This is an illustrative "
        "estimate from a published formula ({formula}, commissioned by Trustpilot, 2014), "
        "not a measurement; it is clipped to {low} … {high}."
    ).format(**fields)


REVIEW_FORMULA = "V% = 7.9 × (0.62·P − 0.17·N² + 0.15·R)"
