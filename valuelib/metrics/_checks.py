"""Input checks shared by the metric functions (private to ``valuelib.metrics``).

Every check raises ``ValueError`` whose message starts with the argument's name, so a
notebook can turn it into "not enough data" and a developer can see which input was
wrong (docs/metrics.md, "Conventions").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

import numpy as np


def fmt(value: float) -> str:
    """Show a number in an error message the way a person would write it (0, not 0.0)."""
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def number(name: str, value: object) -> float:
    """``value`` as a finite float; booleans, None, strings, NaN and infinity are refused."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real | Decimal):
        raise ValueError(f"{name} must be a number, got {value!r}")
    result = float(value)
    if math.isnan(result):
        raise ValueError(f"{name} must be a number, got NaN")
    if math.isinf(result):
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def positive(name: str, value: object) -> float:
    """A finite number > 0 (used for denominators)."""
    result = number(name, value)
    if result <= 0:
        raise ValueError(f"{name} must be > 0, got {fmt(result)}")
    return result


def non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (counts and amounts)."""
    result = number(name, value)
    if result < 0:
        raise ValueError(f"{name} must be >= 0, got {fmt(result)}")
    return result


def in_range(name: str, value: object, low: float, high: float, *, low_open: bool = False) -> float:
    """A finite number in [low, high] (or (low, high] with ``low_open``)."""
    result = number(name, value)
    too_low = result <= low if low_open else result < low
    if too_low or result > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{fmt(low)}, {fmt(high)}], got {fmt(result)}")
    return result


def whole(name: str, value: object, minimum: int = 0) -> int:
    """An integer (a Python or NumPy int, not a bool or float) >= ``minimum``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    result = int(value)
    if result < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {result}")
    return result


def number_array(name: str, values: object, *, min_size: int = 1) -> np.ndarray:
    """A one-dimensional float array of finite numbers with at least ``min_size`` items.

    Accepts lists, tuples, NumPy arrays, pandas Series and other iterables of numbers.
    """
    if values is None or isinstance(values, str | bytes | Mapping):
        raise ValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    if isinstance(values, Iterator) or (
        isinstance(values, Iterable) and not hasattr(values, "__len__")
    ):
        values = list(values)
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional sequence of numbers")
    if raw.dtype.kind == "O":
        raw = np.array([number(f"{name}[{i}]", v) for i, v in enumerate(raw)], dtype=float)
    elif raw.dtype.kind not in "iuf":
        raise ValueError(f"{name} must contain numbers, got values of type {raw.dtype}")
    array = raw.astype(float)
    if array.size < min_size:
        if array.size == 0:
            raise ValueError(f"{name} must not be empty")
        raise ValueError(f"{name} must have at least {min_size} values, got {array.size}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name} must contain only finite numbers, got {array[i]} at position {i}")
    return array


def scale_scores(name: str, values: object, low: int, high: int) -> np.ndarray:
    """Survey answers: whole numbers on the scale ``low``..``high`` (NPS 0-10, CSAT 1-5)."""
    array = number_array(name, values)
    outside = np.flatnonzero((array < low) | (array > high))
    if outside.size:
        i = int(outside[0])
        raise ValueError(
            f"{name} must be between {low} and {high}, got {fmt(array[i])} at position {i}"
        )
    fractional = np.flatnonzero(array != np.round(array))
    if fractional.size:
        i = int(fractional[0])
        raise ValueError(f"{name} must be whole numbers, got {array[i]} at position {i}")
    return array
