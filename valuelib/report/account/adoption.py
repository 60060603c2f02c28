"""The adoption section: seat utilisation cards and the peer comparison."""

from __future__ import annotations

from typing import Any

from valuelib.model.account import AccountReview
from valuelib.report.account._shared import (
    _change,
    _num,
)
from valuelib.report.fmt import Formatter


def adoption_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    _ = f.tr.gettext
    a = r.adoption
    h = r.headline_figure("utilisation")
    seg = str(r.account.get("segment", ""))
    if a.peer_percentile is not None:
        hint = f.tr.ngettext("among {count} {segment} peer", "among {count} {segment} peers",
                             a.peer_count).format(count=f.number(a.peer_count), segment=seg)
    else:
        hint = _("not enough peers")
    return [
        {"label": _("Seat utilisation"), "value": f.pct(a.utilisation_pct),
         **_change(h, f, f.quarter(r.previous_quarter))},
        {"label": _("Average weekly active users"), "value": _num(a.active_users, f)},
        {"label": _("Licensed seats"), "value": f.number(a.seats) if a.seats is not None
         else f.missing},
        {"label": _("Peer percentile"), "value": (f.number(a.peer_percentile, 0)
                                                  if a.peer_percentile is not None
                                                  else f.missing),
         "hint": hint},
    ]


def peer_text(r: AccountReview, f: Formatter) -> str:
    a = r.adoption
    seg = str(r.account.get("segment", ""))
    if a.peer_percentile is None:
        return f.tr.ngettext(
            "Not enough peers: the {segment} segment has {count} other account with usage, "
            "and peer comparisons need at least {minimum}.",
            "Not enough peers: the {segment} segment has {count} other accounts with usage, "
            "and peer comparisons need at least {minimum}.",
            a.peer_count,
        ).format(segment=seg, count=f.number(a.peer_count), minimum=f.number(a.min_peers))
    return f.tr.ngettext(
        "Seat utilisation of {utilisation} is at percentile {percentile} of {count} {segment} "
        "account (anonymised; no peer is named).",
        "Seat utilisation of {utilisation} is at percentile {percentile} of {count} {segment} "
        "accounts (anonymised; no peer is named).",
        a.peer_count,
    ).format(utilisation=f.pct(a.utilisation_pct), percentile=f.number(a.peer_percentile, 0),
             count=f.number(a.peer_count), segment=seg)
