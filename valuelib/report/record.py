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
from typing import Any

METRICS_MIME = "application/vnd.valuereview.metrics+json"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def headline_payload(review: Any, fmt: Any) -> dict[str, Any]:
    """metrics.json content for an account review: raw values and their formatted text."""
    display = {
        "money": fmt.money,
        "pct": fmt.pct,
        "multiple": fmt.multiple,
        "nps": lambda x: fmt.number(x, 0),
        "months": fmt.months,
    }
    figures = {}
    for h in review.headline:
        figures[h.key] = {
            "label": h.label,
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
