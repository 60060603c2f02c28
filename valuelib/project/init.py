"""`valuereview init DIR`: a new team repository that renders with the installed valuereview.

It gets copies of the packaged notebooks and parameters (which then take precedence over the
packaged ones, see `valuelib.project.resources`), an empty `templates/` for a template override, a
Makefile (`make reports`, `make test`), a .gitignore, a requirements.txt pinning this version
of valuereview and a CI workflow that renders the quarter; the last four come from
`valuelib/project/scaffold/`.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path

import valuelib
from valuelib.data.bundle import write_atomic
from valuelib.project import resources

#: The packaged folders copied into a new repository, and which of their files (the same
#: globs as the package data in pyproject.toml).
COPIED = {"notebooks": "*.ipynb", "params": "**/*.yaml"}
#: A file of valuelib/project/scaffold/ → where it goes in the new repository.
SCAFFOLD = {
    "Makefile": "Makefile",
    "gitignore": ".gitignore",
    "reports.yml": ".github/workflows/reports.yml",
    "templates-README.md": "templates/README.md",
}


class InitError(ValueError):
    """The folder cannot be made a repository (not empty, or not a folder); names it."""


@dataclass
class InitResult:
    """What `init` did: files written, and (with `force`) files already there and kept."""

    root: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def files() -> dict[Path, bytes]:
    """Every file of a new repository, by its path in it."""
    out: dict[Path, bytes] = {}
    for kind, pattern in COPIED.items():
        src = resources.packaged(kind)
        for path in sorted(src.glob(pattern)):
            if path.is_file():
                out[Path(kind) / path.relative_to(src)] = path.read_bytes()
    scaffold = importlib.resources.files("valuelib.project") / "scaffold"
    for name, target in SCAFFOLD.items():
        out[Path(target)] = (scaffold / name).read_bytes()
    out[Path("requirements.txt")] = (
        "# The valuereview this repository was made with (a wheel's path or URL works too).\n"
        f"valuereview=={valuelib.__version__}\n"
    ).encode()
    return out


def init(dest: Path, *, force: bool = False) -> InitResult:
    """Write a new team repository into `dest` (created if missing).

    A non-empty `dest` is refused unless `force`; even then no file already there is
    replaced (it is listed in `kept`), so nobody's edited notebook is lost.
    """
    if dest.exists() and not dest.is_dir():
        raise InitError(f"{dest}: exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise InitError(f"{dest}: not empty; choose a new folder, or --force to add the "
                        "missing files (files already there are kept)")
    result = InitResult(dest)
    for rel, data in files().items():
        target = dest / rel
        if target.exists():
            result.kept.append(rel)
            continue
        write_atomic(target, data)
        result.written.append(rel)
    return result
