"""Peer benchmarks: where an account stands among its segment.

Rules: docs/metrics.md, section "Peer benchmarks"; docs/architecture.md, "Bundles".
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from valuelib.metrics._checks import number, number_array

__all__ = ["MIN_PEERS", "percentile_rank"]

#: Fewest other accounts a segment must have before an account is compared with it.
MIN_PEERS = 5


def percentile_rank(value: float, peers: Iterable[float]) -> float:
    """Percentile rank of ``value`` among ``peers``, in percent 0–100.

    rank = (peers strictly below value + ½ · peers equal to value) / n × 100.
    ``peers`` are the other accounts of the segment (not the account itself); fewer
    than 5 raises ValueError ("not enough peers"). Source: docs/metrics.md, "Peer benchmarks".
    """
    x = number("value", value)
    others = number_array("peers", peers)
    if others.size < MIN_PEERS:
        raise ValueError(
            f"peers must have at least {MIN_PEERS} values, got {others.size} (not enough peers)"
        )
    below = int(np.count_nonzero(others < x))
    ties = int(np.count_nonzero(others == x))
    return float((below + 0.5 * ties) / others.size * 100.0)
