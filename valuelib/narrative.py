"""The executive summary paragraph, generated from a review's figures.

It says what changed since last quarter and why, leading with the value delivered and then
the largest movers (a driver's value, seat utilisation, NPS) ranked by how much they moved.
Each sentence is one template with named fields, so it can be translated whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from .fmt import Formatter
from .model.account import AccountReview
from .model.value import improvement


@dataclass(frozen=True)
class Sentence:
    """One generated sentence and how strongly it moved (for ordering)."""

    weight: float
    text: str


def _pct_change(now: float, before: float) -> float | None:
    return None if not before else (now - before) / abs(before) * 100.0


def _value_sentence(r: AccountReview, f: Formatter) -> str:
    v, p = r.value, r.value_previous
    q, pq = f.quarter(r.quarter), f.quarter(r.previous_quarter)
    if v.value_quarter is None:
        if v.drivers_total == 0:
            return (f"{r.name} has no value drivers agreed yet, so {q} shows adoption and "
                    "satisfaction only.")
        return (f"No value driver was measured for {r.name} in {q} ({v.drivers_total} are "
                "agreed), so this quarter's value is not enough data yet.")
    base = (f"In {q}, {r.name} realized {f.money(v.value_quarter)} of value across "
            f"{v.drivers_measured} of {v.drivers_total} value drivers")
    if p.value_quarter:
        change = _pct_change(v.value_quarter, p.value_quarter)
        direction = "up" if change >= 0 else "down"
        return (f"{base}, {direction} {f.number(abs(change), 1)}% on {pq} "
                f"({f.money(p.value_quarter)}).")
    return f"{base}, the first quarter with measured value."


def _roi_sentence(r: AccountReview, f: Formatter) -> str | None:
    v = r.value
    if v.roi_multiple is None:
        return None
    text = (f"Value to date of {f.money(v.value_to_date)} against {f.money(v.cost_to_date)} "
            f"of subscription is an ROI multiple of {f.multiple(v.roi_multiple)}")
    if v.realized_vs_business_case_pct is not None:
        text += (f", and this quarter delivered {f.pct(v.realized_vs_business_case_pct)} "
                 "of the value the business case promised")
    return text + "."


def _driver_sentence(r: AccountReview, f: Formatter) -> Sentence | None:
    movers = [d for d in r.drivers
              if d.value_quarter is not None and d.value_previous_quarter is not None
              and d.current is not None and d.previous is not None]
    if not movers:
        return None
    d = max(movers, key=lambda d: abs(d.value_quarter - d.value_previous_quarter))
    delta = d.value_quarter - d.value_previous_quarter
    if abs(delta) < 1:
        return None
    better = improvement(d.current, d.previous, d.direction) >= 0
    verb = "improved" if better else "slipped"
    more = "more" if delta > 0 else "less"
    text = (f"The largest mover was {d.name}, which {verb} from {f.number(d.previous, 1)} to "
            f"{f.number(d.current, 1)} {d.unit}, worth {f.money(abs(delta))} {more} than "
            "last quarter.")
    base = max(abs(d.value_previous_quarter), 1.0)
    return Sentence(abs(delta) / base * 100.0, text)


def _adoption_sentence(r: AccountReview, f: Formatter) -> Sentence | None:
    a = r.adoption
    if a.utilisation_pct is None:
        return Sentence(0.0, "There was no usage data this quarter, so adoption is not "
                             "enough data yet.")
    if a.previous_utilisation_pct is None:
        text = f"Seat utilisation was {f.pct(a.utilisation_pct)}"
        weight = 0.0
    else:
        change = a.utilisation_pct - a.previous_utilisation_pct
        weight = abs(change) * 5
        if abs(change) < 0.5:
            text = f"Seat utilisation held steady at {f.pct(a.utilisation_pct)}"
        else:
            verb = "rose" if change > 0 else "fell"
            text = (f"Seat utilisation {verb} {f.number(abs(change), 1)} points to "
                    f"{f.pct(a.utilisation_pct)}")
    if a.expansion_signal:
        text += ", close to the licensed seats: room to add seats"
    if a.peer_percentile is not None:
        text += (f"; that places the account at the {f.number(a.peer_percentile, 0)}th "
                 f"percentile of its {a.peer_count} {r.account.get('segment', '')} peers")
    return Sentence(weight, text + ".")


def _nps_sentence(r: AccountReview, f: Formatter) -> Sentence | None:
    if r.nps.empty:
        return None
    now = r.nps.iloc[-1]
    before = r.nps.iloc[-2] if len(r.nps) > 1 else None
    if now["nps"] is None or now["responses"] == 0:
        return Sentence(1.0, f"No NPS answers were received in {f.quarter(r.quarter)}.")
    n = int(now["responses"])
    answers = "answer" if n == 1 else "answers"
    if before is None or before["nps"] is None:
        return Sentence(1.0, f"NPS was {f.number(now['nps'], 0)} on {n} {answers}.")
    change = float(now["nps"]) - float(before["nps"])
    if abs(change) < 1:
        return Sentence(0.5, f"NPS held at {f.number(now['nps'], 0)} on {n} {answers}.")
    verb = "rose" if change > 0 else "fell"
    return Sentence(abs(change) * 2, f"NPS {verb} {f.number(abs(change), 0)} points to "
                                     f"{f.number(now['nps'], 0)} on {n} {answers}.")


def _renewal_sentence(r: AccountReview, f: Formatter) -> str | None:
    c = r.commercial
    if c.churned:
        return f"The subscription ended on {f.date(c.churn_date)}."
    if c.days_to_renewal is not None and 0 <= c.days_to_renewal <= 183:
        return f"The subscription renews on {f.date(c.renewal_date)}."
    return None


def executive_summary(r: AccountReview, f: Formatter) -> str:
    """The paragraph: value first, then the movers by size of change, then ROI and renewal."""
    movers = [s for s in (_driver_sentence(r, f), _adoption_sentence(r, f), _nps_sentence(r, f))
              if s is not None]
    movers.sort(key=lambda s: -s.weight)
    parts = [_value_sentence(r, f), *[s.text for s in movers], _roi_sentence(r, f),
             _renewal_sentence(r, f)]
    return " ".join(p for p in parts if p)
