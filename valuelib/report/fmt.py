"""Locale-aware formatting of numbers, money, percentages and dates (Babel, CLDR data).

Every figure a reader sees is formatted here, so a review's numbers follow its account's
locale and currency, and `None` (not enough data) always reads the same way, in the
document's language. A Formatter also carries that language's translator (`Formatter.tr`),
so the functions that word a review need only the formatter.
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

from valuelib.report import i18n
from valuelib.report.i18n import N_

log = logging.getLogger(__name__)

NOT_ENOUGH_DATA = N_("not enough data")
#: The minus sign every figure is written with (U+2212), never the hyphen.
MINUS = "\u2212"


@lru_cache(maxsize=64)
def resolve_locale(tag: str) -> babel.Locale:
    """The Babel locale for a BCP 47 tag: the tag, its language, then English (i18n.resolve)."""
    return i18n.resolve(tag).cldr


def is_missing(x: object) -> bool:
    """None or NaN: a figure there is none of (a pandas column turns None into NaN)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


class NotEnoughData(str):
    """The words a formatter writes where a figure is missing ("not enough data"): a string,
    marked so that a table shows it muted and aligned with the column's numbers."""

    __slots__ = ()


class Figure(str):
    """A figure as a formatter writes it (a number, an amount, a percent, a change): a
    string, marked so that a table right-aligns it whatever the locale's digits, symbols
    and words for thousands or millions."""

    __slots__ = ()


class Period(str):
    """A quarter, a month or a date as a formatter writes it: a string, marked so that a
    table keeps it on one line ("III კვ. 2025", not "III კვ." over "2025")."""

    __slots__ = ()


@dataclass(frozen=True)
class Formatter:
    """Formats figures for one account: its locale and its currency."""

    locale: str = "en-US"
    currency: str = "USD"
    missing: str | None = None  # None: "not enough data" in the locale's language

    def __post_init__(self) -> None:
        missing = self.tr.gettext(NOT_ENOUGH_DATA) if self.missing is None else self.missing
        object.__setattr__(self, "missing", NotEnoughData(missing))

    @property
    def tr(self) -> i18n.Translator:
        """The translator for this formatter's locale (the document's language)."""
        return i18n.translator(self.locale)

    @property
    def babel_locale(self) -> babel.Locale:
        return self.tr.locale

    def number(self, x: float | None, digits: int = 0) -> str:
        """A plain number with grouping, `digits` decimals."""
        if is_missing(x):
            return self.missing
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return Figure(babel.numbers.format_decimal(x, format=pattern, locale=self.babel_locale))

    def money(self, x: float | None, *, digits: int = 0, currency: str | None = None) -> str:
        """An amount in the account's currency, e.g. $1,234 or 1 234 ₾ (whole units by default)."""
        if is_missing(x):
            return self.missing
        pattern = self.babel_locale.currency_formats["standard"].pattern
        if digits == 0:
            # The locale's own currency pattern without its decimals: reviews show whole amounts.
            pattern = pattern.replace("0.00", "0")
        return Figure(babel.numbers.format_currency(
            round(float(x), digits), currency or self.currency, format=pattern,
            locale=self.babel_locale, currency_digits=digits == 2,
        ))

    def money_compact(self, x: float | None, *, currency: str | None = None) -> str:
        """A short amount for chart axes and cards, e.g. $1.2M."""
        if is_missing(x):
            return self.missing
        return Figure(babel.numbers.format_compact_currency(
            float(x), currency or self.currency, locale=self.babel_locale, fraction_digits=1
        ))

    def pct(self, x: float | None, digits: int = 1) -> str:
        """A percentage given in percent (90.0 → 90.0 %), in the locale's percent pattern."""
        if is_missing(x):
            return self.missing
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return Figure(babel.numbers.format_percent(float(x) / 100, format=pattern,
                                                   locale=self.babel_locale))

    def signed(self, x: float | None, digits: int = 1, suffix: str = "") -> str:
        """A change with its sign: +4.2, −1.0 (suffix such as '×' appended)."""
        if is_missing(x):
            return self.missing
        body = self.number(abs(float(x)), digits)
        return Figure(f"{_sign(x)}{body}{suffix}")

    def signed_pct(self, x: float | None, digits: int = 1) -> str:
        """A relative change in percent with its sign, in the locale's percent pattern: +4.2%."""
        if is_missing(x):
            return self.missing
        return Figure(f"{_sign(x)}{self.pct(abs(float(x)), digits)}")

    def signed_points(self, x: float | None, digits: int = 1, *, unit: str = "pp") -> str:
        """A change in percentage points (``pp``) or score points (``pts``): +4.2 pp."""
        if is_missing(x):
            return self.missing
        value = self.signed(x, digits)
        if unit == "pp":
            return Figure(self.tr.gettext("{value} pp").format(value=value))
        return Figure(self.tr.gettext("{value} pts").format(value=value))

    def compact(self, x: float | None) -> str:
        """A short number for chart axes and labels: 1.2K, 3.4M (CLDR compact decimal)."""
        if is_missing(x):
            return ""
        return Figure(babel.numbers.format_compact_decimal(float(x), locale=self.babel_locale,
                                                           fraction_digits=1))

    def axis_pct(self, x: float | None) -> str:
        """A chart's percent (values on 0–100): 42%, 4.5%, in the locale's pattern."""
        if is_missing(x):
            return ""
        v = float(x)
        return self.pct(v, 1 if abs(v) < 10 and round(v) != v else 0)

    def axis_number(self, x: float | None) -> str:
        """A chart's plain number: up to one decimal, grouped as the locale groups."""
        if is_missing(x):
            return ""
        v = float(x)
        return self.number(v, 0 if round(v) == v else 1)

    def multiple(self, x: float | None, digits: int = 1) -> str:
        """A ratio such as an ROI multiple: 2.5×."""
        if is_missing(x):
            return self.missing
        return Figure(f"{self.number(x, digits)}×")

    def with_unit(self, text: str) -> Figure:
        """A figure its translation writes with a unit ("140.4 h", "maola 140.4", "3.9
        months"), as one figure: its spaces do not break, so the number keeps its unit."""
        return Figure(text.replace(" ", "\u00a0"))

    def months(self, n: float | None) -> str:
        """A whole number of months, with the language's plural: 1 month, 66 months."""
        if is_missing(n):
            return self.missing
        count = int(round(float(n)))
        return self.tr.ngettext("{count} month", "{count} months", count).format(
            count=self.number(count))

    def date(self, d: dt.date | None, format: str = "medium") -> str:
        """A date in the locale's medium format (e.g. Sep 30, 2026)."""
        if d is None:
            return self.missing
        return Period(babel.dates.format_date(d, format=format, locale=self.babel_locale))

    def month_year(self, d: dt.date) -> str:
        """A month for chart axes, as the locale abbreviates it (Sep 2026, სექ. 2026)."""
        return Period(babel.dates.format_skeleton("yMMM", d, locale=self.babel_locale))

    def quarter(self, q: str) -> str:
        """'2026Q3' → '2026 Q3' in English; the locale's quarter name and word order otherwise."""
        name = self.babel_locale.quarters["format"]["abbreviated"][int(q[-1])]
        return Period(self.tr.gettext("{year} {quarter}").format(year=q[:4], quarter=name))


def _sign(x: float) -> str:
    return "+" if x > 0 else (MINUS if x < 0 else "\u00b1")


# Locale-free numbers: the charts' defaults when a caller passes no locale-aware `fmt=`.


def is_finite(x: object) -> bool:
    """Whether `x` is a number that can be drawn or written (not None, NaN, inf or text)."""
    try:
        return x is not None and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def trim_zeros(s: str) -> str:
    """A decimal without trailing zeros (and without a trailing point): 4.50 → 4.5, 3.0 → 3."""
    return s.rstrip("0").rstrip(".") if "." in s else s


def compact_number(x: float) -> str:
    """A short number for axes and labels: 950, 1.2k, 34k, 3.4M, 1.1B (empty if missing)."""
    if not is_finite(x):
        return ""
    v = float(x)
    a = abs(v)
    sign = MINUS if v < 0 and a >= 0.005 else ""
    units = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
    for i, (div, suffix) in enumerate(units):
        if a >= div * 0.9995:
            scaled = a / div
            digits = 0 if scaled >= 100 else 1
            text = trim_zeros(f"{scaled:.{digits}f}")
            if float(text) >= 1000 and i > 0:  # 999.96k rounds up to the next unit
                div, suffix = units[i - 1]
                text = trim_zeros(f"{a / div:.1f}")
            return f"{sign}{text}{suffix}"
    digits = 0 if a >= 100 else (1 if a >= 10 else 2)
    text = trim_zeros(f"{a:.{digits}f}")
    return "0" if text == "0" else f"{sign}{text}"


def percent(x: float) -> str:
    """A percent for values already on a 0–100 scale: 42%, 4.5% (empty if missing)."""
    if not is_finite(x):
        return ""
    v = float(x)
    text = trim_zeros(f"{abs(v):.1f}") if abs(v) < 10 and round(v) != v else f"{abs(v):.0f}"
    return f"{MINUS if v < 0 and text != '0' else ''}{text}%"


def plain_number(x: float) -> str:
    """Up to one decimal, no trailing zeros: 42, 4.3, −12 (empty if missing)."""
    if not is_finite(x):
        return ""
    v = float(x)
    text = trim_zeros(f"{abs(v):.1f}")
    return f"{MINUS if v < 0 and text != '0' else ''}{text}"
