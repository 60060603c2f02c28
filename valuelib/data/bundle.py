"""Account bundles: one small JSON file per account holding only that account's rows.

A notebook receives a bundle path and nothing else, so it cannot read another customer's data
and needs no database connection. The file is canonical JSON (sorted keys, fixed separators),
so its SHA-256 is a stable content hash for the render cache.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuelib.data import schema
from valuelib.data.files import sha256, write_atomic  # noqa: F401 - re-exported

FORMAT_VERSION = 1


@dataclass
class Bundle:
    """An account's (or the portfolio's) data for one quarter, as DataFrames."""

    kind: str  # "account" or "portfolio"
    quarter: str
    as_of: dt.date
    audience: str
    tables: dict[str, pd.DataFrame]
    account: dict[str, Any] = field(default_factory=dict)
    peers: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    path: str = ""
    #: The tables the warehouse provided (present with rows, decided once by the extract);
    #: the parts of a review built from any other table are left out.
    provided: frozenset[str] = frozenset(schema.TABLES)

    @property
    def account_id(self) -> str:
        return str(self.account.get("account_id", ""))

    def provides(self, name: str) -> bool:
        """Whether the warehouse provided table `name` (for any account)."""
        return name in self.provided

    def table(self, name: str) -> pd.DataFrame:
        """The bundle's rows of `name` (an empty frame with the contract's columns if absent)."""
        if name in self.tables:
            return self.tables[name]
        cols = schema.TABLES[name].column_names if name in schema.TABLES else []
        return pd.DataFrame(columns=cols)


def cell(v: Any) -> Any:
    """A JSON-safe scalar: dates as ISO strings, NaN/NaT as null, numpy scalars as Python."""
    if v is None:
        return None
    if type(v) is str:
        return v
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.date().isoformat()
        return v.isoformat()
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "item"):
        return cell(v.item())
    return v


def _column_cells(s: pd.Series) -> list[Any]:
    """`cell` applied to a whole column, vectorised for the common dtypes (same values)."""
    kind = s.dtype.kind
    if kind == "M" and getattr(s.dtype, "tz", None) is None:
        midnight = s.isna() | (s == s.dt.normalize())
        values = s.to_numpy(dtype="datetime64[ns]")
        if bool(midnight.all()):
            text = np.datetime_as_string(values, unit="D").tolist()
            return [None if v == "NaT" else v for v in text] if s.hasnans else text
        if not bool((s.isna() | (s == s.dt.floor("s"))).all()):
            return [cell(v) for v in s]  # fractions of a second: Timestamp.isoformat's forms
        # Whole seconds: a date at midnight, else Timestamp.isoformat()'s YYYY-MM-DDTHH:MM:SS.
        days = np.datetime_as_string(values, unit="D").tolist()
        times = np.datetime_as_string(values, unit="s").tolist()
        return [None if t == "NaT" else d if m else t
                for d, t, m in zip(days, times, midnight.tolist(), strict=True)]
    if kind == "f":
        values = s.tolist()
        return [None if v != v else v for v in values] if s.hasnans else values
    if kind in "iub" and not s.hasnans:
        return s.tolist()
    values = s.astype(object).tolist()
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # text only, no missing
        return values
    return [cell(v) for v in values]


def frame_to_json(df: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as {"columns": [...], "rows": [[...], ...]} with JSON-safe cells."""
    cols, rows = frame_to_rows(df)
    return {"columns": cols, "rows": [list(r) for r in rows]}


def frame_to_rows(df: pd.DataFrame) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A DataFrame's column names and its rows as tuples of JSON-safe cells (`frame_to_json`'s
    cells; JSON writes a tuple as it writes a list, so a bundle need not copy each row)."""
    cols = [str(c) for c in df.columns]
    columns = [_column_cells(df.iloc[:, i]) for i in range(df.shape[1])]
    if not columns:
        return cols, [() for _ in range(len(df))]
    return cols, list(zip(*columns, strict=True))


def frame_to_columns(df: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as {"columns": [...], "data": [[column values], ...]}: the same cells as
    `frame_to_json`, column by column, which is far quicker to write and read for large
    tables (the portfolio bundle's)."""
    return {"columns": [str(c) for c in df.columns],
            "data": [_column_cells(df.iloc[:, i]) for i in range(df.shape[1])]}


def frame_from_json(name: str, payload: dict[str, Any]) -> pd.DataFrame:
    """Rebuild a table (from `frame_to_json` or `frame_to_columns`), giving contract columns
    their types (dates become datetime64)."""
    if "data" in payload:
        df = pd.DataFrame(dict(zip(payload["columns"], payload["data"], strict=True)),
                          columns=payload["columns"])
    else:
        df = pd.DataFrame(payload["rows"], columns=payload["columns"])
    table = schema.TABLES.get(name)
    if table is None:
        return df
    for col in table.columns:
        if col.name not in df.columns:
            continue
        if col.type in (schema.DATE, schema.TIMESTAMP):
            df[col.name] = pd.to_datetime(df[col.name], errors="raise")
        elif col.type == schema.FLOAT:
            df[col.name] = pd.to_numeric(df[col.name], errors="raise").astype("float64")
        elif col.type == schema.INT:
            values = pd.to_numeric(df[col.name], errors="raise")
            df[col.name] = values.astype("Int64") if col.nullable else values.astype("float64")
        elif col.type == schema.BOOL:
            df[col.name] = df[col.name].astype("boolean")
        else:
            df[col.name] = df[col.name].astype("object")
    return df


def dumps(payload: dict[str, Any]) -> bytes:
    """Canonical JSON bytes, so equal content gives equal hashes."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def from_bytes(data: bytes, path: str = "") -> Bundle:
    """Parse a bundle from its canonical bytes."""
    payload = json.loads(data)
    if payload.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"bundle {path or '<bytes>'} has format {payload.get('format')!r}, "
            f"expected {FORMAT_VERSION}; re-run the extract"
        )
    tables = {name: frame_from_json(name, t) for name, t in payload["tables"].items()}
    return Bundle(
        kind=payload["kind"],
        quarter=payload["quarter"],
        as_of=dt.date.fromisoformat(payload["as_of"]),
        audience=payload["audience"],
        tables=tables,
        account=payload.get("account") or {},
        peers=payload.get("peers") or {},
        extra=payload.get("extra") or {},
        sha256=sha256(data),
        path=path,
        provided=(frozenset(payload["provided"]) if "provided" in payload
                  else frozenset(schema.TABLES)),
    )


def load(path: str | os.PathLike[str]) -> Bundle:
    """Load a bundle file written by `valuelib.data.extract`."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"bundle not found: {p}")
    return from_bytes(p.read_bytes(), str(p))
