"""Which parts of a review the warehouse's data can fill, and the tables each is built from.

The extract decides once which tables the warehouse provided (present, with rows: a bundle's
``provided``). A part whose tables were not all provided is left out of every document, for
every account and in the portfolio review; an account that lacks rows which other accounts
have still reads "not enough data" in that part.
"""

from __future__ import annotations

from collections.abc import Iterable

from valuelib.data import schema

#: Each part of a review and the tables it needs.
PART_SOURCES: dict[str, tuple[str, ...]] = {
    "value": ("value_drivers", "value_measurements"),
    "adoption": ("usage",),
    "nps": ("nps_responses",),
    "support": ("support_tickets",),
    "reviews": ("online_reviews",),
    "plan": ("success_plan",),
}
#: Parts made of other parts, shown when any of them is. The health score's components are
#: the parts of the same names.
COMPOSITE_PARTS: dict[str, tuple[str, ...]] = {
    "voice": ("nps", "support", "reviews"),
    "health": ("adoption", "value", "nps", "support"),
}


def shows(provided: Iterable[str], part: str) -> bool:
    """Whether `part` can appear given the provided tables."""
    have = set(provided)
    if part in COMPOSITE_PARTS:
        return any(shows(have, p) for p in COMPOSITE_PARTS[part])
    if part not in PART_SOURCES:
        raise KeyError(f"unknown part of a review: {part!r}")
    return all(t in have for t in PART_SOURCES[part])


def not_provided(provided: Iterable[str]) -> list[str]:
    """The contract tables that were not provided, in contract order."""
    have = set(provided)
    return [name for name in schema.TABLES if name not in have]
