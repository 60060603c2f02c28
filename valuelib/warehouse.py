"""The one place that speaks SQL: an embedded DuckDB file by default, any SQLAlchemy URL otherwise.

Every value that comes from a user goes in as a bound parameter. Table and column names come
only from `schema.py` (or are checked against it), never from user input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import resources, schema

DEFAULT_DB = "data/warehouse.duckdb"
ENV_VAR = "VALUEREVIEW_DB"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: `:name` bind markers outside single-quoted literals (DuckDB wants `$name`).
_NAMED = re.compile(r"('(?:[^']|'')*')|(?<![:\w]):([A-Za-z_]\w*)")

_DUCK_TYPES = {
    schema.TEXT: "VARCHAR",
    schema.DATE: "DATE",
    schema.TIMESTAMP: "TIMESTAMP",
    schema.FLOAT: "DOUBLE",
    schema.INT: "BIGINT",
    schema.BOOL: "BOOLEAN",
}


class WarehouseError(RuntimeError):
    """The warehouse could not be opened or read; the message names the URL or table."""


def project_root() -> Path:
    """The project folder (where `data/` lives; see `valuelib.resources`), else the working
    directory."""
    return resources.project_root() or Path.cwd()


def resolve_url(db: str | None = None) -> str:
    """The warehouse URL to use: `db`, else $VALUEREVIEW_DB, else the demo DuckDB file.

    The demo file is looked up in the working directory first, then in the project root, so
    a notebook opened from `notebooks/` finds it too.
    """
    url = db or os.environ.get(ENV_VAR)
    if not url:
        url = DEFAULT_DB
        if not Path(url).exists() and (project_root() / DEFAULT_DB).exists():
            url = str(project_root() / DEFAULT_DB)
    if "://" not in url:
        url = f"duckdb:///{url}"
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
        if url.startswith("duckdb://"):
            import duckdb

            self.kind = "duckdb"
            path = url[len("duckdb:///") :] if url.startswith("duckdb:///") else url[9:]
            self.path = Path(path) if path and path != ":memory:" else None
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
        else:
            import sqlalchemy as sa

            self.kind = url.split(":", 1)[0].split("+", 1)[0]
            self.path = None
            self._duck = None
            try:
                self._engine = sa.create_engine(url, future=True)
                with self._engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - any driver error: say which URL failed
                raise WarehouseError(f"cannot connect to warehouse {_redact(url)}: {exc}") from exc

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
            rows = self._duck.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY 1"
            ).fetchall()
            return [r[0] for r in rows]
        import sqlalchemy as sa

        insp = sa.inspect(self._engine)
        return sorted(insp.get_table_names() + insp.get_view_names())

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> database type name, for one table."""
        _ident(table)
        if self._duck is not None:
            rows = self._duck.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            return {r[0]: str(r[1]).upper() for r in rows}
        import sqlalchemy as sa

        insp = sa.inspect(self._engine)
        return {c["name"]: str(c["type"]).upper() for c in insp.get_columns(table)}

    # -- reading ---------------------------------------------------------------------------

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one SELECT with `:name` bound parameters and return a DataFrame."""
        params = params or {}
        if self._duck is not None:
            duck_sql = _NAMED.sub(lambda m: m.group(1) or "$" + m.group(2), sql)
            return self._duck.execute(duck_sql, params).df()
        import sqlalchemy as sa

        with self._engine.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn, params=params)

    def read_table(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        *,
        account_ids: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Read `columns` of `table`, optionally only rows of the given accounts (bound)."""
        cols = ", ".join(_quote(_ident(c)) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM {_quote(_ident(table))}"
        if account_ids is None:
            return self.query(sql)
        ids = list(account_ids)
        if not ids:
            return self.query(sql + " WHERE 1 = 0")
        if self._duck is not None:
            return self._duck.execute(
                sql + " WHERE account_id IN (SELECT unnest($ids))", {"ids": ids}
            ).df()
        import sqlalchemy as sa

        stmt = sa.text(sql + " WHERE account_id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        with self._engine.connect() as conn:
            return pd.read_sql_query(stmt, conn, params={"ids": ids})

    # -- writing ---------------------------------------------------------------------------

    def write_table(
        self, table: str, df: pd.DataFrame, types: dict[str, str] | None = None
    ) -> None:
        """Create or replace `table` from `df`; `types` maps columns to logical schema types."""
        if self.read_only:
            raise WarehouseError(f"warehouse {self.display_url} is open read-only")
        _ident(table)
        types = types or (
            {c.name: c.type for c in schema.TABLES[table].columns} if table in schema.TABLES else {}
        )
        for c in df.columns:
            _ident(c)
        if self._duck is not None:
            select = ", ".join(
                f"CAST({_quote(c)} AS {_DUCK_TYPES[types[c]]}) AS {_quote(c)}"
                if c in types
                else _quote(c)
                for c in df.columns
            )
            self._duck.register("_vr_incoming", df)
            try:
                self._duck.execute(
                    f"CREATE OR REPLACE TABLE {_quote(table)} AS SELECT {select} FROM _vr_incoming"
                )
            finally:
                self._duck.unregister("_vr_incoming")
            return
        dtype = {c: _sqlalchemy_type(t) for c, t in types.items() if c in df.columns}
        with self._engine.begin() as conn:
            if self.kind == "postgresql" and self._engine.dialect.driver == "psycopg2":
                # Create the typed table, then stream the rows with COPY: far faster than
                # INSERTs for the demo's hundreds of thousands of usage rows.
                df.head(0).to_sql(table, conn, if_exists="replace", index=False, dtype=dtype)
                _copy_into(conn, table, df)
            else:
                df.to_sql(table, conn, if_exists="replace", index=False, dtype=dtype,
                          method="multi", chunksize=2000)


def _copy_into(conn, table: str, df: pd.DataFrame) -> None:
    """COPY `df` into an existing PostgreSQL table as CSV; missing values travel as \\N, so
    an empty string stays an empty string."""
    import io

    buf = io.StringIO()
    df.to_csv(buf, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S")
    buf.seek(0)
    cols = ", ".join(_quote(c) for c in df.columns)
    cursor = conn.connection.driver_connection.cursor()
    cursor.copy_expert(
        f"COPY {_quote(table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)


def _quote(name: str) -> str:
    return f'"{name}"'


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
