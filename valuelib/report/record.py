"""Hand a notebook's headline figures to the batch, which writes them to metrics.json.

The notebook displays them once under its own MIME type; the HTML template shows only the
usual types, so the record is invisible in the document but kept in the executed notebook.
The numbers are the same objects the document formats, so metrics.json and the document agree.
Keys and each figure's ``label`` stay English identifiers (the batch index translates the
labels into its own language); ``display`` is the figure as the document shows it, in the
document's locale and language, and ``locale``/``language`` say which those are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from valuelib.report.i18n import N_

METRICS_MIME = "application/vnd.valuereview.metrics+json"
#: The executive summary's figures by the model's key: English messages, translated where a
#: document or the batch index shows them, and metrics.json's ``label``.
HEADLINE_LABELS = {
    "value_quarter": N_("Value delivered this quarter"),
    "value_to_date": N_("Value delivered to date"),
    "roi_multiple": N_("ROI multiple to date"),
    "realized_vs_business_case": N_("Value realized vs business case"),
    "utilisation": N_("Seat utilisation"),
    "nps": N_("NPS"),
    "arr": N_("ARR"),
    "tenure": N_("Customer for"),
}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def figure_formatters(fmt: Any) -> dict[str, Callable[[Any], str]]:
    """How a headline figure of each kind (`model.account.Headline.kind`) is shown, with
    the document's formatter: the one map for the document's cards and metrics.json."""
    return {
        "money": fmt.money,
        "pct": fmt.pct,
        "multiple": fmt.multiple,
        "nps": lambda x: fmt.number(x, 0),
        "months": fmt.months,
    }


def headline_payload(review: Any, fmt: Any) -> dict[str, Any]:
    """metrics.json content for an account review: raw values and their formatted text."""
    display = figure_formatters(fmt)
    figures = {}
    for h in review.headline:
        figures[h.key] = {
            "label": HEADLINE_LABELS[h.key],
            "value": _clean(h.value),
            "previous": _clean(h.previous),
            "display": display[h.kind](h.value),
        }
    payload: dict[str, Any] = {
        "account_id": review.account.get("account_id"),
        "name": review.name,
        "quarter": review.quarter,
        "as_of": review.as_of.isoformat(),
        "audience": review.audience,
        "currency": review.currency,
        "locale": fmt.tr.tag if hasattr(fmt, "tr") else review.locale,
        "language": fmt.tr.language if hasattr(fmt, "tr") else "en",
        "bundle_sha256": review.bundle_sha256,
        "figures": figures,
    }
    if review.audience == "internal" and review.health is not None:
        payload["internal"] = {
            "health_score": _clean(review.health.score),
            "health_band": review.health.band,
            "value_at_risk": _clean(review.value_at_risk),
        }
    return payload


def record(payload: dict[str, Any]) -> None:
    """Display `payload` under METRICS_MIME (call once, in the notebook's last cell)."""
    from IPython.display import display

    display({METRICS_MIME: payload}, raw=True)
