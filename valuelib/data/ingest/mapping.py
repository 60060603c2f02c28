"""The import mapping file: which export feeds which contract table, and how its columns map.

A mapping is YAML, validated here before anything is read; every error names the file and the
key (``tables.accounts.columns.segment.map``). The format is documented in docs/import.md.
YAML's 1.1 booleans are off: ``Yes``, ``No``, ``on`` and ``off`` stay text, so a value map
``{Yes: true}`` maps the text "Yes" (only ``true`` and ``false`` are booleans).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from valuelib.data import schema
from valuelib.data.ingest.arr import INTERVAL_MONTHS

__all__ = [
    "DERIVED",
    "FORMATS",
    "ColumnSpec",
    "Mapping",
    "MappingError",
    "TableSpec",
    "load",
    "target_table",
]

C = schema.Column
#: What `arr_history` can be derived from, and the columns each kind of line has.
DERIVED: dict[str, schema.Table] = {
    "subscriptions": schema.Table("subscription lines", (
        C("start", schema.DATE),
        C("end", schema.DATE, nullable=True),
        C("amount", schema.FLOAT, min=0),
        C("interval", schema.TEXT, choices=tuple(INTERVAL_MONTHS)),
        C("interval_count", schema.INT, nullable=True, min=1),
        C("quantity", schema.FLOAT, nullable=True, min=0),
    )),
    "invoices": schema.Table("invoice lines", (
        C("date", schema.DATE),
        C("amount", schema.FLOAT),
        C("period_start", schema.DATE, nullable=True),
        C("period_end", schema.DATE, nullable=True),
        C("interval", schema.TEXT, nullable=True, choices=tuple(INTERVAL_MONTHS)),
    )),
}
#: Source formats and the file endings that select them.
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".tsv", ".txt"),
    "parquet": (".parquet", ".pq"),
    "excel": (".xlsx", ".xlsm"),
    "json": (".json", ".jsonl", ".ndjson"),
}
#: Date formats that are not strftime patterns: seconds or milliseconds since 1970 (UTC).
EPOCH_FORMATS = ("unix", "unix_ms")

_TABLE_KEYS = {"source", "format", "sheet", "delimiter", "account", "columns", "keep",
               "derive", "as_of", "period_end", "date_format"}
_COLUMN_KEYS = {"from", "value", "map", "format", "scale", "default", "only_if"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


class MappingError(ValueError):
    """The mapping file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class ColumnSpec:
    """How one target column is filled: from a source column (or a nested field `a.b`), or a
    constant; then a value map, a date format or a scale, a default for missing values, and a
    condition on other source columns (`only_if`, else missing)."""

    source: str | None = None
    value: Any = None
    constant: bool = False
    map: dict[str, Any] | None = None
    format: str | None = None
    scale: float | None = None
    default: Any = None
    only_if: dict[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class TableSpec:
    """One contract table's import: its sources, account column and column mappings."""

    name: str
    sources: tuple[str, ...]
    account: str
    match: str | None = None
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    keep: dict[str, str] = field(default_factory=dict)
    format: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    derive: str | None = None
    as_of: date | None = None
    period_end_inclusive: bool = False


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file: its path and one TableSpec per contract table it fills."""

    path: Path
    tables: dict[str, TableSpec]

    @property
    def folder(self) -> Path:
        """Where relative sources (and, by default, the load report) are."""
        return self.path.parent


def target_table(spec: TableSpec) -> schema.Table:
    """The columns a table's rows are converted to: the contract's, or the billing lines'."""
    return DERIVED[spec.derive] if spec.derive else schema.TABLES[spec.name]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only true/false (YAML 1.2), never yes/no/on/off."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false"
                              r"|False|FALSE)$"), list("tTfF"))


def load(path: str | Path) -> Mapping:
    """Read and validate a mapping file; raise MappingError naming the file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc.strerror or exc}") from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise MappingError(f"{path}:{where} malformed YAML: "
                           f"{getattr(exc, 'problem', None) or exc}") from exc
    return _Validator(path).mapping(data)


class _Validator:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> MappingError:
        return MappingError(f"{self.path}: {key}: {problem}")

    def mapping(self, data: Any) -> Mapping:
        if not isinstance(data, dict):
            raise MappingError(f"{self.path}: expected a mapping with a `tables:` key, got "
                               f"{type(data).__name__}")
        unknown = set(data) - {"tables", "version"}
        if unknown:
            raise self.fail(sorted(map(str, unknown))[0], "unknown key (the file has `tables:`"
                            " and optionally `version: 1`)")
        if data.get("version", 1) != 1:
            raise self.fail("version", f"only version 1 is known, got {data['version']!r}")
        tables = data.get("tables")
        if not isinstance(tables, dict) or not tables:
            raise self.fail("tables", "give at least one contract table: "
                            + ", ".join(schema.TABLES))
        specs = {}
        for name, body in tables.items():
            if name not in schema.TABLES:
                raise self.fail(f"tables.{name}", "not a table of the data contract; choose from "
                                + ", ".join(schema.TABLES))
            specs[name] = self.table(name, body)
        for name, spec in specs.items():
            if spec.match and "accounts" in specs and spec.match not in specs["accounts"].keep:
                raise self.fail(f"tables.{name}.account.match",
                                f"{spec.match!r} is not a column the accounts import keeps; add "
                                f"it under tables.accounts.keep")
        return Mapping(self.path, specs)

    def table(self, name: str, body: Any) -> TableSpec:
        key = f"tables.{name}"
        if not isinstance(body, dict):
            raise self.fail(key, f"expected a mapping (source:, account:, columns:), got "
                            f"{type(body).__name__}")
        unknown = set(body) - _TABLE_KEYS
        if unknown:
            raise self.fail(f"{key}.{sorted(map(str, unknown))[0]}",
                            f"unknown key; a table takes {', '.join(sorted(_TABLE_KEYS))}")
        sources = body.get("source")
        if isinstance(sources, str):
            sources = [sources]
        if (not isinstance(sources, list) or not sources
                or not all(isinstance(s, str) and s.strip() for s in sources)):
            raise self.fail(f"{key}.source", "give a file, a folder or a glob (or a list of "
                            "them), relative to the mapping file")
        fmt = body.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise self.fail(f"{key}.format", f"{fmt!r}: choose from {', '.join(FORMATS)}")
        derive = body.get("derive")
        if derive is not None:
            if name != "arr_history":
                raise self.fail(f"{key}.derive", "only arr_history is derived (from "
                                "subscriptions or invoices)")
            if derive not in DERIVED:
                raise self.fail(f"{key}.derive", f"{derive!r}: choose from {', '.join(DERIVED)}")
        for opt in ("as_of", "period_end"):
            if opt in body and derive is None:
                raise self.fail(f"{key}.{opt}", "only for arr_history with derive:")
        as_of = body.get("as_of")
        if as_of is not None:
            as_of = self._date(f"{key}.as_of", as_of)
        period_end = body.get("period_end", "exclusive")
        if period_end not in ("exclusive", "inclusive"):
            raise self.fail(f"{key}.period_end", f"{period_end!r}: choose exclusive (the "
                            "period ends before this date) or inclusive (on it)")
        if "period_end" in body and derive != "invoices":
            raise self.fail(f"{key}.period_end", "only for derive: invoices")
        account, match = self.account(key, body.get("account"), name)
        target = DERIVED[derive] if derive else schema.TABLES[name]
        keep = self.keep(key, body.get("keep"), target)
        date_format = body.get("date_format")
        if date_format is not None:
            self._format(f"{key}.date_format", date_format)
        columns = self.columns(key, body.get("columns") or {}, target, date_format)
        if derive == "invoices" and "period_end" not in columns and "interval" not in columns:
            raise self.fail(f"{key}.columns", "invoice lines need period_end or interval (the "
                            "period each line covers)")
        for opt in ("sheet", "delimiter"):
            if opt in body and not isinstance(body[opt], str):
                raise self.fail(f"{key}.{opt}", "give text")
        return TableSpec(
            name=name, sources=tuple(s.strip() for s in sources), account=account, match=match,
            columns=columns, keep=keep, format=fmt, sheet=body.get("sheet"),
            delimiter=body.get("delimiter"), derive=derive, as_of=as_of,
            period_end_inclusive=period_end == "inclusive",
        )

    def account(self, key: str, value: Any, table: str) -> tuple[str, str | None]:
        k = f"{key}.account"
        if isinstance(value, str) and value:
            return value, None
        if isinstance(value, dict):
            unknown = set(value) - {"column", "match"}
            if unknown:
                raise self.fail(f"{k}.{sorted(map(str, unknown))[0]}",
                                "unknown key; account takes column and match")
            column, match = value.get("column"), value.get("match")
            if not isinstance(column, str) or not column:
                raise self.fail(f"{k}.column", "name the source column that identifies the "
                                "account")
            if match is not None:
                if table == "accounts":
                    raise self.fail(f"{k}.match", "the accounts table defines the ids; match "
                                    "is for the other tables")
                if not isinstance(match, str) or not _IDENT.match(match):
                    raise self.fail(f"{k}.match", "name a column of accounts (letters, digits, "
                                    "_)")
            return column, match
        raise self.fail(k, "name the source column holding the account id (or {column: ..., "
                        "match: <accounts column>} to join on another id)")

    def keep(self, key: str, value: Any, target: schema.Table) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{key}.keep", "map new warehouse column names to source columns")
        out = {}
        for col, src in value.items():
            if not isinstance(col, str) or not _IDENT.match(col):
                raise self.fail(f"{key}.keep.{col}", "a warehouse column name is letters, "
                                "digits and _ (not starting with a digit)")
            if col in target.column_names or col == "account_id":
                raise self.fail(f"{key}.keep.{col}", "is a contract column: map it under "
                                "columns:")
            if not isinstance(src, str) or not src:
                raise self.fail(f"{key}.keep.{col}", "name the source column")
            out[col] = src
        return out

    def columns(self, key: str, value: Any, target: schema.Table,
                date_format: str | None) -> dict[str, ColumnSpec]:
        k = f"{key}.columns"
        if not isinstance(value, dict):
            raise self.fail(k, "map contract columns to source columns or settings")
        names = [c for c in target.column_names if c != "account_id"]
        out: dict[str, ColumnSpec] = {}
        for col, body in value.items():
            if col == "account_id":
                raise self.fail(f"{k}.account_id", "the account id comes from `account:` of "
                                "the table")
            if col not in names:
                raise self.fail(f"{k}.{col}", f"not a column of {target.name}; its columns are "
                                + ", ".join(names))
            out[col] = self.column(f"{k}.{col}", body, target.column(col), date_format)
        for c in target.columns:
            if c.name == "account_id" or c.name in out:
                continue
            if not c.nullable and not _has_default(target, c.name):
                raise self.fail(f"{k}.{c.name}", f"{target.name} needs it: name the source "
                                "column, or give a constant with `value:`")
        return out

    def column(self, key: str, body: Any, col: schema.Column,
               date_format: str | None) -> ColumnSpec:
        if isinstance(body, str):
            body = {"from": body}
        if not isinstance(body, dict):
            raise self.fail(key, "give the source column's name, or a mapping with from:/value:")
        unknown = set(body) - _COLUMN_KEYS
        if unknown:
            raise self.fail(f"{key}.{sorted(map(str, unknown))[0]}",
                            f"unknown key; a column takes {', '.join(sorted(_COLUMN_KEYS))}")
        has_from, has_value = "from" in body, "value" in body
        if has_from == has_value and "default" not in body:
            raise self.fail(key, "give either from: (a source column) or value: (a constant)")
        if has_from and has_value:
            raise self.fail(key, "give from: or value:, not both")
        source = body.get("from")
        if has_from and (not isinstance(source, str) or not source):
            raise self.fail(f"{key}.from", "name the source column")
        vmap = body.get("map")
        if vmap is not None:
            if not isinstance(vmap, dict) or not vmap:
                raise self.fail(f"{key}.map", "map source values to contract values "
                                "(\"Closed Won\": completed)")
            vmap = {_text(k): v for k, v in vmap.items()}
        fmt = body.get("format", date_format if col.type in (schema.DATE, schema.TIMESTAMP)
                       else None)
        if "format" in body:
            if col.type not in (schema.DATE, schema.TIMESTAMP):
                raise self.fail(f"{key}.format", f"only for dates and timestamps; "
                                f"{col.name} is {col.type}")
            self._format(f"{key}.format", fmt)
        scale = body.get("scale")
        if scale is not None and (col.type not in (schema.FLOAT, schema.INT)
                                  or isinstance(scale, bool)
                                  or not isinstance(scale, int | float) or scale == 0):
            raise self.fail(f"{key}.scale", "a non-zero number, for numeric columns (0.01 turns "
                            "cents into units)")
        only_if = body.get("only_if")
        if only_if is not None:
            if not isinstance(only_if, dict) or not only_if:
                raise self.fail(f"{key}.only_if", "map source columns to the value (or list of "
                                "values) that keep this column; otherwise it is missing")
            only_if = {str(c): tuple(_text(v) for v in (vs if isinstance(vs, list) else [vs]))
                       for c, vs in only_if.items()}
        value = body.get("value", body.get("default") if not has_from else None)
        for what in ("value", "default"):
            if what in body and body[what] is not None and not isinstance(
                    body[what], str | int | float | bool | date):
                raise self.fail(f"{key}.{what}", "give text, a number, a boolean or a date")
        return ColumnSpec(
            source=source, value=value, constant=not has_from, map=vmap, format=fmt,
            scale=float(scale) if scale is not None else None,
            default=body.get("default"), only_if=only_if,
        )

    def _format(self, key: str, fmt: Any) -> None:
        if not isinstance(fmt, str) or not fmt:
            raise self.fail(key, "give a strftime pattern such as %d/%m/%Y, or unix / unix_ms")
        if fmt in EPOCH_FORMATS or fmt.lower() == "iso":
            return
        if "%" not in fmt:
            raise self.fail(key, f"{fmt!r} is not a strftime pattern (e.g. %d/%m/%Y, "
                            "%Y-%m-%d %H:%M), iso, unix or unix_ms")
        try:
            datetime(2026, 1, 2, 3, 4, 5).strftime(fmt)
        except ValueError as exc:
            raise self.fail(key, f"{fmt!r}: {exc}") from exc

    def _date(self, key: str, value: Any) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise self.fail(key, f"{value!r} is not a date like 2026-09-30") from exc


def _has_default(target: schema.Table, column: str) -> bool:
    """Line columns filled in when absent (interval count and quantity 1; period start =
    the invoice date)."""
    return target.name in ("subscription lines", "invoice lines") and column in (
        "interval_count", "quantity", "period_start", "period_end", "interval")


def _text(value: Any) -> str:
    """A value as the text a map or condition compares (1.0 -> "1", True -> "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
