"""Property tests (hypothesis) for invariants the documents rely on."""

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from valuelib.metrics import (
    grr,
    health_score,
    nps,
    nrr,
    percentile_rank,
    roc_auc,
    sbg_retention,
    sbg_survival,
    value_realized_pct,
)

# Applied per test, so the rest of the suite keeps its own hypothesis settings.
metrics_settings = settings(deadline=None, max_examples=150, database=None)

amounts = st.floats(min_value=1.0, max_value=1e10, allow_nan=False, allow_infinity=False)
shares = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def revenue(draw):
    start = draw(amounts)
    churned = start * draw(shares)
    contraction = (start - churned) * draw(shares)
    expansion = draw(st.floats(min_value=0.0, max_value=1e10))
    return start, churned, contraction, expansion


@metrics_settings
@given(revenue())
def test_grr_between_0_and_100(values):
    start, churned, contraction, _ = values
    assert 0.0 <= grr(start, churned, contraction) <= 100.0


@metrics_settings
@given(revenue())
def test_nrr_at_least_grr_and_the_difference_is_expansion(values):
    start, churned, contraction, expansion = values
    gross = grr(start, churned, contraction)
    net = nrr(start, churned, contraction, expansion)
    assert net >= gross
    assert net == pytest.approx(gross + expansion / start * 100, rel=1e-9, abs=1e-9)


@metrics_settings
@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=300))
def test_nps_within_bounds(scores):
    assert -100.0 <= nps(scores) <= 100.0


names = st.sampled_from(["adoption", "support", "sentiment", "value", "usage", "billing"])


@metrics_settings
@given(
    st.dictionaries(
        names,
        st.tuples(
            st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
            st.floats(min_value=0, max_value=1e6),
        ),
        min_size=1,
    )
)
def test_health_score_within_bounds(components):
    scores = {k: s for k, (s, _) in components.items()}
    weights = {k: w for k, (_, w) in components.items()}
    assume(any(s is not None and weights[k] > 0 for k, s in scores.items()))
    result = health_score(scores, weights)
    assert 0.0 <= result.score <= 100.0
    present = [k for k, s in scores.items() if s is not None]
    assert set(result.drivers) == set(present)
    assert set(result.missing) == set(scores) - set(present)
    assert min(scores[k] for k in present) - 1e-9 <= result.score
    assert result.score <= max(scores[k] for k in present) + 1e-9


@metrics_settings
@given(
    st.floats(min_value=0.01, max_value=100),
    st.floats(min_value=0.01, max_value=100),
    st.integers(min_value=1, max_value=100),
)
def test_sbg_survival_non_increasing_within_0_1(alpha, beta, periods):
    survival = sbg_survival(alpha, beta, periods)
    assert survival.shape == (periods,)
    assert np.all(survival > 0) and np.all(survival <= 1)
    assert np.all(np.diff(survival) <= 0)
    retention = sbg_retention(alpha, beta, periods)
    assert np.all(np.diff(retention) >= -1e-15)  # sBG retention never falls
    assert survival == pytest.approx(np.cumprod(retention), rel=1e-9)


finite = st.floats(min_value=-1e6, max_value=1e6)


@metrics_settings
@given(finite, finite, finite)
def test_value_realized_within_0_100_and_direction_free(baseline, current, target):
    assume(abs(target - baseline) > 1e-6)
    pct = value_realized_pct(baseline, current, target)
    assert 0.0 <= pct <= 100.0
    # mirroring every value turns higher-is-better into lower-is-better: same progress
    assert value_realized_pct(-baseline, -current, -target) == pytest.approx(pct)


@metrics_settings
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=2, max_size=40))
def test_roc_auc_matches_pairwise_definition(cases):
    scores = [s for s, _ in cases]
    flags = [p for _, p in cases]
    assume(any(flags) and not all(flags))
    pos = [s for s, p in cases if p]
    neg = [s for s, p in cases if not p]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    assert roc_auc(scores, flags) == pytest.approx(wins / (len(pos) * len(neg)))


@metrics_settings
@given(finite, st.lists(finite, min_size=5, max_size=50))
def test_percentile_rank_within_0_100(value, peers):
    assert 0.0 <= percentile_rank(value, peers) <= 100.0
