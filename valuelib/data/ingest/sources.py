"""Find and read export files: CSV, Parquet and JSON with DuckDB's readers, Excel with openpyxl.

Each row keeps where it came from: the file as the user named it and its line (CSV and JSON
lines: the line the record starts on, the header being line 1 of a CSV; an Excel sheet: the
row number; Parquet and a JSON array: the record's number, from 1).
"""

from __future__ import annotations

import csv
import glob
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from valuelib.data.warehouse import WarehouseError, read_file, sniff_csv
from valuelib.data.ingest.mapping import FORMATS, TableSpec

__all__ = ["SourceError", "SourceFile", "read", "resolve"]

#: Columns every read frame carries besides the file's own.
FILE, LINE = "__file", "__line"


class SourceError(ValueError):
    """An export file cannot be found or read; the message names the table and the file."""


@dataclass
class SourceFile:
    """One file of a table's import: its path, how it is shown in reports, and its format."""

    path: Path
    shown: str
    format: str
    delimiter: str = ","
    quote: str = '"'
    _lines: list[int] | None = field(default=None, repr=False)


def resolve(spec: TableSpec, base: Path, override: list[Path] | None = None,
            shown_from: Path | None = None) -> list[SourceFile]:
    """The files of one table: `override` (from the command line) or the spec's sources,
    relative to `base`; a folder means every file in it with a known ending; globs expand.
    """
    found: list[Path] = []
    patterns = [str(p) for p in override] if override else list(spec.sources)
    for pattern in patterns:
        p = Path(pattern).expanduser()
        if not p.is_absolute() and not override:
            p = base / p
        if any(ch in pattern for ch in "*?["):
            hits = sorted(Path(h) for h in glob.glob(str(p), recursive=True) if Path(h).is_file())
            if not hits:
                raise SourceError(f"tables.{spec.name}.source: {pattern!r} matches no file "
                                  f"(looked in {p.parent})")
            found.extend(hits)
        elif p.is_dir():
            hits = sorted(f for f in p.iterdir() if f.is_file() and _format_of(f, None))
            if not hits:
                raise SourceError(f"tables.{spec.name}.source: the folder {p} holds no .csv, "
                                  ".parquet, .xlsx or .json file")
            found.extend(hits)
        elif p.is_file():
            found.append(p)
        else:
            raise SourceError(f"tables.{spec.name}.source: no file or folder {p}")
    files = []
    for path in dict.fromkeys(found):
        fmt = _format_of(path, spec.format)
        if fmt is None:
            raise SourceError(f"tables.{spec.name}: {path}: unknown file type; name its "
                              f"format: with one of {', '.join(FORMATS)}")
        files.append(SourceFile(path, _shown(path, shown_from or base), fmt))
    return files


def _format_of(path: Path, declared: str | None) -> str | None:
    if declared:
        return declared
    suffix = path.suffix.lower()
    for fmt, endings in FORMATS.items():
        if suffix in endings:
            return fmt
    return None


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def read(src: SourceFile, spec: TableSpec) -> pd.DataFrame:
    """All rows of one file, as Python values (text for CSV), with FILE and LINE columns."""
    try:
        if src.format == "excel":
            df, lines = _read_excel(src.path, spec.sheet)
        else:
            quote = None
            if src.format == "csv":
                delimiter, quote = sniff_csv(src.path) if spec.delimiter is None else (
                    spec.delimiter, '"')
                src.delimiter, src.quote = delimiter, quote
                df = read_file(src.path, "csv", delimiter=delimiter, quote=quote)
            else:
                df = read_file(src.path, src.format)
            lines = None
    except WarehouseError as exc:
        raise SourceError(f"tables.{spec.name}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zip, XML and its own errors
        raise SourceError(f"tables.{spec.name}: {src.path}: cannot read it as {src.format}: "
                          f"{exc}") from exc
    df = df.reset_index(drop=True)
    df[FILE] = src.shown
    df[LINE] = lines if lines is not None else range(1, len(df) + 1)
    return df


def line_numbers(src: SourceFile, records: int) -> list[int]:
    """Where each record of a CSV or JSON-lines file starts (computed once, on demand, since
    only rejected rows need it); for other formats the record numbers already are lines."""
    if src._lines is not None:
        return src._lines
    lines = list(range(1, records + 1))
    if src.format == "csv":
        lines = []
        with open(src.path, newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.reader(fh, delimiter=src.delimiter, quotechar=src.quote)
            last = 0
            for row in reader:
                start, last = last + 1, reader.line_num
                if row and any(cell.strip() for cell in row):
                    lines.append(start)
        lines = lines[1:]  # the header
    elif src.format == "json":
        with open(src.path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if not text.lstrip().startswith("["):
            lines = [i for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) != records:
        lines = list(range(1, records + 1))
    src._lines = lines
    return lines


def _read_excel(path: Path, sheet: str | None) -> tuple[pd.DataFrame, list[int]]:
    """The first (or named) sheet: its first non-empty row is the header; empty rows skipped."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ValueError(f"no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        header: list[str] | None = None
        rows, lines = [], []
        for number, values in enumerate(ws.iter_rows(values_only=True), 1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if header is None:
                header = [str(v).strip() if v is not None else f"column{i + 1}"
                          for i, v in enumerate(values)]
                continue
            rows.append([_cell(v) for v in values[:len(header)]]
                        + [None] * (len(header) - len(values)))
            lines.append(number)
    finally:
        wb.close()
    return pd.DataFrame(rows, columns=header or [], dtype=object), lines


def _cell(v: object) -> object:
    """An Excel cell as the value a CSV reader would give: dates as dates, text stripped."""
    if isinstance(v, datetime):
        return v.date() if v.time() == time(0) else v
    if isinstance(v, date | int | float | bool) or v is None:
        return v
    return str(v)
