"""One import: read every table's exports, convert them, derive ARR, write the load report and
replace the tables in one transaction (all of them or, on any rejection or error, none)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from valuelib.data import schema
from valuelib.data.warehouse import Warehouse, WarehouseError, redact, resolve_url
from valuelib.data.ingest import arr
from valuelib.data.ingest.convert import AccountIndex, Rejected, convert
from valuelib.data.ingest.mapping import Mapping, MappingError, TableSpec, load
from valuelib.data.ingest.sources import (
    FILE,
    LINE,
    SourceError,
    SourceFile,
    line_numbers,
    read,
    resolve,
)

__all__ = ["ImportFailed", "ImportResult", "TableReport", "default_as_of", "run_import"]

REPORT_NAME = "import-report.json"


class ImportFailed(ValueError):
    """The import cannot run (bad mapping, missing file, bad arguments); nothing is written."""


@dataclass
class TableReport:
    """Per table: the files read, rows read, rejected and loaded (derived rows for ARR)."""

    table: str
    files: list[str]
    read: int = 0
    rejected: int = 0
    loaded: int = 0
    derived_from: str | None = None
    as_of: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """The table's entry in the load report."""
        d: dict[str, Any] = {"files": self.files, "rows_read": self.read,
                             "rows_rejected": self.rejected, "rows_loaded": self.loaded}
        if self.derived_from:
            d["derived_from"] = self.derived_from
            d["as_of"] = self.as_of.isoformat() if self.as_of else None
        return d


@dataclass
class ImportResult:
    """What an import did: per-table counts, every rejected row, whether it wrote, where the
    report is."""

    tables: dict[str, TableReport]
    rejected: list[Rejected]
    written: bool
    report_path: Path
    warehouse: str
    mapping: Path
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The load report (import-report.json)."""
        return {
            "mapping": str(self.mapping),
            "warehouse": self.warehouse,
            "written": self.written,
            "tables": {name: t.as_dict() for name, t in self.tables.items()},
            "rows_rejected": len(self.rejected),
            "rejected": [r.as_dict() for r in self.rejected],
            "notes": self.notes,
        }


def run_import(mapping_file: str | Path, sources: list[str] | None = None, *,
               db: str | None = None, allow_rejects: bool = False,
               report: str | Path | None = None) -> ImportResult:
    """Run one import. Rejected rows are reported; unless `allow_rejects`, any rejection means
    nothing is written. Raises ImportFailed (bad mapping or sources) or WarehouseError."""
    try:
        mapping = load(mapping_file)
    except MappingError as exc:
        raise ImportFailed(str(exc)) from exc
    base, overrides = _arguments(mapping, sources or [])
    report_path = Path(report) if report else mapping.folder / REPORT_NAME
    url = resolve_url(db)
    order = [t for t in schema.TABLES if t in mapping.tables]
    try:
        frames, files = {}, {}
        for name in order:
            spec = mapping.tables[name]
            files[name] = resolve(spec, base, overrides.get(name), shown_from=mapping.folder)
            frames[name] = _read_all(files[name], spec)
        accounts = _accounts_index(mapping, frames, url)
        tables: dict[str, TableReport] = {}
        rejected: list[Rejected] = []
        out: dict[str, tuple[pd.DataFrame, dict[str, str]]] = {}
        for name in order:
            spec = mapping.tables[name]
            accepted, bad = convert(frames[name], spec,
                                    accounts if name != "accounts" else None,
                                    _line_resolver(files[name], frames[name]))
            if name == "accounts":
                accounts = _index_from(accepted, mapping, {r.account for r in bad})
            rep = TableReport(name, [f.shown for f in files[name]], read=len(frames[name]),
                              rejected=len(bad))
            rejected.extend(bad)
            df = _derive(spec, accepted, rep) if spec.derive else _rows(spec, accepted)
            types = {c.name: c.type for c in schema.TABLES[name].columns}
            types.update(dict.fromkeys(spec.keep, schema.TEXT))
            out[name] = (df, types)
            rep.loaded = len(df)
            tables[name] = rep
    except SourceError as exc:
        raise ImportFailed(f"{mapping.path}: {exc}") from exc
    written = allow_rejects or not rejected
    result = ImportResult(tables, rejected, written, report_path, redact(url), mapping.path)
    if not written:
        for t in tables.values():
            t.loaded = 0
        result.notes.append(f"{len(rejected)} row(s) rejected: nothing was written; fix them, "
                            "or run again with --allow-rejects to load the other rows")
    else:
        with Warehouse(url, read_only=False) as wh:
            wh.replace_tables({name: (df, types) for name, (df, types) in out.items()})
    _write_report(result)
    return result


def _arguments(mapping: Mapping, sources: list[str]) -> tuple[Path, dict[str, list[Path]]]:
    """SOURCE arguments: TABLE=PATH gives a table its file(s); a folder is where the mapping's
    relative sources are looked up; a file goes to the table whose source pattern names it."""
    import fnmatch

    base = mapping.folder
    overrides: dict[str, list[Path]] = {}
    for arg in sources:
        table, sep, rest = arg.partition("=")
        if sep and table in schema.TABLES:
            if table not in mapping.tables:
                raise ImportFailed(f"{arg}: the mapping {mapping.path} has no table {table}")
            overrides.setdefault(table, []).append(Path(rest))
            continue
        path = Path(arg)
        if path.is_dir():
            base = path
            continue
        if not path.is_file():
            raise ImportFailed(f"{arg}: no such file or folder")
        owners = [name for name, spec in mapping.tables.items()
                  if any(fnmatch.fnmatch(path.name, Path(s).name) for s in spec.sources)]
        if len(owners) != 1:
            which = "no table's source" if not owners else "the sources of " + ", ".join(owners)
            raise ImportFailed(f"{arg}: matches {which} in {mapping.path}; say which table it "
                               f"feeds with TABLE={arg}")
        overrides.setdefault(owners[0], []).append(path)
    return base, overrides


def _read_all(files: list[SourceFile], spec: TableSpec) -> pd.DataFrame:
    frames = [read(f, spec) for f in files]
    if not frames:
        return pd.DataFrame(columns=[FILE, LINE])
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _line_resolver(files: list[SourceFile], df: pd.DataFrame):  # noqa: ANN202
    """(file, record number) -> the file's line, computed per file on first use."""
    by_shown = {f.shown: f for f in files}
    counts = df[FILE].value_counts().to_dict() if len(df) else {}

    def line_of(shown: str, record: int) -> int:
        src = by_shown.get(shown)
        if src is None or src.format not in ("csv", "json"):
            return record
        lines = line_numbers(src, int(counts.get(shown, 0)))
        return lines[record - 1] if 1 <= record <= len(lines) else record

    return line_of


def _index_from(accepted: pd.DataFrame, mapping: Mapping, rejected: set) -> AccountIndex:
    ids = set(accepted["account_id"])
    spec = mapping.tables["accounts"]
    by = {col: {str(v): a for v, a in zip(accepted[col], accepted["account_id"], strict=True)
                if v is not None} for col in spec.keep}
    return AccountIndex(ids, by, {r for r in rejected if r} - ids)


def _accounts_index(mapping: Mapping, frames: dict[str, pd.DataFrame],
                    url: str) -> AccountIndex | None:
    """The warehouse's accounts, for a mapping that does not import them itself."""
    if "accounts" in mapping.tables or not mapping.tables:
        return None
    matches = sorted({s.match for s in mapping.tables.values() if s.match})
    try:
        with Warehouse(url, read_only=True) as wh:
            if "accounts" not in wh.tables():
                raise ImportFailed(f"{mapping.path}: the mapping imports no accounts and the "
                                   f"warehouse {wh.display_url} has none: import accounts first")
            present = wh.columns("accounts")
            for m in matches:
                if m not in present:
                    raise ImportFailed(f"{mapping.path}: account.match {m!r}: the warehouse's "
                                       "accounts table has no such column")
            df = wh.read_table("accounts", ["account_id", *matches])
    except WarehouseError as exc:
        raise ImportFailed(f"{mapping.path}: the mapping imports no accounts and the "
                           f"warehouse's cannot be read ({exc}): import accounts first") from exc
    ids = {str(a) for a in df["account_id"] if a is not None}
    by = {m: {str(v): str(a) for v, a in zip(df[m], df["account_id"], strict=True)
              if v is not None and not pd.isna(v)} for m in matches}
    return AccountIndex(ids, by)


def _rows(spec: TableSpec, accepted: pd.DataFrame) -> pd.DataFrame:
    """The rows to write: contract columns (typed for the warehouse), then kept columns."""
    table = schema.TABLES[spec.name]
    df = pd.DataFrame({c: accepted[c] for c in [*table.column_names, *spec.keep]}, dtype=object)
    for c in table.columns:
        if c.type in (schema.DATE, schema.TIMESTAMP):
            df[c.name] = pd.to_datetime(df[c.name])
    return df.reset_index(drop=True)


def default_as_of(spec: TableSpec, lines: pd.DataFrame) -> date | None:
    """The last date the billing lines know of: the latest start (or invoice date) or the day
    before the latest end of a line that has ended. Set `as_of:` to say it instead."""
    if lines.empty:
        return None
    if spec.derive == "subscriptions":
        candidates = list(lines["start"]) + [e - timedelta(days=1) for e in lines["end"]
                                              if e is not None]
    else:
        candidates = list(lines["date"])
    return max(candidates)


def _derive(spec: TableSpec, accepted: pd.DataFrame, rep: TableReport) -> pd.DataFrame:
    rep.derived_from = spec.derive
    rep.as_of = spec.as_of or default_as_of(spec, accepted)
    if accepted.empty or rep.as_of is None:
        return pd.DataFrame({"account_id": [], "month": pd.to_datetime([]), "arr": []})
    lines = accepted.copy()
    if spec.derive == "subscriptions":
        history = arr.subscription_arr(lines, rep.as_of)
    else:
        history = arr.invoice_arr(lines, rep.as_of)
    history["month"] = pd.to_datetime(history["month"])
    return history.reset_index(drop=True)


def _write_report(result: ImportResult) -> None:
    """The report as JSON, written to a temporary name and then renamed."""
    path = result.report_path
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
