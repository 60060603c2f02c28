"""Voice of the customer: docs/metrics.md, "Voice of the customer"."""

import math

import numpy as np
import pandas as pd
import pytest

from valuelib.metrics import csat, nps, review_sales_impact


def test_nps_worked_example():
    # 200 answers: 110 promoters, 50 passives, 40 detractors
    scores = [9] * 60 + [10] * 50 + [7] * 25 + [8] * 25 + [0] * 10 + [6] * 30
    assert len(scores) == 200
    assert nps(scores) == pytest.approx(35.0)


def test_nps_bounds_and_input_types():
    assert nps([10, 9]) == 100.0
    assert nps([0, 6]) == -100.0
    assert nps([7, 8]) == 0.0
    assert nps(np.array([10, 3])) == 0.0
    assert nps(pd.Series([10.0, 9.0, 1.0, 8.0])) == pytest.approx(25.0)
    assert nps(s for s in [10, 10, 0]) == pytest.approx(100 / 3)


def test_csat_worked_example():
    ratings = [5] * 10 + [4] * 20 + [3] * 8 + [2] * 7 + [1] * 5
    assert len(ratings) == 50
    assert csat(ratings) == pytest.approx(60.0)


def test_review_sales_impact_worked_examples():
    assert review_sales_impact(10, 0, 0) == pytest.approx(48.98)
    assert review_sales_impact(10, 2, 1) == pytest.approx(44.793)


def test_review_sales_impact_is_unbounded_until_clipped():
    assert review_sales_impact(100, 0, 0) == pytest.approx(489.8)  # "about 490%"
    assert review_sales_impact(100, 0, 0, clip=(-20, 20)) == 20.0
    assert review_sales_impact(0, 5, 0, clip=(-20, 20)) == -20.0
    assert review_sales_impact(10, 2, 1, clip=(-100, 100)) == pytest.approx(44.793)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: nps([]), "scores"),
        (lambda: nps([11]), "scores"),
        (lambda: nps([-1, 5]), "scores"),
        (lambda: nps([8.5]), "scores"),
        (lambda: nps([9, math.nan]), "scores"),
        (lambda: nps([9, None]), "scores"),
        (lambda: nps(pd.Series([9, None], dtype="Int64")), "scores"),
        (lambda: nps(["9"]), "scores"),
        (lambda: nps("9"), "scores"),
        (lambda: nps(None), "scores"),
        (lambda: nps(9), "scores"),
        (lambda: csat([]), "ratings"),
        (lambda: csat([0, 5]), "ratings"),
        (lambda: csat([6]), "ratings"),
        (lambda: csat([4.5]), "ratings"),
        (lambda: review_sales_impact(-1, 0, 0), "positive"),
        (lambda: review_sales_impact(1, -1, 0), "negative"),
        (lambda: review_sales_impact(1, 1, -1), "resolved"),
        (lambda: review_sales_impact(1, 1, 2), "resolved"),
        (lambda: review_sales_impact(1, math.nan, 0), "negative"),
        (lambda: review_sales_impact(1, 0, 0, clip=(5, 1)), "clip"),
        (lambda: review_sales_impact(1, 0, 0, clip=(1,)), "clip"),
        (lambda: review_sales_impact(1, 0, 0, clip=(math.nan, 1)), "clip"),
    ],
)
def test_errors_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_review_sales_impact_clip_is_keyword_only():
    with pytest.raises(TypeError):
        review_sales_impact(1, 0, 0, (0, 10))  # type: ignore[misc]
