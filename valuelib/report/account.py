"""Review figures turned into what a reader sees: cards, tables, captions and explanations.

The notebook calls these so its cells stay short; nothing here computes a figure (that is
`valuelib.model` and `valuelib.metrics`), it only formats and words them, in the language of
the formatter's locale (`Formatter.tr`): every sentence is one translatable template with
named placeholders, never English fragments joined together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from valuelib.metrics.periods import quarter_bounds
from valuelib.model import health
from valuelib.model.account import HIGH, LOW, MEDIUM, AccountReview, Headline, Risk
from valuelib.report import blocks
from valuelib.report.fmt import Formatter
from valuelib.report.i18n import C_, N_, Translator
from valuelib.report.record import HEADLINE_LABELS, figure_formatters

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
#: Health bands (the model's names are these English messages).
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
        cards.insert(2, _renewal_card(r, f))
    return cards


def value_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    """Value to date, cost to date, ROI and payback."""
    _ = f.tr.gettext
    v = r.value
    payback = (_("{months} months").format(months=f.number(v.payback_months, 1))
               if v.payback_months is not None else f.missing)
    return [
        {"label": _("Value delivered to date"), "value": f.money(v.value_to_date)},
        {"label": _("Subscription cost to date"), "value": f.money(v.cost_to_date)},
        {"label": _("ROI to date"), "value": f.pct(v.roi_pct),
         "hint": _("multiple {multiple}").format(multiple=f.multiple(v.roi_multiple))},
        {"label": _("Payback"), "value": payback,
         "hint": _("months of this quarter's value to pay a year's subscription")},
    ]


def _num(x: float | None, f: Formatter) -> str:
    if x is None:
        return f.missing
    digits = 0 if abs(x) >= 100 else 1
    return f.number(x, digits)


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
             "value": (_("{hours} h").format(hours=f.number(hours, 1)) if hours is not None
                       else f.missing)},
        ]
    return cards


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


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
    cards.append(_renewal_card(r, f))
    cards.append({"label": _("Customer since"), "value": f.date(c.start_date)})
    return cards


def _renewal_card(r: AccountReview, f: Formatter) -> dict[str, Any]:
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


def _list(items: list[str], f: Formatter) -> str:
    from babel.lists import format_list

    return format_list(items, locale=f.babel_locale)


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


def methodology_intro(r: AccountReview, f: Formatter) -> str:
    """What the figures cover; peer comparisons are mentioned only where usage data (which
    they compare) was provided."""
    if not r.shows("adoption"):
        return f.tr.gettext(
            "Figures cover {quarter} with data as of {date}, amounts in {currency}. Each "
            "figure below is computed once, by the formula shown, from this account's own "
            "data. Where a figure lacks the data it needs, the review says “{missing}” rather "
            "than estimate it."
        ).format(quarter=f.quarter(r.quarter), date=f.date(r.as_of), currency=r.currency,
                 missing=f.missing)
    return f.tr.gettext(
        "Figures cover {quarter} with data as of {date}, amounts in {currency}. Each figure "
        "below is computed once, by the formula shown, from this account's own data; peer "
        "comparisons use anonymised segment aggregates of at least five accounts. Where a "
        "figure lacks the data it needs, the review says “{missing}” rather than estimate it."
    ).format(quarter=f.quarter(r.quarter), date=f.date(r.as_of), currency=r.currency,
             missing=f.missing)


def formulas(r: AccountReview, f: Formatter | None = None) -> Iterator[tuple[str, str]]:
    """(name, formula) for every figure this review shows."""
    f = f or Formatter(r.locale, r.currency)
    _ = f.tr.gettext
    keys = {h.key for h in r.headline}
    if "arr" in keys:
        yield (_("ARR change"), _(
            "(ARR at the quarter's end − ARR at the previous quarter's end) / ARR at the "
            "previous quarter's end × 100"))
    if "tenure" in keys:
        yield (_("Customer for"), _(
            "whole months from the start date to the quarter's end, or to the end of the "
            "subscription"))
    if r.shows("value"):
        yield (_("Value delivered (quarter)"), _(
            "Σ over drivers of max(improvement vs baseline in force, 0) × unit value, from "
            "each driver's last measurement in the quarter"))
        yield (_("Value realized vs business case"), _(
            "value delivered / Σ |target − business-case baseline| × unit value × 100"))
        yield (_("Progress toward target"), _(
            "(current − baseline) / (target − baseline) × 100, clipped to 0–100; works for "
            "lower-is-better drivers"))
        yield (_("Subscription cost"), _("Σ monthly ARR / 12 over the quarter's months"))
        yield (_("ROI"), _("(value to date − cost to date) / cost to date × 100; multiple = "
                           "value / cost"))
        yield (_("Payback"), _("current ARR / (this quarter's value / 3), in months"))
    if r.shows("adoption"):
        yield (_("Seat utilisation"), _(
            "mean over the quarter's weeks of weekly active users / licensed seats × 100"))
        yield (_("Feature adoption"), _(
            "mean over the quarter's weeks of the feature's active users / licensed seats "
            "× 100"))
        yield (_("Peer percentile"), _(
            "share of peers below the account plus half the ties × 100, within the segment, "
            "at least 5 peers"))
    if r.shows("nps"):
        yield (_("NPS"), _("percent of promoters (9–10) − percent of detractors (0–6) among "
                           "the quarter's answers"))
    if r.shows("support"):
        yield (_("CSAT"), _("answers of 4 or 5 / all answers × 100, tickets opened in the "
                            "quarter"))
        yield (_("Resolution time"), _(
            "median of resolved − opened, in hours, tickets opened and resolved in the "
            "quarter"))
    if r.reviews.count:
        yield (_("Online review sales effect"), _(
            "7.9 × (0.62·P − 0.17·N² + 0.15·R) %, illustrative, clipped"))
    if r.audience == "internal" and r.shows("health"):
        parts = [_("{component} = {formula}").format(component=component_label(k, f),
                                                     formula=_(COMPONENT_FORMULAS[k]))
                 for k in health.COMPONENTS if r.shows(k)]
        yield (_("Health score"), _(
            "Σ wᵢ·sᵢ / Σ wᵢ over components with data: {components}").format(
            components="; ".join(parts)))


def provenance(r: AccountReview, f: Formatter, version: str) -> list[tuple[str, str]]:
    _ = f.tr.gettext
    audience = {"customer": _("customer"), "internal": _("internal")}.get(r.audience,
                                                                          r.audience)
    return [
        (_("Quarter"), f.quarter(r.quarter)),
        (_("Data as of"), f.date(r.as_of)),
        *not_provided_entry(r.not_provided, f),
        (_("Data hash (bundle SHA-256)"), r.bundle_sha256 or _("not recorded")),
        (_("Template version"), f"valuereview {version}"),
        (_("Audience"), audience),
    ]


def not_provided_entry(tables: list[str], f: Formatter) -> list[tuple[str, str]]:
    """The methodology's line naming the data the warehouse did not provide (none if all was)."""
    if not tables:
        return []
    _ = f.tr.gettext
    names = [_("{label} ({table})").format(label=_(TABLE_LABELS.get(t, t)), table=t)
             for t in tables]
    return [(_("Data not provided"), _(
        "{tables}: the parts of this review that need them are left out.").format(
        tables=_list(names, f)))]
