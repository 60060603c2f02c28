"""Locale-aware formatting of numbers, money, percentages and dates (Babel, CLDR data).

Every figure a reader sees is formatted here, so a review's numbers follow its account's
locale and currency, and `None` (not enough data) always reads the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import babel
import babel.dates
import babel.numbers

log = logging.getLogger(__name__)

NOT_ENOUGH_DATA = "not enough data"


@lru_cache(maxsize=64)
def resolve_locale(tag: str) -> babel.Locale:
    """The Babel locale for a BCP 47 tag, falling back to its language, then English."""
    tag = (tag or "en").replace("_", "-")
    for candidate in (tag, tag.split("-")[0], "en"):
        try:
            return babel.Locale.parse(candidate, sep="-")
        except (ValueError, babel.UnknownLocaleError):
            continue
    raise AssertionError("English is always available")  # pragma: no cover


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


@dataclass(frozen=True)
class Formatter:
    """Formats figures for one account: its locale and its currency."""

    locale: str = "en-US"
    currency: str = "USD"
    missing: str = NOT_ENOUGH_DATA

    @property
    def babel_locale(self) -> babel.Locale:
        return resolve_locale(self.locale)

    def number(self, x: float | None, digits: int = 0) -> str:
        """A plain number with grouping, `digits` decimals."""
        if _missing(x):
            return self.missing
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return babel.numbers.format_decimal(x, format=pattern, locale=self.babel_locale)

    def money(self, x: float | None, *, digits: int = 0, currency: str | None = None) -> str:
        """An amount in the account's currency, e.g. $1,234 or 1 234 ₾ (whole units by default)."""
        if _missing(x):
            return self.missing
        pattern = self.babel_locale.currency_formats["standard"].pattern
        if digits == 0:
            # The locale's own currency pattern without its decimals: reviews show whole amounts.
            pattern = pattern.replace("0.00", "0")
        return babel.numbers.format_currency(
            round(float(x), digits), currency or self.currency, format=pattern,
            locale=self.babel_locale, currency_digits=digits == 2,
        )

    def money_compact(self, x: float | None, *, currency: str | None = None) -> str:
        """A short amount for chart axes and cards, e.g. $1.2M."""
        if _missing(x):
            return self.missing
        return babel.numbers.format_compact_currency(
            float(x), currency or self.currency, locale=self.babel_locale, fraction_digits=1
        )

    def pct(self, x: float | None, digits: int = 1) -> str:
        """A percentage given in percent (90.0 → 90.0 %), in the locale's percent pattern."""
        if _missing(x):
            return self.missing
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return babel.numbers.format_percent(float(x) / 100, format=pattern,
                                            locale=self.babel_locale)

    def signed(self, x: float | None, digits: int = 1, suffix: str = "") -> str:
        """A change with its sign: +4.2, −1.0 (suffix such as ' pp' appended)."""
        if _missing(x):
            return self.missing
        body = self.number(abs(float(x)), digits)
        sign = "+" if x > 0 else ("−" if x < 0 else "±")
        return f"{sign}{body}{suffix}"

    def multiple(self, x: float | None, digits: int = 1) -> str:
        """A ratio such as an ROI multiple: 2.5×."""
        if _missing(x):
            return self.missing
        return f"{self.number(x, digits)}×"

    def date(self, d: dt.date | None, format: str = "medium") -> str:
        """A date in the locale's medium format (e.g. Sep 30, 2026)."""
        if d is None:
            return self.missing
        return babel.dates.format_date(d, format=format, locale=self.babel_locale)

    def quarter(self, q: str) -> str:
        """'2026Q3' → '2026 Q3'."""
        return f"{q[:4]} Q{q[-1]}"
