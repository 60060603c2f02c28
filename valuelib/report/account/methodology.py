"""The methodology appendix: what the figures cover, their formulas, provenance."""

from __future__ import annotations

from collections.abc import Iterator

from valuelib.model import health
from valuelib.model.account import AccountReview
from valuelib.report.account._shared import (
    COMPONENT_FORMULAS,
    TABLE_LABELS,
    _list,
    component_label,
)
from valuelib.report.fmt import Formatter


def methodology_intro(r: AccountReview, f: Formatter) -> str:
    """What the figures cover; peer comparisons are mentioned only where usage data (which
    they compare) was provided."""
    if not r.shows("adoption"):
        text = f.tr.gettext(
            "Figures cover {quarter} with data as of {date}, amounts in {currency}. Each "
            "figure below is computed once, by the formula shown, from this account's own "
            "data. Where a figure lacks the data it needs, the review says “{missing}” rather "
            "than estimate it.")
    else:
        text = f.tr.gettext(
            "Figures cover {quarter} with data as of {date}, amounts in {currency}. Each figure "
            "below is computed once, by the formula shown, from this account's own data; peer "
            "comparisons use anonymised segment aggregates of at least five accounts. Where a "
            "figure lacks the data it needs, the review says “{missing}” rather than estimate "
            "it.")
    return text.format(quarter=f.quarter(r.quarter), date=f.date(r.as_of), currency=r.currency,
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
