"""The internal health score: which components feed it, how each maps to 0–100, its bands.

Components (each 0–100; None when the account has no data for it, and then its weight is
spread over the rest by `metrics.health_score`):
- adoption = seat utilisation %, capped at 100;
- value = value realized vs business case %, clipped to 0–100;
- nps = (NPS + 100) / 2;
- support = CSAT %.
Bands: below 50 "At risk", below 70 "Watch", else "Healthy".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from valuelib import metrics
from valuelib.model import parts

DEFAULT_WEIGHTS: dict[str, float] = {"adoption": 0.3, "value": 0.3, "nps": 0.2, "support": 0.2}
#: The band names: keys for comparing and for metrics.json (report words them for a reader).
AT_RISK = "At risk"
WATCH = "Watch"
HEALTHY = "Healthy"
BANDS: tuple[tuple[float, str], ...] = ((50.0, AT_RISK), (70.0, WATCH))
#: The bands worst first, the order tables and charts list them in.
BAND_ORDER: tuple[str, ...] = (AT_RISK, WATCH, HEALTHY)
#: The components in the order the methodology lists them (each one's formula is worded by
#: the report).
COMPONENTS: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)


def components(utilisation_pct: float | None, realized_pct: float | None,
               nps: float | None, csat: float | None) -> dict[str, float | None]:
    """Each component on 0–100, or None where the account has no data for it."""
    return {
        "adoption": None if utilisation_pct is None else min(max(utilisation_pct, 0.0), 100.0),
        "value": None if realized_pct is None else min(max(realized_pct, 0.0), 100.0),
        "nps": None if nps is None else (nps + 100.0) / 2.0,
        "support": csat,
    }


def band(score: float | None) -> str | None:
    """The health band of a score."""
    if score is None:
        return None
    for upper, name in BANDS:
        if score < upper:
            return name
    return HEALTHY


@dataclass(frozen=True)
class Health:
    """A health score with its band, ordered drivers and missing components."""

    score: float | None
    band: str | None
    components: dict[str, float | None]
    drivers: tuple[str, ...]
    missing: tuple[str, ...]
    weights: dict[str, float]

    @property
    def available(self) -> bool:
        """Whether any component's data was provided (else there is no health score at all)."""
        return bool(self.components)


def assess(comp: dict[str, float | None], weights: dict[str, float] | None = None,
           provided: Iterable[str] | None = None) -> Health:
    """Score the components with `metrics.health_score`; None when no component has data.

    With `provided` (the tables the warehouse provided), a component whose tables were not
    provided is left out altogether, as if it did not exist: its weight goes to the others
    and it is not reported missing (it cannot be had for any account).
    """
    weights = dict(weights or DEFAULT_WEIGHTS)
    if provided is not None:
        have = set(provided)
        comp = {k: v for k, v in comp.items() if parts.shows(have, k)}
        weights = {k: w for k, w in weights.items() if k in comp}
        if not comp:
            return Health(None, None, comp, (), (), weights)
    try:
        hs = metrics.health_score(comp, weights)
    except ValueError:
        missing = tuple(k for k, v in comp.items() if v is None)
        return Health(None, None, comp, (), missing, weights)
    return Health(hs.score, band(hs.score), comp, tuple(hs.drivers), tuple(hs.missing), weights)
