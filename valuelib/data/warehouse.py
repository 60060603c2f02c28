"""The one place that talks to the database: an embedded DuckDB file by default, any SQLAlchemy
URL otherwise.

It runs statements built by `valuelib.data.sql`. Every value that comes from a user goes in as a
bound parameter. Table and column names come only from `schema.py` (or are checked against it),
never from user input.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from valuelib.data import schema, sql
from valuelib.data.location import (  # noqa: F401 - re-exported
    DEFAULT_DB,
    ENV_VAR,
    duckdb_path,
    is_duckdb,
    project_root,
    resolve_url,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: The name under which a frame being written is registered with DuckDB.
_INCOMING = "_vr_incoming"
_DUCK_TYPES = {
    schema.TEXT: "VARCHAR",
    schema.DATE: "DATE",
    schema.TIMESTAMP: "TIMESTAMP",
    schema.FLOAT: "DOUBLE",
    schema.INT: "BIGINT",
    schema.BOOL: "BOOLEAN",
}


#: PostgreSQL's driver, installed with valuereview: `postgresql://` and `postgres://` name it.
PG_DRIVER = "psycopg"
#: Python module of a database driver -> the package that provides it, for error messages.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "pymysql": "PyMySQL",
    "MySQLdb": "mysqlclient",
    "mysql": "mysql-connector-python",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "oracledb": "oracledb",
}
#: SQLAlchemy dialects that other packages add -> the package, for error messages.
DIALECT_PACKAGES = {
    "snowflake": "snowflake-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
    "redshift": "sqlalchemy-redshift",
    "databricks": "databricks-sqlalchemy",
    "trino": "trino[sqlalchemy]",
}
#: Query parameters of a URL whose values are secrets (password=, sslpassword=, token=, ...).
_SECRET_PARAM = re.compile(r"([?&][^=&#]*(?:pass|pwd|secret|token)[^=&#]*=)([^&#]*)", re.I)


class WarehouseError(RuntimeError):
    """The warehouse could not be opened or read; the message names the URL or table."""


def sqlalchemy_url(url: str) -> str:
    """The URL to give SQLAlchemy: `postgres://` and a driverless `postgresql://` name psycopg 3
    (SQLAlchemy rejects `postgres://`, and its default PostgreSQL driver depends on its version)."""
    scheme, sep, rest = url.partition("://")
    dialect, _, driver = scheme.partition("+")
    if sep and dialect.lower() in ("postgresql", "postgres"):
        return f"postgresql+{driver or PG_DRIVER}://{rest}"
    return url


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise WarehouseError(f"not a valid table or column name: {name!r}")
    return name


def _sqlalchemy_type(logical: str):
    import sqlalchemy as sa

    return {
        schema.TEXT: sa.Text(),
        schema.DATE: sa.Date(),
        schema.TIMESTAMP: sa.DateTime(),
        schema.FLOAT: sa.Float(53),
        schema.INT: sa.BigInteger(),
        schema.BOOL: sa.Boolean(),
    }[logical]


class Warehouse:
    """A connection to the warehouse. Use `Warehouse.open(url)`; close it or use `with`."""

    def __init__(self, url: str, *, read_only: bool = True) -> None:
        self.url = url
        self.read_only = read_only
        # The catalog of a file opened read-only, read once (`_frozen`).
        self._tables: list[str] | None = None
        self._columns: dict[str, dict[str, str]] | None = None
        if is_duckdb(url):
            import duckdb

            self.kind = "duckdb"
            self.path = duckdb_path(url)
            if self.path is not None and not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path is not None and read_only and not self.path.exists():
                raise WarehouseError(
                    f"no warehouse at {self.path}: run `valuereview demo-data` to build the demo "
                    f"warehouse, or pass --db URL (or set {ENV_VAR})"
                )
            try:
                self._duck = duckdb.connect(
                    str(self.path) if self.path else ":memory:",
                    read_only=read_only and self.path is not None,
                )
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open DuckDB warehouse {url}: {exc}") from exc
            self._engine = None
            # A DuckDB file opened read-only: no process can write it while it is open.
            self._frozen = self.path is not None and read_only
        else:
            self._frozen = False
            self.path = None
            self._duck = None
            self._engine = _connect(url)
            self.kind = self._engine.dialect.name

    @classmethod
    def open(cls, db: str | None = None, *, read_only: bool = True) -> Warehouse:
        """Open the warehouse named by `db` (see `resolve_url`)."""
        return cls(resolve_url(db), read_only=read_only)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
            self._duck = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def display_url(self) -> str:
        """The URL with any password removed, for messages and the methodology appendix."""
        return _redact(self.url)

    # -- introspection ---------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Names of the tables (and views) in the default schema."""
        if self._duck is not None:
            if self._tables is None or not self._frozen:
                self._tables = [r[0] for r in self._duck.execute(sql.TABLES).fetchall()]
            return list(self._tables)
        import sqlalchemy as sa

        insp = sa.inspect(self._engine)
        return sorted(insp.get_table_names() + insp.get_view_names())

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> database type name, for one table."""
        _ident(table)
        if self._duck is not None and self._frozen:
            if self._columns is None:  # nothing changes them: read every table's at once
                self._columns = {}
                for name, col, db_type in self._duck.execute(sql.ALL_COLUMNS).fetchall():
                    self._columns.setdefault(name, {})[col] = str(db_type).upper()
            return dict(self._columns.get(table, {}))
        if self._duck is not None:
            rows = self._duck.execute(sql.COLUMNS, [table]).fetchall()
            return {r[0]: str(r[1]).upper() for r in rows}
        import sqlalchemy as sa

        insp = sa.inspect(self._engine)
        return {c["name"]: str(c["type"]).upper() for c in insp.get_columns(table)}

    # -- reading ---------------------------------------------------------------------------

    def query(self, statement: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one SELECT (built by `valuelib.data.sql`) with `:name` bound parameters and
        return a DataFrame."""
        params = params or {}
        if self._duck is not None:
            return self._duck.execute(sql.duckdb_params(statement), params).df()
        import sqlalchemy as sa

        with self._engine.connect() as conn:
            return pd.read_sql_query(sa.text(statement), conn, params=params)

    def read_table(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        *,
        account_ids: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Read `columns` of `table`, optionally only rows of the given accounts (bound)."""
        _ident(table)
        for c in columns or ():
            _ident(c)
        if account_ids is None:
            return self.query(sql.select(table, columns))
        ids = list(account_ids)
        if not ids:
            return self.query(sql.select_none(table, columns))
        if self._duck is not None:
            return self._duck.execute(
                sql.select_accounts(table, columns, duck=True), {"ids": ids}).df()
        import sqlalchemy as sa

        stmt = sa.text(sql.select_accounts(table, columns, duck=False)).bindparams(
            sa.bindparam("ids", expanding=True)
        )
        with self._engine.connect() as conn:
            return pd.read_sql_query(stmt, conn, params={"ids": ids})

    # -- writing ---------------------------------------------------------------------------

    def write_table(
        self, table: str, df: pd.DataFrame, types: dict[str, str] | None = None
    ) -> None:
        """Create or replace `table` from `df`; `types` maps columns to logical schema types."""
        self.replace_tables({table: (df, types)})

    def replace_tables(
        self, tables: dict[str, tuple[pd.DataFrame, dict[str, str] | None]]
    ) -> None:
        """Create or replace every table in one transaction: all of them are replaced, or (on
        any error) none, and the warehouse stays as it was. Values map to `types` (logical
        schema types; the contract's for its tables when None)."""
        if self.read_only:
            raise WarehouseError(f"warehouse {self.display_url} is open read-only")
        typed = {}
        for table, (df, types) in tables.items():
            _ident(table)
            for c in df.columns:
                _ident(c)
            typed[table] = (df, types or (
                {c.name: c.type for c in schema.TABLES[table].columns}
                if table in schema.TABLES else {}))
        if self._duck is not None:
            self._duck.execute(sql.BEGIN)
            try:
                for table, (df, types) in typed.items():
                    self._duck_replace(table, df, types)
            except BaseException:
                self._duck.execute(sql.ROLLBACK)
                raise
            self._duck.execute(sql.COMMIT)
            return
        with self._engine.begin() as conn:
            for table, (df, types) in typed.items():
                self._sql_replace(conn, table, df, types)

    def _duck_replace(self, table: str, df: pd.DataFrame, types: dict[str, str]) -> None:
        duck_types = {c: _DUCK_TYPES[t] for c, t in types.items()}
        self._duck.register(_INCOMING, df)
        try:
            self._duck.execute(sql.create_as_cast(table, list(df.columns), duck_types, _INCOMING))
        finally:
            self._duck.unregister(_INCOMING)

    def _sql_replace(self, conn, table: str, df: pd.DataFrame, types: dict[str, str]) -> None:  # noqa: ANN001
        dtype = {c: _sqlalchemy_type(t) for c, t in types.items() if c in df.columns}
        if self._engine.dialect.driver == "psycopg":
            # Create the typed table, then stream the rows with COPY: far faster than
            # INSERTs for the demo's hundreds of thousands of usage rows.
            df.head(0).to_sql(table, conn, if_exists="replace", index=False, dtype=dtype)
            _copy_into(conn, table, df)
        else:
            df.to_sql(table, conn, if_exists="replace", index=False, dtype=dtype,
                      method="multi", chunksize=2000)


# -- reading export files ------------------------------------------------------------------


def sniff_csv(path: Path) -> tuple[str, str]:
    """The delimiter and quote character DuckDB's sniffer finds in a CSV file."""
    import duckdb

    with duckdb.connect() as con:
        row = con.execute(sql.SNIFF_CSV, {"p": str(path)}).fetchone()
    delimiter, quote = row
    return delimiter or ",", quote if quote and quote != "(empty)" else '"'


def read_file(path: Path, fmt: str, *, delimiter: str | None = None,
              quote: str | None = None) -> pd.DataFrame:
    """Every row of one export file, in file order, with DuckDB's own reader.

    `fmt` is csv (every value read as text, the header row required), parquet or json
    (newline-delimited or an array of objects; nested objects become dicts). The path is a
    bound parameter. Raises WarehouseError naming the file when DuckDB cannot read it.
    """
    import duckdb

    options = {"p": str(path)}
    if fmt == "csv":
        options.update({k: v for k, v in (("d", delimiter), ("q", quote)) if v})
    statement = sql.read_export(fmt, delimiter=bool(delimiter), quote=bool(quote))
    if statement is None:
        raise WarehouseError(f"{path}: DuckDB does not read {fmt!r} files here")
    try:
        with duckdb.connect() as con:
            con.execute(sql.PRESERVE_ORDER)
            df = con.execute(statement, options).df()
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot read it as {fmt}: {exc}") from exc
    return df.astype(object).where(df.notna(), None)


def _copy_into(conn, table: str, df: pd.DataFrame) -> None:
    """COPY `df` into an existing PostgreSQL table as CSV through psycopg; missing values travel
    as \\N, so an empty string stays an empty string."""
    import io

    buf = io.StringIO()
    df.to_csv(buf, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S")
    buf.seek(0)
    statement = sql.copy_csv_from_stdin(table, list(df.columns))
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := buf.read(1 << 20):
            copy.write(chunk)


def _connect(url: str):
    """A SQLAlchemy engine for `url`, checked with `SELECT 1`; every failure is a WarehouseError
    that says what to do and never shows the URL's password."""
    import sqlalchemy as sa

    shown = _redact(url)
    target = sqlalchemy_url(url)
    info = _userinfo(target)
    if info is not None and "@" in info[1]:
        raise WarehouseError(
            f"cannot connect to warehouse {shown}: its password holds an unescaped '@'; "
            "write it as %40")
    scheme = target.split("://", 1)[0]
    try:
        engine = sa.create_engine(target)
    except sa.exc.NoSuchModuleError:
        dialect = scheme.split("+", 1)[0]
        package = DIALECT_PACKAGES.get(dialect.lower())
        hint = (f"install it with `{sys.executable} -m pip install {package}`" if package
                else "check the URL's scheme, or install the package that provides it")
        raise WarehouseError(f"cannot connect to warehouse {shown}: SQLAlchemy has no "
                             f"database dialect {scheme!r}; {hint}") from None
    except ImportError as exc:
        module = (exc.name or "").split(".", 1)[0]
        if not module:
            raise WarehouseError(f"cannot connect to warehouse {shown}: cannot load its "
                                 f"database driver: {_scrub(str(exc), url)}") from None
        package = DRIVER_PACKAGES.get(module, module)
        hint = ("; or leave the driver out: postgresql://... uses psycopg 3, which valuereview "
                "installs" if scheme.startswith("postgresql+") and module != PG_DRIVER else "")
        raise WarehouseError(
            f"cannot connect to warehouse {shown}: its database driver is not installed "
            f"(Python module {module!r}): install it with "
            f"`{sys.executable} -m pip install '{package}'`{hint}") from None
    except sa.exc.ArgumentError as exc:
        raise WarehouseError(f"cannot connect to warehouse {shown}: not a database URL "
                             f"({_scrub(str(exc), url)})") from None
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql.PING))
    except Exception as exc:  # noqa: BLE001 - any driver error: say which URL failed
        engine.dispose()
        raise WarehouseError(
            f"cannot connect to warehouse {shown}: {_scrub(str(exc), url)}") from None
    return engine


def _userinfo(url: str) -> tuple[str, str] | None:
    """(user, password) of `url`, or None; the user part ends at the last @ before the host (a
    host never holds an @, so an unescaped @ stays in the password; SQLAlchemy's host takes it)."""
    rest = url.partition("://")[2]
    at = rest.find("@")
    while at >= 0:
        more = re.split(r"[/?#]", rest[at + 1 :], maxsplit=1)[0].find("@")
        if more < 0:
            break
        at += 1 + more
    user, colon, password = rest[: max(at, 0)].partition(":")
    return (user, password) if at >= 0 and colon and "/" not in user else None


def redact(url: str) -> str:
    """A URL with its password replaced by ***, for messages and reports."""
    return _redact(url)


def _redact(url: str) -> str:
    """`url` with its password and any secret query parameter (password=, ...) as ***."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    info = _userinfo(url)
    if info is not None:
        rest = f"{info[0]}:***@" + rest[len(info[0]) + 1 + len(info[1]) + 1 :]
    return scheme + sep + _SECRET_PARAM.sub(r"\1***", rest)


def _secrets(url: str) -> set[str]:
    """Every password and secret query value in `url`, as written and percent-decoded."""
    from urllib.parse import unquote, unquote_plus

    info = _userinfo(url)
    found = {info[1] if info else ""}
    found.update(m.group(2) for m in _SECRET_PARAM.finditer(url))
    found |= {unquote(s) for s in found} | {unquote_plus(s) for s in found}
    return {s for s in found if s}


def _scrub(message: str, url: str) -> str:
    """`message` (a driver's error) with the URL redacted and every secret of it as ***."""
    message = message.replace(url, _redact(url))
    for secret in sorted(_secrets(url), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message
