"""A render's fingerprint: one SHA-256 over everything any of its documents' cache keys is made
of, taken before the warehouse is opened, so a re-run on the same inputs can find every
document unchanged without importing pandas, reading the warehouse or extracting.

It covers the DuckDB file's bytes (a warehouse behind any other URL, a file beside a write-ahead
log, or a file that cannot be read has no fingerprint: the run takes the normal path), the
options that shape the documents, the notebooks, the params folder, the compiled catalogs, the
installed distributions and `plan.shared_code_hash` (valuelib's version and source, the
template, the fonts, the rendering libraries, the PDF engine and the browser's version). See
docs/architecture.md "Cache key".
"""

from __future__ import annotations

import hashlib
import json
import os
import site
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from valuelib.batch import plan
from valuelib.data import location
from valuelib.project import resources
from valuelib.report import i18n

if TYPE_CHECKING:
    from valuelib.batch.run import Options

#: What DuckDB names the write-ahead log of `file`: `file.wal`. Changes not yet checkpointed
#: into the file live there, so the file's bytes alone do not say what the warehouse holds.
WAL_SUFFIX = ".wal"
#: Bytes read at a time while hashing the warehouse file.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Sources:
    """The files a run reads besides the warehouse: its notebooks and its params folder."""

    notebook: Path
    portfolio_notebook: Path
    params_dir: Path


def sources(opts: Options) -> Sources:
    """The notebooks and params folder `opts` names, else the project's, else the packaged."""
    nb_dir = opts.notebooks or resources.folder("notebooks")
    return Sources(nb_dir / plan.NOTEBOOK, nb_dir / plan.PORTFOLIO_NOTEBOOK,
                   opts.params_dir or resources.folder("params"))


def warehouse_digest(db: str | None) -> dict[str, str] | None:
    """The DuckDB warehouse file `db` resolves to and the SHA-256 of its bytes; None when there
    is no such fingerprint: another database, `:memory:`, no readable file, or a write-ahead
    log beside it (before or after the file was read)."""
    path = location.duckdb_path(location.resolve_url(db))
    if path is None:
        return None
    wal = path.with_name(path.name + WAL_SUFFIX)
    h = hashlib.sha256()
    try:
        if wal.exists() or not path.is_file():
            return None
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        if wal.exists():
            return None
        return {"file": str(path.resolve()), "sha256": h.hexdigest()}
    except OSError:
        return None


def installed() -> dict[str, object]:
    """The interpreter's version and every distribution installed where it imports libraries
    from (the names of their `.dist-info` and `.egg-info` folders: name and version). The
    bundles are read with libraries the keys do not name (DuckDB, NumPy, PyYAML), so any
    library installed, removed or upgraded makes the next run take the full path."""
    folders = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    folders.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        folders.add(site.getusersitepackages())
    found = {}
    for folder in sorted(folders):
        try:
            found[folder] = sorted(n for n in os.listdir(folder)
                                   if n.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return {"python": sys.version, "distributions": found}


def compute(opts: Options, engine: str, shared: str) -> str | None:
    """The fingerprint of a render with `opts`, its resolved PDF `engine` and its
    `plan.shared_code_hash`; None when the warehouse has none (`warehouse_digest`) or a
    source is missing."""
    src = sources(opts)
    warehouse = warehouse_digest(opts.db)
    if warehouse is None or not src.params_dir.is_dir():
        return None
    try:
        code = plan.code_hash(opts.root, src.notebook, engine, shared=shared)
        portfolio_code = (plan.code_hash(opts.root, src.portfolio_notebook, engine,
                                         shared=shared) if opts.portfolio else None)
    except OSError:
        return None
    payload = {
        "warehouse": warehouse,
        "options": {"quarter": opts.quarter, "accounts": opts.accounts,
                    "audience": opts.audience, "formats": list(opts.formats),
                    "locale": opts.locale, "portfolio": opts.portfolio,
                    "allow_incomplete_quarter": opts.allow_incomplete_quarter},
        "pdf_engine": engine,
        "code": code,
        "portfolio_code": portfolio_code,
        "params": plan.tree_hash(src.params_dir),
        "catalogs": plan.tree_hash(i18n.LOCALE_DIR, "*.mo"),
        "installed": installed(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
