"""Check a warehouse against the data contract (`schema.TABLES`) and report every problem at once.

Each `Problem` names the table, the column and (example) accounts, and says how to fix it, so
one run of `valuereview check-data` lists everything to correct. Row-level checks run in SQL
through `Warehouse.query` (one aggregate scan per table, then up to 5 example accounts per
problem), so a warehouse of thousands of accounts is checked in seconds. The SQL is standard
and runs on DuckDB and PostgreSQL; where the two differ (parsing text as numbers or dates) it
asks `valuelib.data.sql` for the dialect's form (`wh.kind`). Every statement is built there:
identifiers come only from `schema.py` and are quoted; values are bound.

Only `schema.REQUIRED_TABLES` must exist; another table may be absent or empty (not provided),
but a table that exists must have the contract's columns and values. `coverage` counts what
each table holds.

Accepted storage: numbers in any integer or decimal column (whole-number columns may also be
decimal if every value is whole), dates and timestamps in date or timestamp columns, or as
ISO 8601 text that parses; booleans as BOOLEAN or 0/1 integers. Anything else is a problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from valuelib.data import schema, sql
from valuelib.data.warehouse import Warehouse

MAX_EXAMPLES = 5
_SEE = "see docs/architecture.md#data-contract"

# Storage families of database column types.
_TEXT, _INT, _FLOAT, _DATE, _TS, _BOOL, _OTHER = (
    "text", "integer", "decimal", "date", "timestamp", "boolean", "other"
)
_LOGICAL_DESC = {
    schema.TEXT: "text",
    schema.FLOAT: "a number",
    schema.INT: "a whole number",
    schema.DATE: "a date",
    schema.TIMESTAMP: "a timestamp",
    schema.BOOL: "a boolean",
}
_SQL_TYPE = {
    schema.TEXT: "TEXT",
    schema.FLOAT: "DOUBLE PRECISION",
    schema.INT: "BIGINT",
    schema.DATE: "DATE",
    schema.TIMESTAMP: "TIMESTAMP",
    schema.BOOL: "BOOLEAN",
}
# Storage families that can hold each logical type directly (text is handled separately).
_DIRECT = {
    schema.TEXT: {_TEXT},
    schema.FLOAT: {_INT, _FLOAT},
    schema.INT: {_INT, _FLOAT},
    schema.DATE: {_DATE, _TS},
    schema.TIMESTAMP: {_DATE, _TS},
    schema.BOOL: {_BOOL, _INT},
}
#: Names of the bound regular expressions PostgreSQL checks text against (it has no TRY_CAST).
_NUM_P, _DATE_P = "vr_num_re", "vr_date_re"
_NUM_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
# PostgreSQL 15 has no TRY_CAST: a date must look like YYYY-MM-DD with a day its month can
# have (29 February is accepted in any year), optionally followed by a time.
_DATE_RE = (
    r"^\s*[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9])|(0[13-9]|1[0-2])-30"
    r"|(0[13578]|1[02])-31)([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?\s*$"
)


@dataclass(frozen=True)
class Problem:
    """One way the warehouse breaks the contract, and how to fix it.

    `account_id` is set when the problem concerns exactly one account; `accounts` holds up to
    5 example account ids whenever the problem is about rows.
    """

    table: str
    column: str | None
    account_id: str | None
    message: str
    fix: str
    accounts: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.message}" + (f"; fix: {self.fix}" if self.fix else "")


class ContractError(Exception):
    """The warehouse does not meet the data contract; `.problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"the warehouse does not meet the data contract ({n} problem{'s' * (n != 1)}):\n"
            f"{lines}"
        )

    def __reduce__(self) -> tuple[type[ContractError], tuple[list[Problem]]]:
        # Rebuild from the problems (not the message) when it crosses a process boundary.
        return (type(self), (self.problems,))


def require(wh: Warehouse) -> None:
    """Raise `ContractError` listing every problem if the warehouse breaks the contract."""
    problems = check(wh)
    if problems:
        raise ContractError(problems)


def check(wh: Warehouse) -> list[Problem]:
    """Every way `wh` breaks the data contract (an empty list when it meets it)."""
    return _Checker(wh).run()


# -- helpers -------------------------------------------------------------------------------


def _family(db_type: str) -> str:
    """The storage family of a database type name as DuckDB or SQLAlchemy spell it."""
    t = db_type.upper().strip()
    if t.startswith(("TIMESTAMP", "DATETIME")):
        return _TS
    if t == "DATE":
        return _DATE
    if t.startswith(("VARCHAR", "TEXT", "CHAR", "STRING", "BPCHAR", "NVARCHAR", "NCHAR",
                     "CITEXT", "ENUM", "CLOB")):
        return _TEXT
    if t.startswith(("BOOL",)):
        return _BOOL
    if t.startswith(("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT",
                     "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "SERIAL", "BIGSERIAL",
                     "SMALLSERIAL")):
        return _INT
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")):
        return _FLOAT
    return _OTHER


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _int(v: Any) -> int:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return 0
    return int(v)


def _show_id(account_id: str) -> str:
    return account_id if schema.ACCOUNT_ID_RE.fullmatch(account_id) else repr(account_id)


def _rows(n: int, singular: str, plural: str) -> str:
    return f"{n} row {singular}" if n == 1 else f"{n} rows {plural}"


def _accounts_note(examples: list[str], total: int) -> str:
    if not examples:
        return ""
    shown = ", ".join(_show_id(a) for a in examples)
    more = f" and {total - len(examples)} more" if total > len(examples) else ""
    return f" ({'account' if total == 1 else 'accounts'} {shown}{more})"


def _fmt(v: Any) -> str:
    """A value from a query, as a person would write it in a message."""
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat() if v == v.normalize() else v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _describe(col: schema.Column) -> str:
    bits = [col.type]
    if col.choices:
        bits.append("one of " + "/".join(col.choices))
    if col.min is not None and col.max is not None:
        bits.append(f"{_num(col.min)}-{_num(col.max)}")
    elif col.min is not None:
        bits.append(f">= {_num(col.min)}")
    if col.nullable:
        bits.append("nullable")
    return f"{col.name} ({', '.join(bits)})"


@dataclass
class _Cond:
    """A row-level check: `sql` is true for a bad row."""

    column: str | None
    sql: str
    singular: str
    plural: str
    fix: str
    params: dict[str, Any] = field(default_factory=dict)
    values_sql: str | None = None  # show a few distinct values of this expression
    quote_values: bool = False


@dataclass
class _Col:
    spec: schema.Column
    family: str
    db_type: str


class _Checker:
    """One contract check of one warehouse."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.duck = wh.kind == "duckdb"
        self.problems: list[Problem] = []
        self.cols: dict[str, dict[str, _Col]] = {}
        self.rows: dict[str, int] = {}

    # -- driver --------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        present = set(self.wh.tables())
        for name, table in schema.TABLES.items():
            if name not in present:
                if table.required:
                    self._missing_table(name, table, present)
                continue
            self._columns(name, table)
            self._guarded(name, self._rows_checks, name, table)
            self._guarded(name, self._key, name, table)
            if name == "accounts":
                self._guarded(name, self._accounts, table)
        self._guarded("value_measurements", self._unknown_drivers)
        self._guarded("value_measurements", self._measurements_without_drivers, present)
        self._orphans()
        return self.problems

    def _guarded(self, table: str, fn: Callable[..., None], *args: Any) -> None:
        """Run one check; if the database refuses it, report that and go on with the rest."""
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - one failed check must not hide the others
            self._add(table, None, f"could not be checked ({type(exc).__name__}: {exc})",
                      f"make its columns' types match the contract; {_SEE}")

    def _add(self, table: str, column: str | None, message: str, fix: str,
             examples: list[str] | None = None, n_accounts: int = 0) -> None:
        examples = examples or []
        account = examples[0] if n_accounts == 1 and examples else None
        self.problems.append(Problem(table, column, account, message, fix, tuple(examples)))

    def _query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return self.wh.query(sql, params or {})

    # -- structure -----------------------------------------------------------------------

    def _missing_table(self, name: str, table: schema.Table, present: set[str]) -> None:
        similar = [t for t in present if t.lower() == name.lower()]
        hint = f" (there is `{similar[0]}`: names are case-sensitive)" if similar else ""
        cols = ", ".join(_describe(c) for c in table.columns)
        self._add(name, None, f"table is missing{hint}",
                  f"create table `{name}` with columns {cols}; {_SEE}")

    def _columns(self, name: str, table: schema.Table) -> None:
        db_cols = self.wh.columns(name)
        lower = {c.lower(): c for c in db_cols}
        usable: dict[str, _Col] = {}
        for col in table.columns:
            if col.name not in db_cols:
                other = lower.get(col.name.lower())
                hint = f" (there is `{other}`: names are case-sensitive)" if other else ""
                self._add(name, col.name, f"column is missing{hint}",
                          f"add column `{col.name}` (type {col.type}) to table `{name}`; {_SEE}")
                continue
            db_type = db_cols[col.name]
            fam = _family(db_type)
            if fam == _TEXT and col.type in (schema.FLOAT, schema.INT):
                # Text that holds numbers compares and sorts as text ("9" > "10"): a problem even
                # when every value parses; values that do not parse are reported as well.
                self._add(
                    name, col.name,
                    f"is stored as {db_type} (text), not as {_LOGICAL_DESC[col.type]}",
                    f"change column `{col.name}` of `{name}` to type {_SQL_TYPE[col.type]}; {_SEE}",
                )
            if fam in _DIRECT[col.type] or (fam == _TEXT and col.type in (
                    schema.FLOAT, schema.INT, schema.DATE, schema.TIMESTAMP)):
                usable[col.name] = _Col(col, fam, db_type)
                continue
            self._add(
                name, col.name,
                f"is stored as {db_type}, which cannot hold {_LOGICAL_DESC[col.type]}",
                f"change column `{col.name}` of `{name}` to type {_SQL_TYPE[col.type]}; {_SEE}",
            )
            # Nulls can still be counted in a column of the wrong type.
            usable[col.name] = _Col(col, _OTHER, db_type)
        self.cols[name] = usable

    # -- row-level checks ----------------------------------------------------------------

    def _number(self, c: _Col) -> str | None:
        """SQL for the column's value as a number (NULL where text does not parse)."""
        if c.family in (_INT, _FLOAT):
            return sql.as_number(c.spec.name, text=False, duck=self.duck, pattern_param=_NUM_P)
        if c.family == _TEXT and c.spec.type in (schema.FLOAT, schema.INT):
            return sql.as_number(c.spec.name, text=True, duck=self.duck, pattern_param=_NUM_P)
        return None

    def _conditions(self, name: str, table: schema.Table) -> list[_Cond]:
        conds: list[_Cond] = []
        cols = self.cols[name]
        for col in table.columns:
            c = cols.get(col.name)
            if c is None:
                continue
            ident = sql.ident(col.name)
            if not col.nullable:
                conds.append(_Cond(col.name, sql.is_null(ident), "is null", "are null",
                                   f"fill `{col.name}` in every row (it may not be null)"))
            if c.family == _OTHER:
                continue
            if c.family == _TEXT and col.type == schema.TEXT and not col.nullable:
                conds.append(_Cond(col.name, sql.is_blank(col.name), "is empty text",
                                   "are empty text", f"fill `{col.name}` in every row"))
            if col.choices:
                keys = {f"ch_{col.name}_{i}": v for i, v in enumerate(col.choices)}
                conds.append(_Cond(
                    col.name, sql.not_among(col.name, list(keys)),
                    "has a value outside the allowed choices",
                    "have values outside the allowed choices",
                    f"use only {', '.join(col.choices)}", keys, ident, True,
                ))
            if c.family == _TEXT and col.type in (schema.FLOAT, schema.INT):
                num = self._number(c)
                conds.append(_Cond(
                    col.name, sql.set_but_null(col.name, num),
                    "holds text that is not a number", "hold text that is not a number",
                    f"correct these values and store `{col.name}` as "
                    f"{_SQL_TYPE[col.type]}; {_SEE}",
                    {} if self.duck else {_NUM_P: _NUM_RE}, ident, True,
                ))
            if c.family == _TEXT and col.type in (schema.DATE, schema.TIMESTAMP):
                conds.append(_Cond(
                    col.name, sql.not_timestamp(col.name, duck=self.duck, pattern_param=_DATE_P),
                    f"holds text that is not {_LOGICAL_DESC[col.type]}",
                    f"hold text that is not {_LOGICAL_DESC[col.type]}",
                    f"write dates as ISO 8601 (YYYY-MM-DD), or better store `{col.name}` as "
                    f"{_SQL_TYPE[col.type]}",
                    {} if self.duck else {_DATE_P: _DATE_RE}, ident, True,
                ))
            if col.type == schema.BOOL and c.family == _INT:
                conds.append(_Cond(col.name, sql.not_zero_or_one(col.name), "is not 0 or 1",
                                   "are not 0 or 1", f"store `{col.name}` as BOOLEAN",
                                   values_sql=ident))
            conds.extend(self._number_conditions(c))
        conds.extend(self._relations(name))
        return conds

    def _number_conditions(self, c: _Col) -> list[_Cond]:
        """Finite, whole where it must be, and within the contract's min and max."""
        col = c.spec
        num = self._number(c)
        if num is None:
            return []
        conds: list[_Cond] = []
        params = {} if self.duck or c.family != _TEXT else {_NUM_P: _NUM_RE}
        if col.type == schema.FLOAT or c.family in (_TEXT, _FLOAT):
            conds.append(_Cond(
                col.name, sql.not_finite(num),
                "is NaN or infinite", "are NaN or infinite",
                f"replace NaN or infinite `{col.name}` values with real numbers", params,
            ))
        if col.type == schema.INT and c.family != _INT:
            conds.append(_Cond(
                col.name, sql.not_whole(num), "is not a whole number",
                "are not whole numbers",
                f"`{col.name}` holds whole numbers: correct these rows, or store it as BIGINT",
                params, num,
            ))
        rng = ""
        if col.min is not None and col.max is not None:
            rng = f"`{col.name}` must be between {_num(col.min)} and {_num(col.max)}"
        elif col.min is not None:
            rng = (f"`{col.name}` may not be negative" if col.min == 0
                   else f"`{col.name}` must be at least {_num(col.min)}")
        if col.min is not None:
            below = ("has a negative value", "have negative values") if col.min == 0 else (
                f"is below the minimum {_num(col.min)}",
                f"are below the minimum {_num(col.min)}")
            conds.append(_Cond(col.name, sql.below(num, f"min_{col.name}"), *below,
                               f"{rng}; correct or remove these rows",
                               {**params, f"min_{col.name}": float(col.min)}, num))
        if col.max is not None:
            rng = rng or f"`{col.name}` must be at most {_num(col.max)}"
            conds.append(_Cond(
                col.name, sql.above(num, f"max_{col.name}"),
                f"is above the maximum {_num(col.max)}",
                f"are above the maximum {_num(col.max)}",
                f"{rng}; correct or remove these rows",
                {**params, f"max_{col.name}": float(col.max)}, num,
            ))
        return conds

    def _relations(self, name: str) -> list[_Cond]:
        """Checks across columns of one row, where both columns are real dates."""
        cols = self.cols[name]

        def dated(*names: str) -> bool:
            return all(n in cols and cols[n].family in (_DATE, _TS) for n in names)

        out: list[_Cond] = []
        if name == "accounts":
            for later in ("churn_date", "renewal_date"):
                if dated(later, "start_date"):
                    out.append(_Cond(
                        later, sql.before(later, "start_date"),
                        "is before start_date", "are before start_date",
                        f"`{later}` must be on or after the account's start_date",
                    ))
        if name == "arr_history" and dated("month"):
            out.append(_Cond(
                "month", sql.not_first_of_month("month"),
                "is not the first day of a month", "are not the first day of a month",
                "store each month as its first day (e.g. 2026-07-01)",
                values_sql=sql.ident("month"),
            ))
        if name == "support_tickets" and dated("opened_at", "resolved_at"):
            out.append(_Cond(
                "resolved_at", sql.before("resolved_at", "opened_at"),
                "is before opened_at", "are before opened_at",
                "a ticket cannot be resolved before it was opened: correct these timestamps",
            ))
        return out

    def _rows_checks(self, name: str, table: schema.Table) -> None:
        """One scan counts the bad rows of every check; examples only for checks that fail."""
        conds = self._conditions(name, table)
        has_id = "account_id" in self.cols[name]
        params: dict[str, Any] = {}
        for c in conds:
            params.update(c.params)
        try:
            row = self._query(sql.count_cases(name, [c.sql for c in conds]), params).iloc[0]
            counts = {k: _int(v) for k, v in row.items()}
        except Exception:  # noqa: BLE001 - fall back to one query per check to find the culprit
            counts = {"n_rows": _int(self._query(sql.count_rows(name))["n"][0])}
            for i, c in enumerate(conds):
                try:
                    counts[f"c{i}"] = _int(self._query(
                        sql.count_case(name, c.sql), c.params)["c"][0])
                except Exception as exc:  # noqa: BLE001 - report, do not stop the other checks
                    self._add(name, c.column, f"could not be checked ({type(exc).__name__}: "
                              f"{exc})", f"make the column's type match the contract; {_SEE}")
        self.rows[name] = counts["n_rows"]
        if name == "accounts" and counts["n_rows"] == 0:
            self._add(name, None, "the warehouse has no accounts",
                      "load your accounts into `accounts` (or run `valuereview demo-data` for "
                      f"the demo warehouse); {_SEE}")
        for i, c in enumerate(conds):
            n = counts.get(f"c{i}", 0)
            if not n:
                continue
            n_acc, examples = 0, []
            if has_id:
                n_acc = _int(self._query(sql.count_accounts(name, c.sql), c.params)["a"][0])
                examples = self._examples(name, c.sql, c.params) if n_acc else []
            values = ""
            if c.values_sql:
                vals = self._query(
                    sql.some_values(c.values_sql, name, c.sql), c.params)["v"].tolist()
                shown = [repr(v) if c.quote_values else _fmt(v) for v in vals]
                values = f", e.g. {', '.join(shown)}" if shown else ""
            message = _rows(n, c.singular, c.plural) + values + _accounts_note(examples, n_acc)
            self._add(name, c.column, message, c.fix, examples, n_acc)

    def _examples(self, name: str, where: str, params: dict[str, Any],
                  source: str | None = None) -> list[str]:
        df = self._query(
            sql.example_accounts(source or sql.ident(name), where, MAX_EXAMPLES), params)
        return [str(v) for v in df["a"]]

    # -- keys, accounts, relations between tables ----------------------------------------

    def _key(self, name: str, table: schema.Table) -> None:
        if not table.key or not all(k in self.cols[name] for k in table.key):
            return
        dups = sql.duplicates(name, table.key)
        has_id = "account_id" in table.key
        r = self._query(sql.count_duplicates(dups, accounts=has_id)).iloc[0]
        groups, rows = _int(r["g"]), _int(r["r"])
        if not groups:
            return
        ex = self._query(sql.some_duplicates(dups, table.key))
        shown = ", ".join(
            " / ".join(_show_id(v) if k == "account_id" else _fmt(v)
                       for k, v in zip(table.key, row[:-1], strict=True)) + f" (x{int(row[-1])})"
            for row in ex.itertuples(index=False, name=None)
        )
        examples = self._examples(name, "1 = 1", {}, dups) if has_id else []
        n_acc = _int(r["a"]) if has_id else 0
        key = ", ".join(table.key)
        column = table.key[0] if len(table.key) == 1 else None
        what = f"`{key}`" if column else f"key ({key})"
        message = (f"{rows} rows share {groups} duplicated {what} value"
                   f"{'s' * (groups != 1)}, e.g. {shown}")
        if len(table.key) > 1:
            message += _accounts_note(examples, n_acc)
        self._add(name, column, message,
                  f"keep one row per ({key}) in `{name}`: remove or merge the duplicates",
                  examples, n_acc)

    def _accounts(self, table: schema.Table) -> None:
        """Account ids, currencies and locales: checked in Python (accounts is a small table)."""
        cols = [c for c in ("account_id", "currency", "locale")
                if c in self.cols["accounts"] and self.cols["accounts"][c].family == _TEXT]
        if not cols:
            return
        df = self._query(sql.select_text("accounts", cols))
        ids = df["account_id"] if "account_id" in df.columns else pd.Series([""] * len(df))

        def report(column: str, bad: pd.Series, what: str, fix: str) -> None:
            if not bad.any():
                return
            accounts = sorted({str(a) for a in ids[bad] if a is not None and a == a})
            values = sorted({str(v) for v in df.loc[bad, column]})
            shown = ", ".join(repr(v) for v in values[:MAX_EXAMPLES])
            more = f" and {len(values) - MAX_EXAMPLES} more" if len(values) > MAX_EXAMPLES else ""
            n = int(bad.sum())
            note = "" if column == "account_id" else _accounts_note(
                accounts[:MAX_EXAMPLES], len(accounts))
            self._add("accounts", column,
                      f"{n} {'account has' if n == 1 else 'accounts have'} {what}: "
                      f"{shown}{more}{note}", fix, accounts[:MAX_EXAMPLES], len(accounts))

        def present(s: pd.Series) -> pd.Series:
            return s.notna() & s.map(lambda v: isinstance(v, str))

        if "account_id" in df.columns:
            s = df["account_id"]
            bad = present(s) & ~s.map(lambda v: bool(schema.ACCOUNT_ID_RE.fullmatch(str(v))))
            report("account_id", bad, "an id that is not 1-64 of A-Z a-z 0-9 _ -",
                   "rename these accounts, in every table, to ids of 1-64 letters, digits, _ "
                   "or - (ids become file names and URLs)")
            reserved = present(s) & (s.astype(str) == schema.PORTFOLIO_ID)
            report("account_id", reserved,
                   f"the id {schema.PORTFOLIO_ID!r}, which is the portfolio review's",
                   "rename this account, in every table")
        if "currency" in df.columns:
            from babel.numbers import list_currencies

            known = list_currencies()
            s = df["currency"]
            bad = present(s) & ~s.map(lambda v: v in known)
            report("currency", bad, "a currency that is not an ISO 4217 code",
                   "use ISO 4217 codes in capitals, such as USD, GBP, EUR")
        if "locale" in df.columns:
            s = df["locale"]
            bad = present(s) & ~s.map(_parses_locale)
            report("locale", bad, "a locale that is not a BCP 47 tag Babel knows",
                   "use BCP 47 language tags such as en-US, en-GB, ka-GE")

    def _id_joinable(self, *tables: str, column: str = "account_id") -> bool:
        cols = [self.cols.get(t, {}).get(column) for t in tables]
        return all(c is not None and c.family == _TEXT for c in cols)

    def _orphans(self) -> None:
        if "accounts" not in self.cols or not self.rows.get("accounts"):
            return  # missing or empty: reported once already
        for name in schema.TABLES:
            if name != "accounts" and name in self.cols and self._id_joinable(name, "accounts"):
                self._guarded(name, self._orphans_in, name)

    def _orphans_in(self, name: str) -> None:
        source, where = sql.unmatched(name, "accounts", ["account_id"])
        n, n_acc, found = self._unmatched(source, where, [("account_id", "a")])
        if not n:
            return
        ex = [str(v) for v in found["a"]]
        self._add(
            name, "account_id",
            _rows(n, "belongs to an account that is not in `accounts`",
                  "belong to accounts that are not in `accounts`") + _accounts_note(ex, n_acc),
            "add these accounts to `accounts`, or delete their rows", ex, n_acc,
        )

    def _unmatched(self, source: str, where: str, example_cols: list[tuple[str, str]]):
        """Rows of a left join with no match: (row count, account count, example rows of the
        (column, alias) pairs `example_cols`)."""
        r = self._query(sql.count_unmatched(source, where)).iloc[0]
        n, n_acc = _int(r["n"]), _int(r["a"])
        if not n:
            return 0, 0, None
        ex = self._query(sql.some_unmatched(source, where, example_cols, MAX_EXAMPLES))
        return n, n_acc, ex

    def _measurements_without_drivers(self, present: set[str]) -> None:
        """Measurements are only read through their drivers: with `value_drivers` absent they
        would be dropped without a word, so say so."""
        m, d = "value_measurements", "value_drivers"
        if d in present or not self.rows.get(m):
            return
        n = self.rows[m]
        self._add(m, None, _rows(n, "measures drivers, but table `value_drivers` is missing",
                                 "measure drivers, but table `value_drivers` is missing"),
                  f"create `{d}` with the drivers these rows measure, or drop `{m}`")

    def _unknown_drivers(self) -> None:
        m, d = "value_measurements", "value_drivers"
        if not (self._id_joinable(m, d) and self._id_joinable(m, d, column="driver_id")):
            return
        source, where = sql.unmatched(m, d, ["account_id", "driver_id"])
        n, n_acc, ex = self._unmatched(source, where, [("account_id", "a"), ("driver_id", "d")])
        if not n:
            return
        pairs = ", ".join(f"{_show_id(str(a))} driver {d!r}" for a, d in zip(ex["a"], ex["d"],
                                                                          strict=True))
        accounts = sorted({str(a) for a in ex["a"]})
        more = f" and more in {n_acc} accounts" if n_acc > len(accounts) else ""
        self._add(
            m, "driver_id",
            _rows(n, "measures a driver that `value_drivers` does not define for its account",
                  "measure drivers that `value_drivers` does not define for their account")
            + f" ({pairs}{more})",
            "add the driver to `value_drivers` for that account, or correct the driver_id",
            accounts, n_acc,
        )


@dataclass(frozen=True)
class Coverage:
    """How much of one contract table the warehouse holds.

    `rows` and `accounts` (accounts with at least one row) are None when the table is absent
    or could not be counted; a table is provided when it exists and has rows.
    """

    table: str
    required: bool
    present: bool
    rows: int | None
    accounts: int | None

    @property
    def provided(self) -> bool:
        return self.present and bool(self.rows)


def coverage(wh: Warehouse) -> list[Coverage]:
    """Rows and accounts with rows of every contract table, in contract order (one count per
    table), so a team sees at once which data it provided and for how many accounts."""
    present = set(wh.tables())
    out: list[Coverage] = []
    for name, table in schema.TABLES.items():
        if name not in present:
            out.append(Coverage(name, table.required, False, None, None))
            continue
        has_id = "account_id" in wh.columns(name)
        try:
            r = wh.query(sql.count_table(name, accounts=has_id)).iloc[0]
        except Exception:  # noqa: BLE001 - the contract check reports why; show what we can
            out.append(Coverage(name, table.required, True, None, None))
            continue
        out.append(Coverage(name, table.required, True, _int(r["n"]),
                            _int(r["a"]) if has_id else None))
    return out


def format_coverage(cov: list[Coverage]) -> str:
    """The coverage as a plain-text table for `valuereview check-data`."""
    total = next((c.rows for c in cov if c.table == "accounts"), None) or 0
    lines = [f"data provided (of {total:,} account{'s' * (total != 1)}):",
             f"  {'table':<20} {'rows':>12}  accounts with rows"]
    for c in cov:
        if not c.present:
            what = "required: table is missing" if c.required else (
                "absent: not provided, left out of the reviews")
            lines.append(f"  {c.table:<20} {'-':>12}  {what}")
            continue
        rows = "?" if c.rows is None else f"{c.rows:,}"
        if c.rows == 0:
            what = "empty" if c.required else "empty: not provided, left out of the reviews"
        elif c.accounts is None:
            what = "?"
        else:
            share = f" ({c.accounts / total * 100:.0f}%)" if total else ""
            what = f"{c.accounts:,}{share}"
        lines.append(f"  {c.table:<20} {rows:>12}  {what}")
    return "\n".join(lines)


def _parses_locale(tag: str) -> bool:
    from babel import Locale

    try:
        Locale.parse(tag, sep="-")
    except Exception:  # noqa: BLE001 - babel raises ValueError, TypeError or UnknownLocaleError
        return False
    return True


__all__ = ["ContractError", "Coverage", "Problem", "check", "coverage", "format_coverage",
           "require"]
