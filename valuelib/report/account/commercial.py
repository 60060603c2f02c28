"""The commercial section: ARR and renewal cards, expansion signals."""

from __future__ import annotations

from typing import Any

from valuelib.model.account import AccountReview
from valuelib.report.fmt import Formatter


def commercial_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    """ARR, renewal and start; none when the executive summary already shows them (no value
    data was provided, so the summary leads with the commercials)."""
    _ = f.tr.gettext
    if not r.shows("value"):
        return []
    c = r.commercial
    cards = [{"label": _("ARR"), "value": f.money(c.arr)}]
    if c.arr_start is not None and c.arr is not None and c.arr_start:
        cards[0].update({"change": f.signed_pct((c.arr - c.arr_start) / c.arr_start * 100, 1),
                         "tone": "up_good" if c.arr >= c.arr_start else "bad",
                         "hint": _("vs start of {quarter}").format(quarter=f.quarter(r.quarter))})
    cards.append(renewal_card(r, f))
    cards.append({"label": _("Customer since"), "value": f.date(c.start_date)})
    return cards


def renewal_card(r: AccountReview, f: Formatter) -> dict[str, Any]:
    """The renewal date with the days to it, or the date the subscription ended."""
    _ = f.tr.gettext
    c = r.commercial
    if c.churned:
        return {"label": _("Subscription ended"), "value": f.date(c.churn_date)}
    days = ({"hint": f.tr.ngettext("in {count} day", "in {count} days",
                                   c.days_to_renewal).format(count=f.number(c.days_to_renewal))}
            if c.days_to_renewal is not None and c.days_to_renewal >= 0 else {})
    return {"label": _("Renewal date"), "value": f.date(c.renewal_date), **days}


def expansion_signals(r: AccountReview, f: Formatter) -> list[str]:
    a = r.adoption
    out = []
    if a.expansion_signal:
        out.append(f.tr.ngettext(
            "Seat utilisation is {utilisation} of {seats} licensed seat: more seats would let "
            "more of the team work in the product.",
            "Seat utilisation is {utilisation} of {seats} licensed seats: more seats would let "
            "more of the team work in the product.",
            a.seats or 0,
        ).format(utilisation=f.pct(a.utilisation_pct), seats=f.number(a.seats)))
    busy = a.features[a.features["adoption_pct"] >= 80] if not a.features.empty else a.features
    if len(busy) >= 3:
        out.append(f.tr.ngettext(
            "{count} feature is used by {share} or more of seats.",
            "{count} features are used by {share} or more of seats.",
            len(busy),
        ).format(count=f.number(len(busy)), share=f.pct(80, 0)))
    return out
