"""Where the warehouse is: the URL `--db`, $VALUEREVIEW_DB or the demo file names, and the file
of a DuckDB URL. Standard library only, so the batch can fingerprint a DuckDB warehouse without
importing the data libraries (`warehouse` re-exports these names).
"""

from __future__ import annotations

import os
from pathlib import Path

from valuelib.project import resources

__all__ = ["DEFAULT_DB", "ENV_VAR", "duckdb_path", "project_root", "resolve_url"]

DEFAULT_DB = "data/warehouse.duckdb"
ENV_VAR = "VALUEREVIEW_DB"
_DUCKDB = "duckdb://"


def project_root() -> Path:
    """The project folder (where `data/` lives; see `valuelib.project.resources`), else the working
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
        url = f"{_DUCKDB}/{url}"
    return url


def is_duckdb(url: str) -> bool:
    """Whether `url` names a DuckDB database (a file, or `:memory:`)."""
    return url.startswith(_DUCKDB)


def duckdb_path(url: str) -> Path | None:
    """The file a DuckDB URL names (``duckdb:///path`` or ``duckdb://path``); None for
    ``:memory:``, an empty path or a URL of another database."""
    if not is_duckdb(url):
        return None
    path = url[len(_DUCKDB) + 1:] if url.startswith(f"{_DUCKDB}/") else url[len(_DUCKDB):]
    return Path(path) if path and path != ":memory:" else None
