"""Health score, its ROC AUC back-test and peer percentile ranks (docs/metrics.md, "Health
score" and "Peer benchmarks")."""

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from valuelib.metrics import HealthScore, health_score, percentile_rank, roc_auc

SCORES = {"adoption": 80, "support": 71, "sentiment": 90, "value": 54}
WEIGHTS = {"adoption": 0.2, "support": 0.3, "sentiment": 0.3, "value": 0.2}


def test_health_score_worked_example():
    result = health_score(SCORES, WEIGHTS)
    assert isinstance(result, HealthScore)
    assert result.score == pytest.approx(75.1)
    assert round(result.score, 1) == 75.1
    assert type(result.score) is float
    assert result.missing == ()
    # weighted distance from 100: value 9.2, support 8.7, adoption 4.0, sentiment 3.0
    assert result.drivers == ("value", "support", "adoption", "sentiment")
    assert dict(result.components) == {k: float(v) for k, v in SCORES.items()}


def test_missing_component_weight_is_spread_over_the_rest():
    scores = dict(SCORES, support=None)
    result = health_score(scores, WEIGHTS)
    assert result.score == pytest.approx((0.2 * 80 + 0.3 * 90 + 0.2 * 54) / 0.7)
    assert result.missing == ("support",)
    assert result.drivers == ("value", "adoption", "sentiment")
    assert result.components["support"] is None
    assert result.weights["support"] == 0.0
    assert sum(result.weights.values()) == pytest.approx(1.0)
    assert result.weights["adoption"] == pytest.approx(0.2 / 0.7)


def test_missing_component_worked_example():
    # docs/metrics.md#health-score: (0.2 · 80 + 0.3 · 90 + 0.2 · 54) / 0.7 = 76.9
    result = health_score(dict(SCORES, support=None), WEIGHTS)
    assert round(result.score, 1) == 76.9
    assert round(result.weights["adoption"], 4) == round(0.2 / 0.7, 4) == 0.2857


def test_two_missing_components():
    result = health_score(dict(SCORES, adoption=None, value=None), WEIGHTS)
    assert result.score == pytest.approx((71 + 90) / 2)
    assert result.missing == ("adoption", "value")
    assert result.drivers == ("support", "sentiment")


def test_weights_need_not_sum_to_one():
    doubled = {k: 2 * v for k, v in WEIGHTS.items()}
    assert health_score(SCORES, doubled).score == pytest.approx(75.1)


def test_driver_ties_keep_input_order():
    result = health_score({"b": 50, "a": 50, "c": 100}, {"b": 1, "a": 1, "c": 1})
    assert result.drivers == ("b", "a", "c")


def test_health_score_is_frozen():
    result = health_score(SCORES, WEIGHTS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.components["adoption"] = 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("scores", "weights", "name"),
    [
        ({}, {}, "scores"),
        ({"a": None, "b": None}, {"a": 1, "b": 1}, "scores"),
        ({"a": 101}, {"a": 1}, r"scores\['a'\]"),
        ({"a": -1}, {"a": 1}, r"scores\['a'\]"),
        ({"a": math.nan}, {"a": 1}, r"scores\['a'\]"),
        ({"a": 50, "b": 60}, {"a": 1}, "weights"),
        ({"a": 50}, {"a": 1, "z": 1}, "weights"),
        ({"a": 50}, {"a": -1}, r"weights\['a'\]"),
        ({"a": 50}, {"a": math.nan}, r"weights\['a'\]"),
        ({"a": 50, "b": None}, {"a": 0, "b": 1}, "weights"),
        ([("a", 50)], {"a": 1}, "scores"),
    ],
)
def test_health_score_errors_name_the_argument(scores, weights, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        health_score(scores, weights)


# --- ROC AUC -------------------------------------------------------------------------


def _pairwise_auc(scores, positives):
    pos = [s for s, p in zip(scores, positives, strict=True) if p]
    neg = [s for s, p in zip(scores, positives, strict=True) if not p]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_roc_auc_hand_computed_with_a_tie():
    # positives {2, 3} vs negatives {1, 3}: 1 + 0 + 1 + 0.5 = 2.5 of 4 pairs
    assert roc_auc([1, 2, 3, 3], [False, True, True, False]) == pytest.approx(0.625)


def test_roc_auc_extremes_and_ties():
    assert roc_auc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    assert roc_auc([1, 2, 3, 4], [True, True, False, False]) == 0.0
    assert roc_auc([5, 5, 5, 5], [True, False, True, False]) == 0.5


def test_roc_auc_matches_pairwise_count_and_churn_convention():
    rng = np.random.default_rng(7)
    health = rng.integers(0, 100, size=60)
    churned = rng.random(60) < 0.3
    auc = roc_auc(-health, churned)
    assert auc == pytest.approx(_pairwise_auc(list(-health), list(churned)))
    assert roc_auc(health, churned) == pytest.approx(1 - auc)
    assert roc_auc(list(-health), [int(c) for c in churned]) == pytest.approx(auc)


@pytest.mark.parametrize(
    ("scores", "positives", "name"),
    [
        ([], [], "scores"),
        ([1, 2], [True, True], "positives"),
        ([1, 2], [False, False], "positives"),
        ([1, 2, 3], [True, False], "positives"),
        ([1, 2], [True, 2], "positives"),
        ([1, 2], ["yes", "no"], "positives"),
        ([1, math.nan], [True, False], "scores"),
    ],
)
def test_roc_auc_errors_name_the_argument(scores, positives, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        roc_auc(scores, positives)


# --- percentile rank -----------------------------------------------------------------


def test_percentile_rank_counts_half_of_ties():
    peers = [1, 2, 3, 4, 5]
    assert percentile_rank(3, peers) == pytest.approx(50.0)
    assert percentile_rank(3.5, peers) == pytest.approx(60.0)
    assert percentile_rank(0, peers) == 0.0
    assert percentile_rank(10, peers) == 100.0
    assert percentile_rank(5, [5, 5, 5, 5, 5, 1]) == pytest.approx((1 + 2.5) / 6 * 100)


def test_percentile_rank_not_enough_peers():
    with pytest.raises(ValueError, match=r"^peers\b.*not enough peers"):
        percentile_rank(3, [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"^peers\b"):
        percentile_rank(3, [])
    with pytest.raises(ValueError, match=r"^value\b"):
        percentile_rank(math.nan, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match=r"^peers\b"):
        percentile_rank(1, [1, 2, 3, 4, math.nan])


def test_drivers_are_ranked_by_weighted_not_raw_distance():
    # raw distance: low 50 > high 30; weighted: 0.1 * 50 = 5 < 0.9 * 30 = 27
    result = health_score({"low": 50, "high": 70}, {"low": 0.1, "high": 0.9})
    assert result.drivers == ("high", "low")


def test_tiny_weights_do_not_underflow():
    result = health_score({"a": 1.25, "b": 60}, {"a": 5e-324, "b": 0})
    assert result.score == 1.25


@pytest.mark.parametrize(
    "positives",
    [
        pd.Series([True, None], dtype="boolean"),
        [True, None],
        5,
        "10",
        np.array([[True], [False]]),
        [True, 0.5],
    ],
)
def test_roc_auc_rejects_malformed_positives(positives):
    with pytest.raises(ValueError, match=r"^positives\b"):
        roc_auc([1, 2], positives)


def test_roc_auc_accepts_series_and_generators():
    assert roc_auc(pd.Series([3.0, 1.0]), pd.Series([True, False])) == 1.0
    assert roc_auc([3.0, 1.0], (flag for flag in [1, 0])) == 1.0
