"""The SQL text of the data stage: one identifier quoting, and every statement built from names.

`warehouse`, `contract` and `extract` run only statements built here. Table and column names
are quoted by `ident` (embedded double quotes doubled, so a name can never end the identifier);
values never enter the text: they stay `:name` bound parameters (`$name` for DuckDB's own
readers), passed to the driver beside the statement. Where DuckDB and PostgreSQL differ (parsing
text as numbers or dates, binding a list), a builder takes `duck` and returns each dialect's
form. Limits are whole numbers checked here, not values from a user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

#: `:name` bind markers outside single-quoted literals (DuckDB wants `$name`).
_NAMED = re.compile(r"('(?:[^']|'')*')|(?<![:\w]):([A-Za-z_]\w*)")

#: The names of the tables (and views) in the default schema (DuckDB).
TABLES = ("SELECT table_name FROM information_schema.tables "
          "WHERE table_schema = current_schema() ORDER BY 1")
#: Column names and types of the table bound as the one positional parameter (DuckDB).
COLUMNS = ("SELECT column_name, data_type FROM information_schema.columns "
           "WHERE table_schema = current_schema() AND table_name = ? "
           "ORDER BY ordinal_position")
#: Every column's table, name and type in the default schema, in each table's order (DuckDB).
ALL_COLUMNS = ("SELECT table_name, column_name, data_type FROM information_schema.columns "
               "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
#: A statement that only proves the connection works.
PING = "SELECT 1"
#: The delimiter and quote character DuckDB's sniffer finds in the CSV file bound as $p.
SNIFF_CSV = "SELECT Delimiter, Quote FROM sniff_csv($p)"
#: DuckDB keeps a file's row order when told to.
PRESERVE_ORDER = "SET preserve_insertion_order = true"
#: Transaction control (DuckDB).
BEGIN, COMMIT, ROLLBACK = "BEGIN TRANSACTION", "COMMIT", "ROLLBACK"


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier: in double quotes, each embedded double quote doubled."""
    return '"' + name.replace('"', '""') + '"'


def idents(names: Iterable[str]) -> str:
    """Quoted identifiers separated by commas."""
    return ", ".join(ident(n) for n in names)


def duckdb_params(sql: str) -> str:
    """`sql` with its `:name` bind markers written as DuckDB's `$name` (literals untouched)."""
    return _NAMED.sub(lambda m: m.group(1) or "$" + m.group(2), sql)


def _limit(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"a LIMIT must be a whole number >= 0, got {n!r}")
    return n


# -- warehouse: reading and writing tables -------------------------------------------------


def select(table: str, columns: Sequence[str] | None = None) -> str:
    """Every row of `columns` (all when None) of `table`."""
    return f"SELECT {idents(columns) if columns else '*'} FROM {ident(table)}"


def select_none(table: str, columns: Sequence[str] | None = None) -> str:
    """No row of `table`, with its columns: the answer to an empty list of accounts."""
    return select(table, columns) + " WHERE 1 = 0"


def select_accounts(table: str, columns: Sequence[str] | None, *, duck: bool) -> str:
    """The rows of `table` whose account_id is in the list bound as `ids` (DuckDB: `$ids`,
    a list; elsewhere `:ids`, which SQLAlchemy expands)."""
    where = " WHERE account_id IN (SELECT unnest($ids))" if duck else " WHERE account_id IN :ids"
    return select(table, columns) + where


def select_equal(table: str, column: str, param: str) -> str:
    """Every row of `table` whose `column` equals the value bound as `:param`."""
    return f"SELECT * FROM {ident(table)} WHERE {ident(column)} = :{param}"


def create_as_cast(table: str, columns: Sequence[str], types: Mapping[str, str],
                   source: str) -> str:
    """Create or replace `table` from the registered relation `source`, casting each column in
    `types` to its database type (DuckDB)."""
    cols = ", ".join(f"CAST({ident(c)} AS {types[c]}) AS {ident(c)}" if c in types else ident(c)
                     for c in columns)
    return f"CREATE OR REPLACE TABLE {ident(table)} AS SELECT {cols} FROM {ident(source)}"


def copy_csv_from_stdin(table: str, columns: Sequence[str]) -> str:
    """PostgreSQL's COPY of CSV rows into `columns` of `table`; \\N is a missing value."""
    return f"COPY {ident(table)} ({idents(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"


def read_export(fmt: str, *, delimiter: bool = False, quote: bool = False) -> str | None:
    """DuckDB's reader of the file bound as $p in format `fmt` (None for a format it does not
    read here); a CSV's delimiter and quote are bound as $d and $q when given."""
    if fmt == "csv":
        sql = "SELECT * FROM read_csv($p, all_varchar = true, header = true"
        if delimiter:
            sql += ", delim = $d"
        if quote:
            sql += ", quote = $q"
        return sql + ")"
    if fmt == "parquet":
        return "SELECT * FROM read_parquet($p)"
    if fmt == "json":
        return "SELECT * FROM read_json($p, format = 'auto')"
    return None


# -- extract -------------------------------------------------------------------------------


def latest(table: str, column: str) -> str:
    """The largest value of `column` in `table`, as `d`."""
    return f"SELECT MAX({ident(column)}) AS d FROM {ident(table)}"


def any_row(table: str) -> str:
    """One row of `table` if it has any."""
    return f"SELECT 1 AS x FROM {ident(table)} LIMIT 1"


# -- contract: row conditions (true for a bad row) -----------------------------------------


def as_number(column: str, *, text: bool, duck: bool, pattern_param: str) -> str:
    """`column` as a number: itself when stored as a number; when `text`, its value where it
    parses as one and NULL elsewhere (PostgreSQL checks it against the regular expression bound
    as `:pattern_param` first: it has no TRY_CAST)."""
    col = ident(column)
    if not text:
        return col
    if duck:
        return f"TRY_CAST({col} AS DOUBLE)"
    return f"(CASE WHEN {col} ~ :{pattern_param} THEN CAST({col} AS DOUBLE PRECISION) END)"


def is_null(expr: str) -> str:
    """`expr` is NULL."""
    return f"{expr} IS NULL"


def is_blank(column: str) -> str:
    """`column` holds only spaces, or nothing."""
    return f"TRIM({ident(column)}) = ''"


def not_among(column: str, params: Sequence[str]) -> str:
    """`column` is set and none of the values bound as `params`."""
    col = ident(column)
    return f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(f':{p}' for p in params)})"


def set_but_null(column: str, expr: str) -> str:
    """`column` is set but `expr` (a parse of it) is NULL."""
    return f"{ident(column)} IS NOT NULL AND {expr} IS NULL"


def not_timestamp(column: str, *, duck: bool, pattern_param: str) -> str:
    """`column` (text) is set and does not parse as a date or timestamp (PostgreSQL: does not
    match the regular expression bound as `:pattern_param`)."""
    col = ident(column)
    bad = f"TRY_CAST({col} AS TIMESTAMP) IS NULL" if duck else f"NOT ({col} ~ :{pattern_param})"
    return f"{col} IS NOT NULL AND {bad}"


def not_zero_or_one(column: str) -> str:
    """`column` (an integer standing for a boolean) is neither 0 nor 1."""
    return f"{ident(column)} NOT IN (0, 1)"


def not_finite(expr: str) -> str:
    """`expr` is NaN or infinite."""
    return (f"{expr} IN (CAST('NaN' AS DOUBLE PRECISION), "
            f"CAST('Infinity' AS DOUBLE PRECISION), CAST('-Infinity' AS DOUBLE PRECISION))")


def not_whole(expr: str) -> str:
    """`expr` has a fractional part."""
    return f"{expr} <> FLOOR({expr})"


def below(expr: str, param: str) -> str:
    """`expr` is less than the value bound as `:param`."""
    return f"{expr} < :{param}"


def above(expr: str, param: str) -> str:
    """`expr` is more than the value bound as `:param`."""
    return f"{expr} > :{param}"


def before(column: str, other: str) -> str:
    """`column` is earlier than `other`."""
    return f"{ident(column)} < {ident(other)}"


def not_first_of_month(column: str) -> str:
    """`column` (a date) is not the first day of its month."""
    return f"EXTRACT(DAY FROM {ident(column)}) <> 1"


# -- contract: counts and examples ---------------------------------------------------------


def count_cases(table: str, conditions: Sequence[str]) -> str:
    """The rows of `table` (`n_rows`) and, as c0, c1, ..., how many meet each condition."""
    parts = ["COUNT(*) AS n_rows"] + [
        f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END) AS c{i}" for i, c in enumerate(conditions)]
    return f"SELECT {', '.join(parts)} FROM {ident(table)}"


def count_rows(table: str) -> str:
    """The rows of `table`, as `n`."""
    return f"SELECT COUNT(*) AS n FROM {ident(table)}"


def count_case(table: str, condition: str) -> str:
    """How many rows of `table` meet `condition`, as `c`."""
    return f"SELECT SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS c FROM {ident(table)}"


def account_text(prefix: str = "") -> str:
    """account_id (of the relation named `prefix`, if given) as text."""
    return f"CAST({prefix}{ident('account_id')} AS VARCHAR)"


def count_accounts(table: str, condition: str) -> str:
    """How many accounts have a row of `table` that meets `condition`, as `a`."""
    return (f"SELECT COUNT(DISTINCT {account_text()}) AS a "
            f"FROM {ident(table)} WHERE {condition}")


def some_values(expr: str, table: str, condition: str, limit: int = 3) -> str:
    """Up to `limit` distinct values (as text, `v`) of `expr` in the rows meeting `condition`."""
    return (f"SELECT DISTINCT CAST({expr} AS VARCHAR) AS v FROM {ident(table)} "
            f"WHERE {condition} ORDER BY 1 LIMIT {_limit(limit)}")


def example_accounts(source: str, condition: str, limit: int) -> str:
    """Up to `limit` account ids (as text, `a`) of rows of `source` (a table's quoted name or
    a subquery) that meet `condition`."""
    aid = ident("account_id")
    return (f"SELECT DISTINCT {account_text()} AS a FROM {source} "
            f"WHERE ({condition}) AND {aid} IS NOT NULL ORDER BY 1 LIMIT {_limit(limit)}")


def duplicates(table: str, key: Sequence[str]) -> str:
    """A subquery `d`: each `key` value held by more than one row of `table`, with its count
    `n`."""
    keys = idents(key)
    return (f"(SELECT {keys}, COUNT(*) AS n FROM {ident(table)} GROUP BY {keys} "
            f"HAVING COUNT(*) > 1) d")


def count_duplicates(dups: str, *, accounts: bool) -> str:
    """Duplicated key values (`g`), the rows holding them (`r`) and, with `accounts`, the
    accounts (`a`), of the subquery `dups` (see `duplicates`)."""
    acc = f", COUNT(DISTINCT {account_text()}) AS a" if accounts else ""
    return f"SELECT COUNT(*) AS g, SUM(n) AS r{acc} FROM {dups}"


def some_duplicates(dups: str, key: Sequence[str], limit: int = 3) -> str:
    """The first `limit` duplicated key values of `dups`, with their counts."""
    keys = idents(key)
    return f"SELECT {keys}, n FROM {dups} ORDER BY {keys} LIMIT {_limit(limit)}"


def select_text(table: str, columns: Sequence[str]) -> str:
    """`columns` of `table`, each as text under its own name."""
    cols = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" for c in columns)
    return f"SELECT {cols} FROM {ident(table)}"


def unmatched(table: str, other: str, on: Sequence[str]) -> tuple[str, str]:
    """The rows `t` of `table` whose `on` columns match no row `u` of `other`: (the left
    join to select from, the condition). `on[-1]` must be set in `t`, and account_id too."""
    cols = idents(on)
    join = " AND ".join(f"u.{ident(c)} = t.{ident(c)}" for c in on)
    source = (f"{ident(table)} t LEFT JOIN (SELECT DISTINCT {cols} FROM {ident(other)}) u "
              f"ON {join}")
    last = ident(on[-1])
    where = f"u.{last} IS NULL AND t.{last} IS NOT NULL"
    if on[-1] != "account_id":
        where += f" AND t.{ident('account_id')} IS NOT NULL"
    return source, where


def count_unmatched(source: str, condition: str) -> str:
    """Rows (`n`) and distinct accounts (`a`, as `t.account_id`) of `source` meeting
    `condition`."""
    return (f"SELECT COUNT(*) AS n, COUNT(DISTINCT t.{ident('account_id')}) AS a "
            f"FROM {source} WHERE {condition}")


def some_unmatched(source: str, condition: str, columns: Sequence[tuple[str, str]],
                   limit: int) -> str:
    """Up to `limit` distinct rows of `t.column AS alias` for each (column, alias) pair, of the
    rows of `source` meeting `condition`, in order."""
    cols = ", ".join(f"t.{ident(c)} AS {ident(a)}" for c, a in columns)
    order = ", ".join(str(i + 1) for i in range(len(columns)))
    return (f"SELECT DISTINCT {cols} FROM {source} "
            f"WHERE {condition} ORDER BY {order} LIMIT {_limit(limit)}")


def count_table(table: str, *, accounts: bool) -> str:
    """The rows of `table` (`n`) and, with `accounts`, its distinct accounts (`a`)."""
    acc = f", COUNT(DISTINCT {ident('account_id')}) AS a" if accounts else ""
    return f"SELECT COUNT(*) AS n{acc} FROM {ident(table)}"
