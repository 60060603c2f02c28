"""The portfolio review's figures turned into cards, tables and captions (no computation)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .fmt import Formatter
from .model.portfolio import Portfolio

RETENTION_LABELS = [
    ("grr", "GRR (gross revenue retention)"),
    ("nrr", "NRR (net revenue retention)"),
    ("gross_drr", "Gross DRR (= GRR)"),
    ("net_drr", "Net DRR (= NRR)"),
    ("crr", "CRR (logo retention)"),
    ("logo_churn", "Logo churn"),
    ("gross_revenue_churn", "Gross revenue churn"),
    ("net_revenue_churn", "Net revenue churn"),
]


def headline_cards(p: Portfolio, f: Formatter) -> list[dict[str, Any]]:
    q, t = p.retention_quarter, p.retention_ttm
    at_risk = p.at_risk_by_band.set_index("band")["arr"]
    return [
        {"label": "GRR this quarter", "value": f.pct(q.get("grr")),
         "hint": f"trailing 12 months {f.pct(t.get('grr'))}"},
        {"label": "NRR this quarter", "value": f.pct(q.get("nrr")),
         "hint": f"trailing 12 months {f.pct(t.get('nrr'))}"},
        {"label": "Logo retention (CRR)", "value": f.pct(q.get("crr")),
         "hint": f"logo churn {f.pct(q.get('logo_churn'))}"},
        {"label": "Value delivered this quarter", "value": f.money(p.value_quarter),
         "hint": f"to date {f.money(p.value_to_date)}"},
        {"label": "ARR renewing in 2 quarters", "value": f.money(p.renewals["arr"].sum()),
         "hint": f"{len(p.renewals)} accounts"},
        {"label": "Renewing ARR at risk", "value": f.money(float(at_risk.get("At risk", 0.0))),
         "hint": "health band At risk"},
    ]


def retention_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    rows = []
    for key, label in RETENTION_LABELS:
        rows.append({"Figure": label, f.quarter(p.quarter): f.pct(p.retention_quarter.get(key)),
                     "Trailing 12 months": f.pct(p.retention_ttm.get(key))})
    return pd.DataFrame(rows)


def group_table(df: pd.DataFrame, f: Formatter, group_label: str) -> pd.DataFrame:
    rows = []
    for r in df.sort_values("group").itertuples():
        rows.append({group_label: str(r.group), "Accounts at start": f.number(r.accounts),
                     "Starting ARR": f.money(r.start_arr), "GRR": f.pct(r.grr),
                     "NRR": f.pct(r.nrr), "CRR": f.pct(r.crr), "Logo churn": f.pct(r.logo_churn)})
    return pd.DataFrame(rows)


def group_bars(df: pd.DataFrame) -> pd.DataFrame:
    """Long form for a grouped bar chart of GRR and NRR by group."""
    rows = []
    for r in df.itertuples():
        for metric in ("grr", "nrr"):
            v = getattr(r, metric)
            if v is not None and not pd.isna(v):
                rows.append({"group": str(r.group), "metric": metric.upper(), "value": float(v)})
    return pd.DataFrame(rows, columns=["group", "metric", "value"])


def cohort_frame(p: Portfolio, f: Formatter) -> pd.DataFrame:
    df = p.cohorts.copy()
    df.index = [f.quarter(q) for q in df.index]
    return df


def projection_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    rows = []
    for s in p.projections:
        surv4 = (s.projected.loc[s.projected["period"] == 4, "survival_pct"]
                 if not s.projected.empty else pd.Series(dtype=float))
        rows.append({
            "Segment": s.segment,
            "Cohort accounts": f.number(s.accounts),
            "α": f.number(s.alpha, 3) if s.alpha is not None else f.missing,
            "β": f.number(s.beta, 3) if s.beta is not None else f.missing,
            "Projected retention after 1 year": f.pct(float(surv4.iloc[0])) if len(surv4)
            else f.missing,
            "ARPA per quarter": f.money(s.arpa_quarter),
            "LTV (3 years, discounted)": f.money(s.ltv),
            "Note": s.note,
        })
    return pd.DataFrame(rows)


def survival_frame(p: Portfolio) -> pd.DataFrame:
    parts = []
    for s in p.projections:
        if not s.observed.empty:
            parts.append(s.observed.assign(group=s.segment, kind="observed"))
        if not s.projected.empty:
            parts.append(s.projected.assign(group=s.segment, kind="projected"))
    if not parts:
        return pd.DataFrame(columns=["period", "survival_pct", "group", "kind"])
    return pd.concat(parts, ignore_index=True)


def renewals_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    rows = [{"Account": r.name, "Segment": r.segment, "CSM": r.csm,
             "Renewal": f.date(r.renewal_date), "ARR": f.money(r.arr),
             "Health": f.number(r.health, 1) if r.health is not None and not pd.isna(r.health)
             else f.missing, "Band": r.band or f.missing}
            for r in p.renewals.itertuples()]
    return pd.DataFrame(rows, columns=["Account", "Segment", "CSM", "Renewal", "ARR", "Health",
                                       "Band"])


def band_table(p: Portfolio, f: Formatter) -> pd.DataFrame:
    return pd.DataFrame([{"Health band": r.band, "Accounts renewing": f.number(r.accounts),
                          "ARR renewing": f.money(r.arr)} for r in p.at_risk_by_band.itertuples()])


def worst_first(p: Portfolio, f: Formatter, limit: int = 25) -> pd.DataFrame:
    a = p.accounts[p.accounts["active"]].head(limit)
    rows = [{"Account": r.name, "Segment": r.segment, "CSM": r.csm, "ARR": f.money(r.arr),
             "Health": f.number(r.health, 1) if r.health is not None and not pd.isna(r.health)
             else f.missing, "Band": r.band or f.missing, "Weakest components": r.drivers,
             "No data for": r.missing or "—"} for r in a.itertuples()]
    return pd.DataFrame(rows)


def health_points(p: Portfolio) -> pd.DataFrame:
    a = p.accounts[p.accounts["active"] & p.accounts["health"].notna()]
    return pd.DataFrame({"health": a["health"].astype(float), "band": a["band"]})


def backtest_text(p: Portfolio, f: Formatter) -> str:
    bt = p.backtest
    if bt["auc"] is None:
        return (f"Back-test of the health score at {f.quarter(bt['quarter'])} against churn "
                f"since: {bt.get('note', 'not enough data')} ({bt['accounts']} accounts).")
    return (f"The health score at {f.quarter(bt['quarter'])} separated the {bt['churned']} "
            f"accounts that churned since from the {bt['accounts'] - bt['churned']} that "
            f"stayed with ROC AUC {f.number(bt['auc'], 2)} (n = {bt['accounts']}; 0.5 is "
            "chance, 1.0 perfect).")


def value_frame(p: Portfolio) -> pd.DataFrame:
    return pd.DataFrame({"group": p.value_by_segment["segment"],
                         "value": p.value_by_segment["value_quarter"]})


def fx_text(p: Portfolio, f: Formatter) -> str:
    if not p.fx_rates:
        return f"All amounts in {p.currency}."
    rates = "; ".join(f"1 {c} = {f.number(r, 5 if r < 0.01 else 2)} {p.currency}"
                      for c, r in sorted(p.fx_rates.items()))
    return (f"Amounts are in {p.currency}; accounts billed in other currencies are converted "
            f"at the quarter's rates: {rates}.")
