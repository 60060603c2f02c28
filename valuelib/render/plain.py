"""Plain data: what a notebook parameter may be (text, numbers, true/false, null, and lists and
text-keyed mappings of those), defined once for the parameter files that are read
(`valuelib.batch.params`) and for the parameters cell that is written (`valuelib.render.inject`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The deepest nesting and the most items a parameter value may have (a YAML alias can make a
#: small file expand into a huge or self-referencing value).
MAX_DEPTH = 20
MAX_ITEMS = 10_000

Where = tuple[str | int, ...]  # where in a value: mapping keys and list indices


@dataclass(frozen=True)
class Refused:
    """What a YAML node with a refused tag (set, binary, date, Python object...) loads as."""

    tag: str
    line: int

    def reason(self) -> str:
        """Why this value is not a parameter, for the error message."""
        if self.tag == "tag:yaml.org,2002:timestamp":
            return ("an unquoted date or time is not allowed; quote it to make it text "
                    "(e.g. '2026-09-30')")
        tag = self.tag.replace("tag:yaml.org,2002:", "!!")
        return (f"YAML tag {tag} is not allowed: parameters are plain data (text, numbers, "
                "true/false, null, lists and mappings)")


def plain_problem(value: Any) -> tuple[Where, str] | None:
    """Where and why `value` is not plain data (str, int, float, bool, None, lists and
    str-keyed dicts of those, finite, valid Unicode, bounded), or None if it is."""
    budget = [MAX_ITEMS]

    def walk(v: Any, at: Where) -> tuple[Where, str] | None:
        budget[0] -= 1
        if budget[0] < 0:
            return at, f"more than {MAX_ITEMS} items"
        if len(at) > MAX_DEPTH:
            return at, f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(v, Refused):
            return at, v.reason()
        if v is None or isinstance(v, bool | int):
            return None
        if isinstance(v, float):
            return None if math.isfinite(v) else (at, f"{v!r} is not a finite number")
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return at, "text that is not valid Unicode"
            return None
        if isinstance(v, list):
            for i, item in enumerate(v):
                if found := walk(item, (*at, i)):
                    return found
            return None
        if isinstance(v, dict):
            for key, item in v.items():
                if isinstance(key, Refused):
                    return at, key.reason()
                if not isinstance(key, str):
                    return at, f"mapping key {key!r} is not text"
                if found := walk(key, (*at, key)) or walk(item, (*at, key)):
                    return found
            return None
        return at, (f"a {type(v).__name__} is not plain data (text, numbers, true/false, "
                    "null, lists and mappings)")

    return walk(value, ())
