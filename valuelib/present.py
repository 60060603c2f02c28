"""Review figures turned into what a reader sees: cards, tables, captions and explanations.

The notebook calls these so its cells stay short; nothing here computes a figure (that is
`valuelib.model` and `valuelib.metrics`), it only formats and words them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from . import blocks
from .bundle import Bundle
from .fmt import Formatter
from .metrics.periods import quarter_of
from .model import adoption, health
from .model.account import AccountReview, Headline

STATUS_LABELS = {
    "completed": "Completed",
    "in_progress": "In progress",
    "overdue": "Overdue",
    "not_available": "Not available",
}
GRADE_TEXT = {"A": "A · customer confirmed", "B": "B · measured", "C": "C · estimated"}


def _change(h: Headline, f: Formatter, prev_label: str) -> dict[str, Any]:
    """A KPI card's change text and tone for one headline figure."""
    if h.change is None:
        return {}
    if h.kind == "money":
        if not h.previous:
            return {}
        pct = h.change / abs(h.previous) * 100.0
        text = f.signed(pct, 1, "%")
    elif h.kind == "pct":
        text = f.signed(h.change, 1, " pp")
    elif h.kind == "multiple":
        text = f.signed(h.change, 1, "×")
    else:
        text = f.signed(h.change, 0, " pts")
    tone = "neutral" if abs(h.change) < 1e-9 else ("up_good" if h.change > 0 else "bad")
    return {"change": text, "tone": tone, "hint": f"vs {prev_label}"}


def _value(h: Headline, f: Formatter) -> str:
    return {
        "money": f.money,
        "pct": f.pct,
        "multiple": f.multiple,
        "nps": lambda x: f.number(x, 0),
        "months": lambda x: f.number(x, 1),
    }[h.kind](h.value)


def headline_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    """The executive summary's KPI cards with quarter-over-quarter change."""
    prev = f.quarter(r.previous_quarter)
    return [{"label": h.label, "value": _value(h, f), **_change(h, f, prev)} for h in r.headline]


def value_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    v = r.value
    return [
        {"label": "Value delivered to date", "value": f.money(v.value_to_date)},
        {"label": "Subscription cost to date", "value": f.money(v.cost_to_date)},
        {"label": "ROI to date", "value": f.pct(v.roi_pct),
         "hint": f"multiple {f.multiple(v.roi_multiple)}"},
        {"label": "Payback", "value": (f"{f.number(v.payback_months, 1)} months"
                                       if v.payback_months is not None else f.missing),
         "hint": "months of this quarter's value to pay a year's subscription"},
    ]


def _num(x: float | None, f: Formatter) -> str:
    if x is None:
        return f.missing
    digits = 0 if abs(x) >= 100 else 1
    return f.number(x, digits)


def driver_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    """One row per driver: both baselines where re-baselined, current, target, progress, money."""
    rows = []
    for d in r.drivers:
        baseline = _num(d.business_case_baseline, f)
        if d.rebaselined:
            baseline = f"{baseline} → {_num(d.baseline, f)} (re-baselined)"
        current = _num(d.current, f)
        if d.stale and d.current_period_end is not None:
            current += f" (as of {f.date(d.current_period_end)})"
        progress = f.pct(d.progress_pct, 0)
        if d.rebaselined and d.business_case_progress_pct is not None:
            progress += f" ({f.pct(d.business_case_progress_pct, 0)} vs business case)"
        rows.append({
            "Driver": d.name,
            "Unit": d.unit,
            "Baseline": baseline,
            "Current": current,
            "Target": _num(d.target, f),
            "Progress": progress,
            "Value this quarter": f.money(d.value_quarter),
            "Value to date": f.money(d.value_to_date),
            "Confidence": blocks.badge(GRADE_TEXT.get(d.grade, d.grade),
                                       {"A": "completed", "B": "in_progress"}.get(d.grade,
                                                                                  "not_available")),
        })
    return pd.DataFrame(rows)


def driver_notes(r: AccountReview, f: Formatter) -> list[str]:
    """Re-baselines and unmeasured drivers, said plainly."""
    out = []
    for d in r.drivers:
        if d.rebaselined:
            out.append(
                f"{d.name} was re-baselined on {f.date(d.rebaseline_date)}: from the business "
                f"case's {_num(d.business_case_baseline, f)} to {_num(d.baseline, f)} {d.unit}. "
                "Progress is shown against both; money value uses the baseline in force when "
                "each measurement was taken."
            )
        if d.current is None:
            out.append(f"{d.name} has no measurement yet: not enough data.")
    return out


def driver_progress_frame(r: AccountReview, f: Formatter) -> pd.DataFrame:
    rows = [
        {"driver": d.name, "progress_pct": d.progress_pct,
         "label": f"{_num(d.baseline, f)} → {_num(d.current, f)} → {_num(d.target, f)} {d.unit}"}
        for d in r.drivers if d.progress_pct is not None
    ]
    return pd.DataFrame(rows, columns=["driver", "progress_pct", "label"])


def value_series_caption(r: AccountReview, f: Formatter) -> str:
    v = r.value
    if v.value_to_date >= v.cost_to_date and v.cost_to_date > 0:
        return (f"Value delivered to date ({f.money(v.value_to_date)}) has passed the "
                f"subscription cost to date ({f.money(v.cost_to_date)}).")
    return (f"Value delivered to date: {f.money(v.value_to_date)}; subscription cost to date: "
            f"{f.money(v.cost_to_date)}.")


def adoption_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    a = r.adoption
    h = r.headline_figure("utilisation")
    return [
        {"label": "Seat utilisation", "value": f.pct(a.utilisation_pct),
         **_change(h, f, f.quarter(r.previous_quarter))},
        {"label": "Average weekly active users", "value": _num(a.active_users, f)},
        {"label": "Licensed seats", "value": f.number(a.seats) if a.seats is not None
         else f.missing},
        {"label": "Peer percentile", "value": (f.number(a.peer_percentile, 0)
                                               if a.peer_percentile is not None else f.missing),
         "hint": f"among {a.peer_count} {r.account.get('segment', '')} peers"
         if a.peer_percentile is not None else "not enough peers"},
    ]


def peer_text(r: AccountReview, f: Formatter) -> str:
    a = r.adoption
    seg = r.account.get("segment", "")
    if a.peer_percentile is None:
        return (f"Not enough peers: the {seg} segment has {a.peer_count} other accounts with "
                f"usage, and peer comparisons need at least {a.min_peers}.")
    return (f"Seat utilisation of {f.pct(a.utilisation_pct)} is at the "
            f"{f.number(a.peer_percentile, 0)}th percentile of {a.peer_count} {seg} accounts "
            "(anonymised; no peer is named).")


def voice_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    n = r.nps.iloc[-1] if not r.nps.empty else None
    s = r.support.iloc[-1] if not r.support.empty else None
    nps_h = r.headline_figure("nps")
    return [
        {"label": "NPS", "value": _value(nps_h, f),
         **_change(nps_h, f, f.quarter(r.previous_quarter)),
         **({"hint": f"{int(n['responses'])} answers"} if n is not None else {})},
        {"label": "CSAT", "value": f.pct(None if s is None else _none(s["csat"]), 0)},
        {"label": "Support tickets", "value": f.number(0 if s is None else s["tickets"])},
        {"label": "Median resolution", "value": (
            f"{f.number(_none(s['median_resolution_hours']), 1)} h"
            if s is not None and _none(s["median_resolution_hours"]) is not None
            else f.missing)},
    ]


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def trend_frame(df: pd.DataFrame, column: str, f: Formatter) -> pd.DataFrame:
    """Quarters that have a value of `column`, as `period`, `value` for a trend chart."""
    rows = [{"period": f.quarter(q), "value": float(v)}
            for q, v in zip(df["quarter"], df[column], strict=True) if _none(v) is not None]
    return pd.DataFrame(rows, columns=["period", "value"])


def support_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    rows = []
    for s in r.support.itertuples():
        rows.append({
            "Quarter": f.quarter(s.quarter),
            "Tickets": f.number(s.tickets),
            "Critical": f.number(s.critical),
            "Median resolution (h)": _num(_none(s.median_resolution_hours), f),
            "CSAT": f.pct(_none(s.csat), 0),
            "CSAT answers": f.number(s.csat_responses),
            "Open at quarter end": f.number(s.open_at_end),
        })
    return pd.DataFrame(rows)


def support_frame(r: AccountReview, f: Formatter) -> pd.DataFrame:
    """Tickets and median resolution hours per quarter, for the support trend chart."""
    return pd.DataFrame({
        "period": [f.quarter(q) for q in r.support["quarter"]],
        "tickets": r.support["tickets"].astype(int),
        "median_resolution_hours": [_none(h) for h in r.support["median_resolution_hours"]],
    })


def verbatims(b: Bundle, r: AccountReview, limit: int = 2) -> list[str]:
    """Up to `limit` of this quarter's NPS comments from promoters, newest first."""
    df = b.table("nps_responses")
    if df.empty:
        return []
    q = [p for p in df.itertuples() if _none(p.comment) and str(p.comment).strip()
         and p.score >= 9 and quarter_of(pd.Timestamp(p.responded_at).date()) == r.quarter]
    q.sort(key=lambda p: p.responded_at, reverse=True)
    return [f"“{str(p.comment).strip()}” (score {int(p.score)})" for p in q[:limit]]


def reviews_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    rv = r.reviews
    return pd.DataFrame([{
        "Window": f"{f.date(rv.first)} – {f.date(rv.last)}",
        "Reviews": f.number(rv.count),
        "Average rating": f.number(rv.average_rating, 1) + " / 5",
        "Positive": f.number(rv.positive),
        "Negative": f.number(rv.negative),
        "Negative, resolved": f.number(rv.resolved_negative),
    }])


def reviews_estimate_text(r: AccountReview, f: Formatter) -> str:
    rv = r.reviews
    lo, hi = rv.clip
    clipped = rv.impact_raw_pct is not None and rv.impact_pct != rv.impact_raw_pct
    text = (f"Estimated effect of these reviews on sales: {f.signed(rv.impact_pct, 1, '%')}. "
            "This is an illustrative estimate from a published formula (V% = 7.9 × (0.62·P − "
            "0.17·N² + 0.15·R), commissioned by Trustpilot, 2014), not a measurement; it is "
            f"clipped to {f.signed(lo, 0, '%')} … {f.signed(hi, 0, '%')}")
    if clipped:
        text += f" (unclipped: {f.signed(rv.impact_raw_pct, 1, '%')})"
    return text + "."


def commercial_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    c = r.commercial
    cards = [{"label": "ARR", "value": f.money(c.arr)}]
    if c.arr_start is not None and c.arr is not None and c.arr_start:
        cards[0].update({"change": f.signed((c.arr - c.arr_start) / c.arr_start * 100, 1, "%"),
                         "tone": "up_good" if c.arr >= c.arr_start else "bad",
                         "hint": f"vs start of {f.quarter(r.quarter)}"})
    if c.churned:
        cards.append({"label": "Subscription ended", "value": f.date(c.churn_date)})
    else:
        cards.append({"label": "Renewal date", "value": f.date(c.renewal_date),
                      **({"hint": f"in {c.days_to_renewal} days"}
                         if c.days_to_renewal is not None and c.days_to_renewal >= 0 else {})})
    cards.append({"label": "Customer since", "value": f.date(c.start_date)})
    return cards


def expansion_signals(r: AccountReview, f: Formatter) -> list[str]:
    a = r.adoption
    out = []
    if a.expansion_signal:
        out.append(f"Seat utilisation is {f.pct(a.utilisation_pct)} of {f.number(a.seats)} "
                   "licensed seats: more seats would let more of the team work in the product.")
    busy = a.features[a.features["adoption_pct"] >= 80] if not a.features.empty else a.features
    if len(busy) >= 3:
        out.append(f"{len(busy)} features are used by 80% or more of seats.")
    return out


def plan_table(plan: pd.DataFrame, f: Formatter) -> pd.DataFrame:
    """Goals with owner, due date and a status badge (never the internal note)."""
    rows = [{
        "Goal": str(p.goal),
        "Owner": str(p.owner),
        "Due": f.date(pd.Timestamp(p.due_date).date()),
        "Status": blocks.badge(STATUS_LABELS.get(p.status, str(p.status)), str(p.status)),
    } for p in plan.itertuples()]
    return pd.DataFrame(rows, columns=["Goal", "Owner", "Due", "Status"])


def plan_caption(r: AccountReview, f: Formatter) -> str:
    if r.plan_completion_pct is None:
        return f"Goals for {f.quarter(r.quarter)}"
    return (f"Goals for {f.quarter(r.quarter)}: {f.pct(r.plan_completion_pct, 0)} completed "
            "(goals marked not available are left out)")


def health_cards(r: AccountReview, f: Formatter) -> list[dict[str, Any]]:
    h, hp = r.health, r.health_previous
    card: dict[str, Any] = {"label": "Health score",
                            "value": f.number(h.score, 1) if h and h.score is not None
                            else f.missing,
                            "hint": h.band if h and h.band else "not enough data"}
    if h and hp and h.score is not None and hp.score is not None:
        d = h.score - hp.score
        card.update({"change": f.signed(d, 1, " pts"), "tone": "up_good" if d >= 0 else "bad"})
    return [
        card,
        {"label": "Contract value at risk", "value": f.money(r.value_at_risk),
         "hint": "ARR of an account in the At risk band"},
        {"label": "ARR", "value": f.money(r.commercial.arr)},
    ]


def health_table(r: AccountReview, f: Formatter) -> pd.DataFrame:
    h = r.health
    rows = []
    if h is None:
        return pd.DataFrame(columns=["Component", "Score", "Weight", "Formula"])
    order = list(h.drivers) + [m for m in h.missing]
    for name in order:
        s = h.components.get(name)
        rows.append({"Component": name, "Score": _num(s, f),
                     "Weight": f.number(h.weights.get(name, 0), 2),
                     "Formula": health.COMPONENT_FORMULAS.get(name, "")})
    return pd.DataFrame(rows)


def risk_table(r: AccountReview) -> pd.DataFrame:
    if not r.risks:
        return pd.DataFrame([{"Severity": "—", "Risk": "No risks flagged."}])
    return pd.DataFrame([{"Severity": k.severity, "Risk": k.text} for k in r.risks])


def methodology_intro(r: AccountReview, f: Formatter) -> str:
    return (f"Figures cover {f.quarter(r.quarter)} with data as of {f.date(r.as_of)}, "
            f"amounts in {r.currency}. Each figure below is computed once, by the formula "
            "shown, from this account's own data; peer comparisons use anonymised segment "
            "aggregates of at least five accounts. Where a figure lacks the data it needs, "
            "the review says “not enough data” rather than estimate it.")


def formulas(r: AccountReview) -> Iterator[tuple[str, str]]:
    """(name, formula) for every figure this review shows."""
    yield ("Value delivered (quarter)", "Σ over drivers of max(improvement vs baseline in "
           "force, 0) × unit value, from each driver's last measurement in the quarter")
    yield ("Value realized vs business case", "value delivered / Σ |target − business-case "
           "baseline| × unit value × 100")
    yield ("Progress toward target", "(current − baseline) / (target − baseline) × 100, "
           "clipped to 0–100; works for lower-is-better drivers")
    yield ("Subscription cost", "Σ monthly ARR / 12 over the quarter's months")
    yield ("ROI", "(value to date − cost to date) / cost to date × 100; multiple = value / cost")
    yield ("Payback", "current ARR / (this quarter's value / 3), in months")
    yield ("Seat utilisation", adoption.UTILISATION_FORMULA)
    yield ("Feature adoption", adoption.FEATURE_FORMULA)
    yield ("Peer percentile", "share of peers below the account plus half the ties × 100, "
           "within the segment, at least 5 peers")
    yield ("NPS", "% promoters (9–10) − % detractors (0–6) of the quarter's answers")
    yield ("CSAT", "answers of 4 or 5 / all answers × 100, tickets opened in the quarter")
    yield ("Resolution time", "median of resolved − opened, in hours, tickets opened and "
           "resolved in the quarter")
    if r.reviews.count:
        yield ("Online review sales effect", "7.9 × (0.62·P − 0.17·N² + 0.15·R) %, "
               "illustrative, clipped")
    if r.audience == "internal":
        yield ("Health score", "Σ wᵢ·sᵢ / Σ wᵢ over components with data: "
               + "; ".join(f"{k} = {v}" for k, v in health.COMPONENT_FORMULAS.items()))


def provenance(r: AccountReview, f: Formatter, version: str) -> list[tuple[str, str]]:
    return [
        ("Quarter", f.quarter(r.quarter)),
        ("Data as of", f.date(r.as_of)),
        ("Data hash (bundle SHA-256)", r.bundle_sha256 or "not recorded"),
        ("Template version", f"valuereview {version}"),
        ("Audience", r.audience),
    ]
