"""The executive summary paragraph, generated from a review's figures.

It says what changed since last quarter and why, leading with the value delivered and then
the largest movers (a driver's value, seat utilisation, NPS) ranked by how much they moved.
Each sentence is one translatable template with named fields (plural forms where a count is
in it), chosen whole for the case at hand, so a translator sees and orders every sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from valuelib.model.account import AccountReview
from valuelib.model.value import improvement
from valuelib.report.fmt import Formatter, is_missing


@dataclass(frozen=True)
class Sentence:
    """One generated sentence and how strongly it moved (for ordering)."""

    weight: float
    text: str


def _pct_change(now: float, before: float) -> float | None:
    return None if not before else (now - before) / abs(before) * 100.0


def _value_sentence(r: AccountReview, f: Formatter) -> str:
    _, n_ = f.tr.gettext, f.tr.ngettext
    v, p = r.value, r.value_previous
    q, pq = f.quarter(r.quarter), f.quarter(r.previous_quarter)
    if v.value_quarter is None:
        if v.drivers_total == 0:
            return _("{name} has no value drivers agreed yet, so {quarter} shows adoption and "
                     "satisfaction only.").format(name=r.name, quarter=q)
        return n_(
            "No value driver was measured for {name} in {quarter} ({count} is agreed), so "
            "this quarter's value is not enough data yet.",
            "No value driver was measured for {name} in {quarter} ({count} are agreed), so "
            "this quarter's value is not enough data yet.",
            v.drivers_total,
        ).format(name=r.name, quarter=q, count=f.number(v.drivers_total))
    fields = {"quarter": q, "name": r.name, "amount": f.money(v.value_quarter),
              "drivers": drivers_phrase(v.drivers_measured, v.drivers_total, f)}
    if p.value_quarter:
        change = _pct_change(v.value_quarter, p.value_quarter)
        fields.update(change=f.pct(abs(change), 1), previous_quarter=pq,
                      previous_amount=f.money(p.value_quarter))
        if change >= 0:
            return _("In {quarter}, {name} realized {amount} of value across {drivers}, up "
                     "{change} on {previous_quarter} ({previous_amount}).").format(**fields)
        return _("In {quarter}, {name} realized {amount} of value across {drivers}, down "
                 "{change} on {previous_quarter} ({previous_amount}).").format(**fields)
    return _("In {quarter}, {name} realized {amount} of value across {drivers}, the first "
             "quarter with measured value.").format(**fields)


def drivers_phrase(measured: int, total: int, f: Formatter) -> str:
    """The value drivers a quarter's value was measured across: "2 of 3 value drivers", or,
    when every driver counts, "its only value driver", "both value drivers", "all 4 value
    drivers" (an executive reads "2 of 2" as a table, not a sentence)."""
    _, n_ = f.tr.gettext, f.tr.ngettext
    if measured < total:
        return n_("{measured} of {total} value driver", "{measured} of {total} value drivers",
                  total).format(measured=f.number(measured), total=f.number(total))
    if total == 1:
        return _("its only value driver")
    if total == 2:
        return _("both value drivers")
    return n_("all {total} value driver", "all {total} value drivers",
              total).format(total=f.number(total))


def _arr_sentence(r: AccountReview, f: Formatter) -> str | None:
    """ARR at the quarter's end against the previous quarter's (leads without value data)."""
    _ = f.tr.gettext
    c = r.commercial
    if c.churned or c.arr is None:
        return None
    fields = {"quarter": f.quarter(r.quarter), "name": r.name, "arr": f.money(c.arr),
              "previous_quarter": f.quarter(r.previous_quarter)}
    if not c.arr_start:
        return _("In {quarter}, {name} started with ARR of {arr}.").format(**fields)
    change = _pct_change(c.arr, c.arr_start)
    fields.update(change=f.pct(abs(change), 1), previous=f.money(c.arr_start))
    if c.arr == c.arr_start:
        return _("In {quarter}, ARR for {name} held at {arr}, as in {previous_quarter}."
                 ).format(**fields)
    if change > 0:
        return _("In {quarter}, ARR for {name} rose {change} to {arr}, from {previous} in "
                 "{previous_quarter}.").format(**fields)
    return _("In {quarter}, ARR for {name} fell {change} to {arr}, from {previous} in "
             "{previous_quarter}.").format(**fields)


def _tenure_sentence(r: AccountReview, f: Formatter) -> str | None:
    c = r.commercial
    if c.start_date is None or c.tenure_months is None:
        return None
    fields = {"name": r.name, "date": f.date(c.start_date), "tenure": f.months(c.tenure_months)}
    if c.churned:
        return f.tr.gettext("{name} was a customer for {tenure} from {date}.").format(**fields)
    return f.tr.gettext("{name} has been a customer since {date} ({tenure}).").format(**fields)


def _roi_sentence(r: AccountReview, f: Formatter) -> str | None:
    _ = f.tr.gettext
    v = r.value
    if v.roi_multiple is None:
        return None
    fields = {"value": f.money(v.value_to_date), "cost": f.money(v.cost_to_date),
              "multiple": f.multiple(v.roi_multiple)}
    if v.realized_vs_business_case_pct is not None:
        return _("Value to date of {value} against {cost} of subscription is an ROI multiple "
                 "of {multiple}, and this quarter delivered {realized} of the value the "
                 "business case promised.").format(
            **fields, realized=f.pct(v.realized_vs_business_case_pct))
    return _("Value to date of {value} against {cost} of subscription is an ROI multiple of "
             "{multiple}.").format(**fields)


def _driver_sentence(r: AccountReview, f: Formatter) -> Sentence | None:
    _ = f.tr.gettext
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
    fields = {"driver": d.name, "previous": f.number(d.previous, 1),
              "current": f.number(d.current, 1), "unit": d.unit, "amount": f.money(abs(delta))}
    if better and delta > 0:
        text = _("The largest mover was {driver}, which improved from {previous} to {current} "
                 "{unit}, worth {amount} more than last quarter.")
    elif better:
        text = _("The largest mover was {driver}, which improved from {previous} to {current} "
                 "{unit}, worth {amount} less than last quarter.")
    elif delta > 0:
        text = _("The largest mover was {driver}, which slipped from {previous} to {current} "
                 "{unit}, worth {amount} more than last quarter.")
    else:
        text = _("The largest mover was {driver}, which slipped from {previous} to {current} "
                 "{unit}, worth {amount} less than last quarter.")
    base = max(abs(d.value_previous_quarter), 1.0)
    return Sentence(abs(delta) / base * 100.0, text.format(**fields))


def _adoption_sentence(r: AccountReview, f: Formatter) -> Sentence | None:
    _, n_ = f.tr.gettext, f.tr.ngettext
    a = r.adoption
    if not r.shows("adoption"):
        return None
    if a.utilisation_pct is None:
        return Sentence(0.0, _("There was no usage data this quarter, so adoption is not "
                               "enough data yet."))
    now = f.pct(a.utilisation_pct)
    if a.previous_utilisation_pct is None:
        parts = [_("Seat utilisation was {utilisation}.").format(utilisation=now)]
        weight = 0.0
    else:
        change = a.utilisation_pct - a.previous_utilisation_pct
        weight = abs(change) * 5
        fields = {"utilisation": now, "change": f.number(abs(change), 1)}
        if abs(change) < 0.5:
            parts = [_("Seat utilisation held steady at {utilisation}.").format(**fields)]
        elif change > 0:
            parts = [_("Seat utilisation rose {change} points to {utilisation}.").format(
                **fields)]
        else:
            parts = [_("Seat utilisation fell {change} points to {utilisation}.").format(
                **fields)]
    if a.expansion_signal:
        parts.append(_("That is close to the licensed seats: there is room to add seats."))
    if a.peer_percentile is not None:
        parts.append(n_(
            "It places the account at percentile {percentile} of its {count} {segment} peer.",
            "It places the account at percentile {percentile} of its {count} {segment} peers.",
            a.peer_count,
        ).format(percentile=f.number(a.peer_percentile, 0), count=f.number(a.peer_count),
                 segment=str(r.account.get("segment", ""))))
    return Sentence(weight, " ".join(parts))


def _nps_sentence(r: AccountReview, f: Formatter) -> Sentence | None:
    _, n_ = f.tr.gettext, f.tr.ngettext
    if r.nps.empty or not r.shows("nps"):
        return None
    now = r.nps.iloc[-1]
    before = r.nps.iloc[-2] if len(r.nps) > 1 else None
    if is_missing(now["nps"]) or now["responses"] == 0:
        return Sentence(1.0, _("No NPS answers were received in {quarter}.").format(
            quarter=f.quarter(r.quarter)))
    n = int(now["responses"])
    fields = {"nps": f.number(now["nps"], 0), "count": f.number(n)}
    if before is None or is_missing(before["nps"]):
        return Sentence(1.0, n_("NPS was {nps} on {count} answer.",
                                "NPS was {nps} on {count} answers.", n).format(**fields))
    change = float(now["nps"]) - float(before["nps"])
    if abs(change) < 1:
        return Sentence(0.5, n_("NPS held at {nps} on {count} answer.",
                                "NPS held at {nps} on {count} answers.", n).format(**fields))
    fields["change"] = f.number(abs(change), 0)
    if change > 0:
        text = n_("NPS rose {change} points to {nps} on {count} answer.",
                  "NPS rose {change} points to {nps} on {count} answers.", n)
    else:
        text = n_("NPS fell {change} points to {nps} on {count} answer.",
                  "NPS fell {change} points to {nps} on {count} answers.", n)
    return Sentence(abs(change) * 2, text.format(**fields))


def _renewal_sentence(r: AccountReview, f: Formatter) -> str | None:
    _ = f.tr.gettext
    c = r.commercial
    if c.churned:
        return _("The subscription ended on {date}.").format(date=f.date(c.churn_date))
    if c.days_to_renewal is not None and 0 <= c.days_to_renewal <= 183:
        return _("The subscription renews on {date}.").format(date=f.date(c.renewal_date))
    return None


def executive_summary(r: AccountReview, f: Formatter) -> str:
    """The paragraph: value first, then the movers by size of change, then ROI and renewal.

    Without value data (not provided) it leads with ARR and tenure instead; sentences about
    parts whose data was not provided are left out.
    """
    movers = [s for s in (_driver_sentence(r, f), _adoption_sentence(r, f), _nps_sentence(r, f))
              if s is not None]
    movers.sort(key=lambda s: -s.weight)
    lead = ([_value_sentence(r, f)] if r.shows("value")
            else [_arr_sentence(r, f), _tenure_sentence(r, f)])
    parts = [*lead, *[s.text for s in movers], _roi_sentence(r, f), _renewal_sentence(r, f)]
    return " ".join(p for p in parts if p)
