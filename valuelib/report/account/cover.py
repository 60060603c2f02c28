"""The cover and the executive summary: running title, as-of date, headline cards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from valuelib.metrics.periods import quarter_bounds
from valuelib.model.account import AccountReview, Headline
from valuelib.report.account._shared import (
    _change,
    _value,
)
from valuelib.report.account.commercial import renewal_card
from valuelib.report.fmt import Formatter
from valuelib.report.i18n import Translator
from valuelib.report.record import HEADLINE_LABELS


def cover_labels(f: Formatter) -> dict[str, str]:
    """The cover's own words in the document's language (blocks.cover's ``labels``)."""
    _ = f.tr.gettext
    return {"prepared_for": _("Prepared for"), "prepared_by": _("Prepared by"),
            "as_of": _("Data as of"), "internal_mark": _("INTERNAL — do not send")}


def as_of_text(as_of: dt.date, quarter: str, f: Formatter) -> str:
    """The cover's data as-of date, saying so when the data stops before the quarter ends
    (a render with ``--allow-incomplete-quarter``)."""
    _, last = quarter_bounds(quarter)
    if as_of >= last:
        return f.date(as_of)
    return f.tr.gettext("{date} (quarter in progress: figures cover the quarter up to this "
                        "date)").format(date=f.date(as_of))


def running_title(account_name: str, quarter_label: str, title: str, f: Formatter) -> str:
    """The running header of every page after the cover."""
    return f.tr.gettext("{account} · {quarter} {title}").format(
        account=account_name, quarter=quarter_label, title=title)


def headline_label(h: Headline, tr: Translator) -> str:
    """A headline figure's label in the document's language."""
    return tr.gettext(HEADLINE_LABELS[h.key])


def headline_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    """The executive summary's KPI cards with quarter-over-quarter change; without value
    figures (value data not provided) the renewal joins ARR and tenure."""
    prev = f.quarter(r.previous_quarter)
    cards = [{"label": headline_label(h, f.tr), "value": _value(h, f), **_change(h, f, prev)}
             for h in r.headline]
    for card, h in zip(cards, r.headline, strict=True):
        if h.key == "tenure" and r.commercial.start_date is not None \
                and not r.commercial.churned:
            card["hint"] = f.tr.gettext("since {date}").format(
                date=f.date(r.commercial.start_date))
    if not r.shows("value"):
        cards.insert(2, renewal_card(r, f))
    return cards
