"""Turn rows of an export into rows of a contract table, rejecting (never dropping) bad rows.

Every row either comes out converted or is rejected with each reason found: a bad date,
number or boolean, a missing value, an unknown or malformed account id, a duplicate key, a
value outside the contract's choices, a negative amount, a value out of range, dates in the
wrong order. Nothing is dropped or invented silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from valuelib.data import schema
from valuelib.data.ingest.mapping import EPOCH_FORMATS, ColumnSpec, TableSpec, target_table
from valuelib.data.ingest.sources import FILE, LINE, SourceError

__all__ = ["AccountIndex", "Problem", "Rejected", "convert"]

#: Columns whose negative values are money: "negative amount" rather than "negative value".
MONEY = ("arr", "amount", "unit_value")
_TRUE = ("true", "yes", "y", "t", "1")
_FALSE = ("false", "no", "n", "f", "0")


@dataclass(frozen=True)
class Problem:
    """One reason a row is rejected: a code (bad_date, unknown_account, duplicate_key,
    not_a_choice, negative_amount, ...), the column and value concerned, and the message."""

    code: str
    message: str
    column: str | None = None
    value: Any = None


@dataclass
class Rejected:
    """A rejected row: where it came from, its account when known, and every problem."""

    table: str
    file: str
    line: int
    account: str | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """Every problem's message, in one line."""
        return "; ".join(p.message for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        """The row as the load report lists it."""
        return {
            "table": self.table, "file": self.file, "line": self.line, "account": self.account,
            "reason": self.reason,
            "problems": [{"code": p.code, "column": p.column, "value": _jsonable(p.value),
                          "message": p.message} for p in self.problems],
        }


@dataclass
class AccountIndex:
    """The accounts other tables may name: their ids and any kept column to match on."""

    ids: set[str]
    by: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Ids whose accounts row this import rejected (named in the message of their rows).
    rejected: set[str] = field(default_factory=set)

    def resolve(self, value: str, match: str | None) -> str | None:
        """The account id that `value` names (through the kept column `match`), or None."""
        if match is None:
            return value if value in self.ids else None
        return self.by.get(match, {}).get(value)


_FAILED = object()  # a value that did not parse (its problem is recorded already)


def convert(df: pd.DataFrame, spec: TableSpec, accounts: AccountIndex | None,
            line_of: Callable[[str, int], int] | None = None
            ) -> tuple[pd.DataFrame, list[Rejected]]:
    """Convert one table's rows (all its files, with FILE and LINE columns); return the
    accepted rows (target columns, kept columns, FILE, LINE) and the rejected ones.

    `line_of(file, record)` turns a record number into the file's line for messages (CSV
    records may span lines); it is only called for rows that are rejected or named."""
    line_of = line_of or (lambda _file, record: record)
    target = target_table(spec)
    n = len(df)
    problems: list[list[Problem]] = [[] for _ in range(n)]
    out: dict[str, list[Any]] = {}
    ids = _account_ids(df, spec, accounts, problems)
    out["account_id"] = ids
    for col in target.columns:
        if col.name == "account_id":
            continue
        cspec = spec.columns.get(col.name)
        if cspec is None:
            out[col.name] = [None] * n
            continue
        out[col.name] = _column(df, spec, col, cspec, problems)
    for name, src in spec.keep.items():
        out[name] = [None if v is None else _text(v).strip() or None
                     for v in _source(df, spec, f"keep.{name}", src)]
    for col in target.columns:
        if col.name == "account_id":
            continue
        values = out[col.name]
        for i, v in enumerate(values):
            if v is _FAILED:
                values[i] = None
                continue
            for p in _constraints(col, v, spec):
                problems[i].append(p)
    _relations(spec, out, problems)
    _duplicates(spec, target, out, df, problems, line_of)
    bad = [i for i in range(n) if problems[i]]
    rejected = [Rejected(spec.name, str(df[FILE].iat[i]),
                         line_of(str(df[FILE].iat[i]), int(df[LINE].iat[i])),
                         ids[i] if ids[i] is not None else _raw_account(df, spec, i),
                         problems[i]) for i in bad]
    keep = [i for i in range(n) if not problems[i]]
    accepted = pd.DataFrame({k: [v[i] for i in keep] for k, v in out.items()})
    accepted[FILE] = [df[FILE].iat[i] for i in keep]
    accepted[LINE] = [df[LINE].iat[i] for i in keep]
    return accepted, rejected


# -- reading source values -------------------------------------------------------------------


def _source(df: pd.DataFrame, spec: TableSpec, key: str, name: str) -> list[Any]:
    """A source column's values; `a.b` reads field b of a nested object a (JSON)."""
    if name in df.columns:
        return df[name].tolist()
    head, _, rest = name.partition(".")
    if rest and head in df.columns:
        values = []
        for v in df[head].tolist():
            for part in rest.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            values.append(v)
        return values
    shown = ", ".join(repr(c) for c in df.columns if c not in (FILE, LINE))
    files = ", ".join(dict.fromkeys(df[FILE].tolist())) if len(df) else "the file"
    raise SourceError(f"tables.{spec.name}.{key}: no column {name!r} in {files} "
                      f"(its columns: {shown})")


def _raw_account(df: pd.DataFrame, spec: TableSpec, i: int) -> str | None:
    if spec.account not in df.columns:
        return None
    v = df[spec.account].iat[i]
    return None if v is None else _text(v).strip() or None


def _account_ids(df: pd.DataFrame, spec: TableSpec, accounts: AccountIndex | None,
                 problems: list[list[Problem]]) -> list[str | None]:
    raw = _source(df, spec, "account", spec.account) if len(df) else []
    ids: list[str | None] = []
    for i, v in enumerate(raw):
        text = None if v is None else _text(v).strip() or None
        if text is None:
            problems[i].append(Problem("missing_account", f"missing account id in "
                                       f"{spec.account!r}", spec.account))
            ids.append(None)
        elif spec.name == "accounts":
            if not schema.ACCOUNT_ID_RE.fullmatch(text):
                problems[i].append(Problem(
                    "bad_account_id", f"account id {text!r} is not 1-64 of A-Z a-z 0-9 _ -",
                    "account_id", text))
            ids.append(text)
        else:
            found = accounts.resolve(text, spec.match) if accounts is not None else None
            if found is None:
                where = f"accounts.{spec.match}" if spec.match else "accounts.account_id"
                why = ("its row in accounts was rejected"
                       if accounts is not None and spec.match is None and text in accounts.rejected
                       else f"not in {where}")
                problems[i].append(Problem("unknown_account", f"unknown account {text!r} "
                                           f"({why})", spec.account, text))
            ids.append(found)
    return ids


def _column(df: pd.DataFrame, spec: TableSpec, col: schema.Column, cspec: ColumnSpec,
            problems: list[list[Problem]]) -> list[Any]:
    n = len(df)
    key = f"columns.{col.name}"
    raw = [cspec.value] * n if cspec.constant else _source(df, spec, f"{key}.from", cspec.source)
    if cspec.only_if:
        conditions = [(_source(df, spec, f"{key}.only_if", c), set(vs))
                      for c, vs in cspec.only_if.items()]
        raw = [v if all(cv[i] is not None and _text(cv[i]).strip() in vs
                        for cv, vs in conditions) else None
               for i, v in enumerate(raw)]
    if cspec.default is not None:
        raw = [cspec.default if _missing(v) else v for v in raw]
    if cspec.map:
        raw = [cspec.map.get(_text(v), v) if not _missing(v) else v for v in raw]
    parse = _parser(col, cspec)
    cache: dict[Any, tuple[Any, str | None]] = {}
    values = []
    for i, v in enumerate(raw):
        if _missing(v):
            values.append(None)
            continue
        hit = cache.get(_key(v))
        if hit is None:
            hit = parse(v)
            cache[_key(v)] = hit
        value, error = hit
        if error is not None:
            code, detail = error
            problems[i].append(Problem(code, f"{code.replace('_', ' ')} in {col.name}: "
                                       f"{detail}", col.name, v))
            value = _FAILED
        values.append(value)
    return values


def _key(v: Any) -> Any:
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return (type(v).__name__, v)


def _missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


# -- parsing values --------------------------------------------------------------------------


_Parsed = tuple[Any, tuple[str, str] | None]


def _parser(col: schema.Column, cspec: ColumnSpec) -> Callable[[Any], _Parsed]:
    """A function value -> (parsed, None) or (None, (code, detail))."""
    if col.type in (schema.DATE, schema.TIMESTAMP):
        return lambda v: _date(v, cspec.format, col.type == schema.TIMESTAMP)
    if col.type in (schema.FLOAT, schema.INT):
        return lambda v: _number(v, cspec.scale, col.type == schema.INT)
    if col.type == schema.BOOL:
        return _bool
    if col.name == "currency":
        return lambda v: (_text(v).strip().upper(), None)
    if col.choices:
        return lambda v: (_text(v).strip(), None)
    return lambda v: (_text(v), None)


def _date(v: Any, fmt: str | None, with_time: bool) -> _Parsed:
    expected = f"expected {fmt}" if fmt else "expected an ISO date like 2026-07-01; set format:"
    bad = (None, ("bad_date", f"{_show(v)} ({expected})"))
    try:
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
        if isinstance(v, datetime):
            d = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
        elif isinstance(v, date):
            d = datetime(v.year, v.month, v.day)
        elif fmt in EPOCH_FORMATS:
            if isinstance(v, bool):
                return bad
            seconds = float(v) / (1000 if fmt == "unix_ms" else 1)
            d = datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)
        elif isinstance(v, str):
            s = v.strip()
            if fmt is None or fmt.lower() == "iso":
                d = datetime.fromisoformat(s)
                d = d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo else d
            else:
                d = datetime.strptime(s, fmt)
        else:
            return bad
    except (ValueError, TypeError, OverflowError, OSError):
        return bad
    return (d if with_time else d.date()), None


def _number(v: Any, scale: float | None, whole: bool) -> _Parsed:
    try:
        if isinstance(v, bool):
            raise ValueError
        x = float(v.strip().replace("\u00a0", "").replace(" ", "")) if isinstance(v, str) \
            else float(v)
    except (TypeError, ValueError):
        return None, ("bad_number", _show(v))
    if not math.isfinite(x):
        return None, ("bad_number", f"{_show(v)} (not finite)")
    if scale is not None:
        x = round(x * scale, 10)
    if whole:
        if not x.is_integer():
            return None, ("not_whole", f"{_show(v)} is not a whole number")
        return int(x), None
    return x, None


def _bool(v: Any) -> _Parsed:
    if isinstance(v, bool):
        return v, None
    s = _text(v).strip().lower()
    if s in _TRUE:
        return True, None
    if s in _FALSE:
        return False, None
    return None, ("bad_boolean", f"{_show(v)} (true/false, yes/no, 1/0; or map it with map:)")


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, str) else _text(v)


# -- contract rules --------------------------------------------------------------------------


def _constraints(col: schema.Column, v: Any, spec: TableSpec) -> list[Problem]:
    name = col.name
    if v is None:
        if col.nullable or (spec.derive and name in ("interval_count", "quantity", "period_start",
                                                     "period_end", "interval")):
            return []
        return [Problem("missing_value", f"missing value in {name}", name)]
    out = []
    if col.choices and v not in col.choices:
        out.append(Problem("not_a_choice", f"value outside the contract's choices in {name}: "
                           f"{_show(v)} (choose {'/'.join(col.choices)}, or map it with map:)",
                           name, v))
    if isinstance(v, int | float) and not isinstance(v, bool):
        if col.min is not None and v < col.min:
            if col.min == 0:
                what = "amount" if name in MONEY else "value"
                out.append(Problem(f"negative_{what}", f"negative {what} in {name}: "
                                   f"{_text(v)}", name, v))
            else:
                out.append(Problem("out_of_range", f"{name} {_text(v)} is below "
                                   f"{_text(col.min)}", name, v))
        if col.max is not None and v > col.max:
            out.append(Problem("out_of_range", f"{name} {_text(v)} is above {_text(col.max)}",
                               name, v))
    if spec.name == "accounts" and not spec.derive:
        if name == "currency" and not schema.known_currency(v):
            out.append(Problem("bad_currency", f"currency {_show(v)} is not an ISO 4217 code "
                               "(e.g. USD, EUR)", name, v))
        if name == "locale" and not schema.known_locale(v):
            out.append(Problem("bad_locale", f"locale {_show(v)} is not a BCP 47 tag (e.g. "
                               "en-US, ka-GE)", name, v))
    if spec.name == "arr_history" and not spec.derive and name == "month" and v.day != 1:
        out.append(Problem("not_month_start", f"month {v.isoformat()} is not the first day of "
                           "a month", name, v))
    return out


#: Pairs (later, earlier) that must not be in the wrong order, per table.
_ORDER = {
    "accounts": (("churn_date", "start_date"), ("renewal_date", "start_date")),
    "support_tickets": (("resolved_at", "opened_at"),),
    "subscription lines": (("end", "start"),),
    "invoice lines": (("period_end", "period_start"),),
}


def _relations(spec: TableSpec, out: dict[str, list[Any]], problems: list[list[Problem]]) -> None:
    target = target_table(spec)
    if spec.derive == "invoices":
        _invoice_periods(spec, out, problems)
    for later, earlier in _ORDER.get(target.name, ()):
        strict = target.name in ("subscription lines", "invoice lines")
        for i, (a, b) in enumerate(zip(out[later], out[earlier], strict=True)):
            if a is None or b is None:
                continue
            if a < b or (strict and a == b):
                problems[i].append(Problem("date_order", f"{later} {_text(a)} is "
                                           f"{'not after' if strict else 'before'} {earlier} "
                                           f"{_text(b)}", later, a))


def _invoice_periods(spec: TableSpec, out: dict[str, list[Any]],
                     problems: list[list[Problem]]) -> None:
    """Period start defaults to the invoice date; an inclusive period end moves to the next
    day; a missing end is start + interval. A line with neither is rejected."""
    from valuelib.data.ingest.arr import INTERVAL_MONTHS

    for i in range(len(out["date"])):
        start = out["period_start"][i] or out["date"][i]
        out["period_start"][i] = start
        end = out["period_end"][i]
        if end is not None and spec.period_end_inclusive:
            end = end + pd.Timedelta(days=1)
            end = end.date() if isinstance(end, datetime) else end
        if end is None and start is not None and out["interval"][i] in INTERVAL_MONTHS:
            months = INTERVAL_MONTHS[out["interval"][i]]
            if months >= 1:
                end = (pd.Timestamp(start) + pd.DateOffset(months=int(months))).date()
            else:
                end = (pd.Timestamp(start) + pd.Timedelta(days=round(months * 365 / 12))).date()
        if end is None and start is not None and not problems[i]:
            problems[i].append(Problem("missing_value", "missing value in period_end (map "
                                       "period_end or interval)", "period_end"))
        out["period_end"][i] = end


def _duplicates(spec: TableSpec, target: schema.Table, out: dict[str, list[Any]],
                df: pd.DataFrame, problems: list[list[Problem]],
                line_of: Callable[[str, int], int]) -> None:
    """Rows that repeat the table's key: the first (in file and line order) stays, every
    later one is rejected, naming the first."""
    if spec.derive or not target.key:
        return
    first: dict[tuple, int] = {}
    for i in range(len(df)):
        key = tuple(out[k][i] for k in target.key)
        if any(k is None for k in key):
            continue
        if key in first:
            j = first[key]
            shown = ", ".join(f"{k}={_text(v)}" for k, v in zip(target.key, key, strict=True))
            line = line_of(str(df[FILE].iat[j]), int(df[LINE].iat[j]))
            where = (f"line {line}" if df[FILE].iat[j] == df[FILE].iat[i]
                     else f"{df[FILE].iat[j]} line {line}")
            problems[i].append(Problem("duplicate_key", f"duplicate key ({shown}): also on "
                                       f"{where}", target.key[0], key[0]))
        elif not problems[i]:
            first[key] = i


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, str | int | bool):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    return _text(v)
