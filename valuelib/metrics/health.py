"""The account health score and its back-test against real churn (ROC AUC).

Formula and worked example: docs/metrics.md, section "Health score".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from valuelib.metrics._checks import in_range, non_negative, number_array

__all__ = ["HealthScore", "health_score", "roc_auc"]


@dataclass(frozen=True)
class HealthScore:
    """A health score with what went into it.

    ``score``: 0–100. ``drivers``: components with data, the one pulling the score down
    most first (largest weight × (100 − score)). ``missing``: components without data,
    whose weight was spread over the rest. ``components``: every component's score as
    given (None where missing), in input order. ``weights``: the weights actually used,
    renormalised to sum to 1 over the components with data (0 for missing ones).
    """

    score: float
    drivers: tuple[str, ...]
    missing: tuple[str, ...]
    components: Mapping[str, float | None]
    weights: Mapping[str, float]


def health_score(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> HealthScore:
    """Weighted health score over the components that have data.

    score = Σ wᵢ·sᵢ / Σ wᵢ over components whose score is not None (each sᵢ on 0–100),
    so a missing component's weight is spread over the rest. ``weights`` must name the
    same components as ``scores``. Drivers are ordered by wᵢ·(100 − sᵢ), largest
    first, ties in input order. Source: docs/metrics.md, "Health score".
    """
    if not isinstance(scores, Mapping):
        raise ValueError(f"scores must be a mapping of component -> score, got {scores!r}")
    if not isinstance(weights, Mapping):
        raise ValueError(f"weights must be a mapping of component -> weight, got {weights!r}")
    if not scores:
        raise ValueError("scores must not be empty")
    unweighted = [name for name in scores if name not in weights]
    if unweighted:
        raise ValueError(f"weights has no weight for {', '.join(map(repr, unweighted))}")
    unknown = [name for name in weights if name not in scores]
    if unknown:
        raise ValueError(
            f"weights names components that scores lacks: {', '.join(map(repr, unknown))}"
        )

    components: dict[str, float | None] = {}
    for name, value in scores.items():
        components[name] = (
            None if value is None else in_range(f"scores[{name!r}]", value, 0.0, 100.0)
        )
    checked_weights = {name: non_negative(f"weights[{name!r}]", weights[name]) for name in scores}

    present = [name for name, value in components.items() if value is not None]
    missing = tuple(name for name, value in components.items() if value is None)
    if not present:
        raise ValueError("scores has no data: every component is None")
    largest = max(checked_weights[name] for name in present)
    if largest <= 0:
        raise ValueError("weights of the components with data must not all be 0")
    # Scale so the largest weight is 1: the result is the same, and tiny weights
    # cannot underflow in the products below.
    scaled = {name: checked_weights[name] / largest for name in present}
    total_weight = math.fsum(scaled.values())

    weighted = math.fsum(scaled[name] * components[name] for name in present)
    score = min(max(weighted / total_weight, 0.0), 100.0)
    gaps = {name: scaled[name] * (100.0 - components[name]) for name in present}
    drivers = tuple(sorted(present, key=lambda name: -gaps[name]))
    used = {name: scaled.get(name, 0.0) / total_weight for name in components}
    return HealthScore(
        score=float(score),
        drivers=drivers,
        missing=missing,
        components=MappingProxyType(components),
        weights=MappingProxyType(used),
    )


def roc_auc(scores: Iterable[float], positives: Iterable[bool]) -> float:
    """Area under the ROC curve of ``scores`` for the cases flagged in ``positives``.

    AUC = P(score of a random positive > score of a random negative), ties counting
    one half (the Mann–Whitney U statistic / (n₊·n₋)). To back-test the health score
    against churn, pass −health as scores and churned as positives. Both classes must
    be present. Source: docs/metrics.md, "Back-test".
    """
    values = number_array("scores", scores)
    flags = _flags("positives", positives)
    if flags.size != values.size:
        raise ValueError(f"positives must be as long as scores ({values.size}), got {flags.size}")
    n_pos = int(flags.sum())
    n_neg = int(flags.size - n_pos)
    if n_pos == 0:
        raise ValueError("positives has no positive case; AUC needs both classes")
    if n_neg == 0:
        raise ValueError("positives has no negative case; AUC needs both classes")
    from scipy.stats import rankdata  # imported here: scipy.stats costs ~1 s at start-up

    ranks = rankdata(values)  # ties get their average rank: each tie counts one half
    u = float(ranks[flags].sum()) - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _flags(name: str, values: object) -> np.ndarray:
    """A one-dimensional boolean array from booleans or 0/1 values."""
    if (
        values is None
        or isinstance(values, str | bytes | Mapping)
        or not isinstance(values, Iterable)
    ):
        raise ValueError(f"{name} must be a sequence of booleans, got {values!r}")
    if not hasattr(values, "__len__"):
        values = list(values)
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional sequence of booleans")
    if raw.dtype.kind == "b":
        return raw
    for i, value in enumerate(raw.tolist()):
        if isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1)):
            continue
        raise ValueError(
            f"{name} must contain only booleans (True/False or 1/0), got {value!r} at position {i}"
        )
    return raw.astype(bool)
