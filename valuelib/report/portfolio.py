"""The portfolio review's figures turned into cards, tables and captions (no computation).

Worded in the formatter's language (`Formatter.tr`), like `valuelib.report.account`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from valuelib.model import health
from valuelib.model.portfolio import (
    EARLIER,
    FIT_FAILED,
    NO_ACCOUNTS,
    TOO_LITTLE_DATA,
    Portfolio,
    SegmentProjection,
)
from valuelib.report.account import band_label, component_label, not_provided_entry
from valuelib.report.blocks import MISSING
from valuelib.report.fmt import Formatter
from valuelib.report.i18n import N_

RETENTION_LABELS = [
    ("grr", N_("GRR (gross revenue retention)")),
    ("nrr", N_("NRR (net revenue retention)")),
    ("gross_drr", N_("Gross DRR (= GRR)")),
    ("net_drr", N_("Net DRR (= NRR)")),
    ("crr", N_("CRR (logo retention)")),
    ("logo_churn", N_("Logo churn")),
    ("gross_revenue_churn", N_("Gross revenue churn")),
    ("net_revenue_churn", N_("Net revenue churn")),
]
#: The portfolio's headline figures by key (the batch index shows them under these labels).
HEADLINE_LABELS = {
    "grr": N_("GRR this quarter"),
    "nrr": N_("NRR this quarter"),
    "crr": N_("Logo retention (CRR)"),
    "value_quarter": N_("Value delivered this quarter"),
    "renewing": N_("ARR renewing in 2 quarters"),
    "at_risk": N_("Renewing ARR at risk"),
}


def headline_cards(p: Portfolio, f: Formatter) -> list[dict[str, Any]]:
    _, n_ = f.tr.gettext, f.tr.ngettext
    q, t = p.retention_quarter, p.retention_ttm
    at_risk = p.at_risk_by_band.set_index("band")["arr"]
    label = {k: _(v) for k, v in HEADLINE_LABELS.items()}
    cards = [
        {"label": label["grr"], "value": f.pct(q.get("grr")),
         "hint": _("trailing 12 months {value}").format(value=f.pct(t.get("grr")))},
        {"label": label["nrr"], "value": f.pct(q.get("nrr")),
         "hint": _("trailing 12 months {value}").format(value=f.pct(t.get("nrr")))},
        {"label": label["crr"], "value": f.pct(q.get("crr")),
         "hint": _("logo churn {value}").format(value=f.pct(q.get("logo_churn")))},
    ]
    if p.shows("value"):
        cards.append({"label": label["value_quarter"], "value": f.money(p.value_quarter),
                      "hint": _("to date {value}").format(value=f.money(p.value_to_date))})
    cards.append({"label": label["renewing"], "value": f.money(p.renewals["arr"].sum()),
                  "hint": n_("{count} account", "{count} accounts", len(p.renewals)).format(
                      count=f.number(len(p.renewals)))})
    if p.shows("health"):
        cards.append({"label": label["at_risk"],
                      "value": f.money(float(at_risk.get(health.AT_RISK, 0.0))),
                      "hint": _("health band {band}").format(band=band_label(health.AT_RISK,
                                                                              f))})
    return cards


def group_label(group: Any, other: int, f: Formatter) -> str:
    """A group's name, or what a pooled row stands for ("12 others")."""
    if other:
        return f.tr.ngettext("{count} other", "{count} others", other).format(
            count=f.number(other))
    return str(group)


def retention_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    _, p_ = f.tr.gettext, f.tr.pgettext
    rows = []
    for key, label in RETENTION_LABELS:
        rows.append({p_("table header", "Figure"): _(label),
                     f.quarter(p.quarter): f.pct(p.retention_quarter.get(key)),
                     p_("table header", "Trailing 12 months"): f.pct(p.retention_ttm.get(key))})
    return pd.DataFrame(rows)


def group_table(df: pd.DataFrame, f: Formatter, header: str) -> pd.DataFrame:
    """Retention per group, in the model's order (by name, a pooled row last)."""
    p_ = f.tr.pgettext
    rows = []
    for r in df.itertuples():
        rows.append({header: group_label(r.group, r.other, f),
                     p_("table header", "Accounts at start"): f.number(r.accounts),
                     p_("table header", "Starting ARR"): f.money(r.start_arr),
                     p_("table header", "GRR"): f.pct(r.grr),
                     p_("table header", "NRR"): f.pct(r.nrr),
                     p_("table header", "CRR"): f.pct(r.crr),
                     p_("table header", "Logo churn"): f.pct(r.logo_churn)})
    return pd.DataFrame(rows)


def group_bars(df: pd.DataFrame, f: Formatter | None = None) -> pd.DataFrame:
    """Long form for a grouped bar chart of GRR and NRR by group."""
    names = {"grr": "GRR", "nrr": "NRR"}
    if f is not None:
        names = {k: f.tr.pgettext("table header", v) for k, v in names.items()}
    rows = []
    for r in df.itertuples():
        name = group_label(r.group, r.other, f) if f is not None else str(r.group)
        for metric in ("grr", "nrr"):
            v = getattr(r, metric)
            if v is not None and not pd.isna(v):
                rows.append({"group": name, "metric": names[metric], "value": float(v)})
    return pd.DataFrame(rows, columns=["group", "metric", "value"])


def cohort_frame(p: Portfolio, f: Formatter) -> pd.DataFrame:
    """The cohorts as shown (`Portfolio.cohort_view`), rows named in the document's language."""
    df = p.cohort_view.copy()
    if p.cohort_grain == "quarter":
        df.index = [f.quarter(q) for q in df.index]
    else:
        df.index = [f.tr.gettext("Earlier") if y == EARLIER else str(y) for y in df.index]
    return df


def cohort_title(p: Portfolio, f: Formatter) -> str:
    """The cohort heat map's title: by start quarter, or by start year when pooled."""
    _ = f.tr.gettext
    if p.cohort_grain == "quarter":
        return _("Logo retention by start quarter and quarters since start (%)")
    return _("Logo retention by start year and quarters since start (%)")


def projection_note(s: SegmentProjection, f: Formatter) -> str:
    """Why a segment has no projection (`SegmentProjection.reason`), in words."""
    _, n_ = f.tr.gettext, f.tr.ngettext
    if s.reason == NO_ACCOUNTS:
        return _("no accounts")
    if s.reason == TOO_LITTLE_DATA:
        horizon = max(len(s.observed) - 1, 0)
        return n_("not enough data: the oldest cohort has {count} account over {quarters} "
                  "quarters",
                  "not enough data: the oldest cohort has {count} accounts over {quarters} "
                  "quarters", s.accounts).format(count=f.number(s.accounts),
                                                  quarters=f.number(horizon))
    if s.reason == FIT_FAILED:
        return _("not enough data: the model could not be fitted to this cohort")
    if s.constant_churn is not None:
        return _("no heterogeneity between customers: constant churn of {churn} a "
                 "quarter").format(churn=f.pct(s.constant_churn * 100.0))
    return ""


def _parameter(value: float | None, s: SegmentProjection, f: Formatter) -> str:
    """α or β as fitted; a dash when the fit is the geometric model (the note gives its
    churn rate instead: α, β only say how far the search went)."""
    if value is None:
        return f.missing
    return MISSING if s.constant_churn is not None else f.number(value, 3)


def projection_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    """One row per segment: its fit, projected retention and LTV. A segment without a
    projection shows a dash in the fit's cells and says why once, in its note."""
    p_ = f.tr.pgettext
    rows = []
    for s in p.projections:
        surv4 = (s.projected.loc[s.projected["period"] == 4, "survival_pct"]
                 if not s.projected.empty else pd.Series(dtype=float))
        fitted = not s.reason
        rows.append({
            p_("table header", "Segment"): group_label(s.segment, s.other, f),
            p_("table header", "Cohort accounts"): f.number(s.accounts),
            "α": _parameter(s.alpha, s, f) if fitted else MISSING,
            "β": _parameter(s.beta, s, f) if fitted else MISSING,
            p_("table header", "Projected retention after 1 year"):
                (f.pct(float(surv4.iloc[0])) if len(surv4) else f.missing) if fitted
                else MISSING,
            p_("table header", "ARPA per quarter"): f.money(s.arpa_quarter),
            p_("table header", "LTV (3 years, discounted)"): f.money(s.ltv) if fitted
                else MISSING,
            p_("table header", "Note"): projection_note(s, f),
        })
    return pd.DataFrame(rows)


def survival_frame(p: Portfolio, f: Formatter | None = None) -> pd.DataFrame:
    """Observed and projected survival per projection group, for the survival chart."""
    parts = []
    for s in p.projections:
        name = group_label(s.segment, s.other, f) if f is not None else str(s.segment)
        if not s.observed.empty:
            parts.append(s.observed.assign(group=name, kind="observed"))
        if not s.projected.empty:
            parts.append(s.projected.assign(group=name, kind="projected"))
    if not parts:
        return pd.DataFrame(columns=["period", "survival_pct", "group", "kind"])
    return pd.concat(parts, ignore_index=True)


def _health(v: Any, f: Formatter) -> str:
    return f.number(v, 1) if v is not None and not pd.isna(v) else f.missing


def renewals_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    """The largest renewals by date (health columns when health data was provided), then one
    line for the rest."""
    p_ = f.tr.pgettext
    with_health = p.shows("health")
    cols = [p_("table header", "Account"), p_("table header", "Segment"),
            p_("table header", "CSM"), p_("table header", "Renewal"), p_("table header", "ARR")]
    if with_health:
        cols += [p_("table header", "Health"), p_("table header", "Band")]
    rows = []
    for r in p.renewals_shown.itertuples():
        cells = [r.name, r.segment, r.csm, f.date(r.renewal_date), f.money(r.arr)]
        if with_health:
            cells += [_health(r.health, f), band_label(r.band, f)]
        rows.append(dict(zip(cols, cells, strict=True)))
    rest = p.renewals_rest
    if rest["accounts"]:
        more = f.tr.ngettext("{count} more account", "{count} more accounts",
                             rest["accounts"]).format(count=f.number(rest["accounts"]))
        rows.append({**dict.fromkeys(cols, ""), cols[0]: more, cols[4]: f.money(rest["arr"])})
    return pd.DataFrame(rows, columns=cols)


def band_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    p_ = f.tr.pgettext
    return pd.DataFrame([{p_("table header", "Health band"): band_label(r.band, f),
                          p_("table header", "Accounts renewing"): f.number(r.accounts),
                          p_("table header", "ARR renewing"): f.money(r.arr)}
                         for r in p.at_risk_by_band.itertuples()])


def _components(names: Any, f: Formatter) -> str:
    from babel.lists import format_list

    parts = [component_label(n.strip(), f) for n in str(names or "").split(",") if n.strip()]
    return format_list(parts, locale=f.babel_locale) if parts else MISSING


def worst_first(p: Portfolio, f: Formatter, limit: int = 25) -> pd.DataFrame:
    p_ = f.tr.pgettext
    a = p.accounts[p.accounts["active"]].head(limit)
    cols = [p_("table header", "Account"), p_("table header", "Segment"),
            p_("table header", "CSM"), p_("table header", "ARR"), p_("table header", "Health"),
            p_("table header", "Band"), p_("table header", "Weakest components"),
            p_("table header", "No data for")]
    rows = [dict(zip(cols, (r.name, r.segment, r.csm, f.money(r.arr), _health(r.health, f),
                            band_label(r.band, f), _components(r.drivers, f),
                            _components(r.missing, f)), strict=True))
            for r in a.itertuples()]
    return pd.DataFrame(rows, columns=cols)


def health_points(p: Portfolio, f: Formatter | None = None) -> pd.DataFrame:
    """Health score and band of each active account (bands named in `f`'s language)."""
    a = p.accounts[p.accounts["active"] & p.accounts["health"].notna()]
    bands = a["band"] if f is None else a["band"].map(lambda b: band_label(b, f))
    return pd.DataFrame({"health": a["health"].astype(float), "band": bands})


def band_order(f: Formatter) -> list[str]:
    """Health bands worst first, as `health_points` names them."""
    return [band_label(b, f) for b in health.BAND_ORDER]


def backtest_text(p: Portfolio, f: Formatter) -> str:
    _, n_ = f.tr.gettext, f.tr.ngettext
    bt = p.backtest
    q = f.quarter(bt["quarter"])
    if bt["auc"] is None:
        return n_("Back-test of the health score at {quarter} against churn since: not enough "
                  "data: no churned (or no retained) accounts to compare ({count} account).",
                  "Back-test of the health score at {quarter} against churn since: not enough "
                  "data: no churned (or no retained) accounts to compare ({count} accounts).",
                  bt["accounts"]).format(quarter=q, count=f.number(bt["accounts"]))
    return _("The health score at {quarter} separated the accounts that churned since "
             "({churned}) from those that stayed ({stayed}) with ROC AUC {auc} (n = {count}; "
             "0.5 is chance, 1.0 perfect).").format(
        quarter=q, churned=f.number(bt["churned"]),
        stayed=f.number(bt["accounts"] - bt["churned"]), auc=f.number(bt["auc"], 2),
        count=f.number(bt["accounts"]))


def value_frame(p: Portfolio, f: Formatter | None = None) -> pd.DataFrame:
    """Value delivered this quarter per segment (the smaller ones pooled), for a bar chart."""
    v = p.value_by_segment
    names = [group_label(g, o, f) if f is not None else str(g)
             for g, o in zip(v["segment"], v["other"], strict=True)]
    return pd.DataFrame({"group": names, "value": v["value_quarter"].astype(float)})


def fx_text(p: Portfolio, f: Formatter) -> str:
    _ = f.tr.gettext
    if not p.fx_rates:
        return _("All amounts in {currency}.").format(currency=p.currency)
    # "1 AMD" and "0.00260 USD" each stay on one line (a narrow screen split "1" from "MWK").
    rates = "; ".join(f"1\u00a0{c} = {f.number(r, 5 if r < 0.01 else 2)}\u00a0{p.currency}"
                      for c, r in sorted(p.fx_rates.items()))
    return _("Amounts are in {currency}; accounts billed in other currencies are converted "
             "at the quarter's rates: {rates}.").format(currency=p.currency, rates=rates)


def methodology(p: Portfolio, f: Formatter, data_hash: str, version: str
                ) -> list[tuple[str, str]]:
    """The portfolio review's glossary of formulas and its provenance."""
    _ = f.tr.gettext
    with_health = p.shows("health")
    return [
        (_("GRR"), _("(ARR₀ − churned − contraction) / ARR₀ × 100, never above 100")),
        (_("NRR"), _("(ARR₀ − churned − contraction + expansion) / ARR₀ × 100; new customers "
                     "excluded")),
        (_("CRR"), _("(customers at end − new customers) / customers at start × 100")),
        (_("ARR movements"), _("per account between the month before the period and its last "
                               "month: churn, contraction, expansion or new")),
        *([(_("Health score"), _("Σ wᵢ·sᵢ / Σ wᵢ over components with data (adoption, value, "
                                 "NPS, support); bands: below 50 At risk, below 70 Watch"))]
          if with_health else []),
        ("sBG", _("P(T=1) = α/(α+β); r_t = (β+t−1)/(α+β+t−1); LTV = margin × Σ "
                  "S(t)·ARPA/(1+d)^t")),
        *([(_("ROC AUC"), _("probability that a churned account had a lower health score "
                            "than a retained one"))] if with_health else []),
        (_("Data as of"), f.date(p.as_of)),
        *not_provided_entry(p.not_provided, f),
        (_("Data hash (bundle SHA-256)"), data_hash),
        (_("Template version"), f"valuereview {version}"),
    ]
