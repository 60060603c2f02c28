"""The data contract as data: every table the warehouse may have, its columns and their types.

Only `REQUIRED_TABLES` (accounts and arr_history) must exist; the others may be absent or empty.

docs/architecture.md#data-contract describes it; `contract.py` checks a warehouse against this,
`warehouse.py` uses the types when it writes, `extract.py` when it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Account ids are 1-64 of A-Za-z0-9_- so that they are safe as file names and in URLs.
ACCOUNT_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
#: The portfolio review's id among the accounts' in manifests and tasks: no account may have it.
PORTFOLIO_ID = "portfolio"

#: Logical column types. `warehouse.py` maps them to DuckDB / SQLAlchemy types.
TEXT, DATE, TIMESTAMP, FLOAT, INT, BOOL = "text", "date", "timestamp", "float", "int", "bool"


@dataclass(frozen=True)
class Column:
    """One contract column: its logical type, whether it may be null, and allowed values."""

    name: str
    type: str
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    """One contract table. `key` is the column set that must be unique; a table that is not
    `required` may be absent or empty (the parts of a review that need it are left out)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)
    required: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "accounts",
            (
                C("account_id", TEXT),
                C("name", TEXT),
                C("segment", TEXT),
                C("industry", TEXT),
                C("region", TEXT),
                C("csm", TEXT),
                C("currency", TEXT),
                C("locale", TEXT),
                C("start_date", DATE),
                C("renewal_date", DATE),
                C("churn_date", DATE, nullable=True),
            ),
            key=("account_id",),
            required=True,
        ),
        Table(
            "arr_history",
            (C("account_id", TEXT), C("month", DATE), C("arr", FLOAT, min=0)),
            key=("account_id", "month"),
            required=True,
        ),
        Table(
            "value_drivers",
            (
                C("account_id", TEXT),
                C("driver_id", TEXT),
                C("name", TEXT),
                C("unit", TEXT),
                C("direction", TEXT, choices=("higher_is_better", "lower_is_better")),
                C("unit_value", FLOAT, min=0),
                C("baseline", FLOAT),
                C("target", FLOAT),
                C("baseline_date", DATE),
                C("baseline_version", INT, min=1),
                C("source", TEXT, choices=("business_case", "rebaseline")),
                C("confidence", TEXT, choices=("measured", "estimated", "customer_confirmed")),
            ),
            key=("account_id", "driver_id", "baseline_version"),
        ),
        Table(
            "value_measurements",
            (
                C("account_id", TEXT),
                C("driver_id", TEXT),
                C("period_end", DATE),
                C("value", FLOAT),
                C("confidence", TEXT, choices=("measured", "estimated", "customer_confirmed")),
            ),
            key=("account_id", "driver_id", "period_end"),
        ),
        Table(
            "usage",
            (
                C("account_id", TEXT),
                C("date", DATE),
                C("active_users", INT, min=0),
                C("licensed_seats", INT, min=0),
                C("feature", TEXT),
                C("events", INT, min=0),
            ),
            key=("account_id", "date", "feature"),
        ),
        Table(
            "nps_responses",
            (
                C("account_id", TEXT),
                C("responded_at", DATE),
                C("score", INT, min=0, max=10),
                C("comment", TEXT, nullable=True),
            ),
        ),
        Table(
            "support_tickets",
            (
                C("account_id", TEXT),
                C("opened_at", TIMESTAMP),
                C("resolved_at", TIMESTAMP, nullable=True),
                C("severity", TEXT, choices=("low", "medium", "high", "critical")),
                C("csat", INT, nullable=True, min=1, max=5),
            ),
        ),
        Table(
            "online_reviews",
            (
                C("account_id", TEXT),
                C("posted_at", DATE),
                C("rating", INT, min=1, max=5),
                C("sentiment", TEXT, choices=("positive", "negative")),
                C("resolved", BOOL),
            ),
        ),
        Table(
            "success_plan",
            (
                C("account_id", TEXT),
                C("quarter", TEXT),
                C("goal", TEXT),
                C("owner", TEXT),
                C("due_date", DATE),
                C("status", TEXT, choices=("completed", "in_progress", "overdue", "not_available")),
                C("internal_note", TEXT, nullable=True),
            ),
        ),
    )
}

#: The tables every warehouse must have; any other table may be absent or empty.
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)

#: Columns that hold internal-only content: never in a customer document.
INTERNAL_COLUMNS: dict[str, tuple[str, ...]] = {"success_plan": ("internal_note",)}


def known_currency(code: object) -> bool:
    """Whether `code` is an ISO 4217 currency code (in capitals) that Babel knows."""
    from babel.numbers import list_currencies

    return isinstance(code, str) and code in list_currencies()


def known_locale(tag: object) -> bool:
    """Whether `tag` is a BCP 47 tag (``en-GB``) that Babel can parse."""
    from babel import Locale

    if not isinstance(tag, str):
        return False
    try:
        Locale.parse(tag, sep="-")
    except Exception:  # noqa: BLE001 - babel raises ValueError, TypeError or UnknownLocaleError
        return False
    return True
