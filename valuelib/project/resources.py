"""Where the review template, the notebooks and the default parameters come from.

A project folder's own copies win, so analysts edit them in place; outside any project the
copies packaged with valuelib are used. The project folder is the nearest of the working
directory and its parents holding `templates/valuereview/`, `notebooks/value_review.ipynb`
or `params/defaults.yaml`, else the checkout valuelib runs from. There, `templates/valuereview/`,
`notebooks/` (when it holds value_review.ipynb) and `params/` each replace the packaged copy.

The packaged copies are the repository's root folders: pyproject.toml maps them into the
wheel as `valuelib/_resources/<folder>/`; a checkout (or an editable install) reads them where
they are. `valuereview render`, the batch's workers and the nbconvert exporters all ask here.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

#: The folders a project may override: the nbconvert templates, the notebooks, the params.
KINDS = ("templates", "notebooks", "params")
#: The template (a folder of the templates folder) the reviews use.
TEMPLATE_NAME = "valuereview"
#: What a folder must hold to be a project folder: any one of these.
PROJECT_MARKERS = (
    Path("templates", TEMPLATE_NAME),
    Path("notebooks", "value_review.ipynb"),
    Path("params", "defaults.yaml"),
)
#: What in a project folder replaces each packaged folder, when it exists.
_OWN = {
    "templates": Path("templates", TEMPLATE_NAME),
    "notebooks": Path("notebooks", "value_review.ipynb"),
    "params": Path("params"),
}
#: Where a source checkout keeps the folders (the parent of the valuelib package).
_CHECKOUT = Path(__file__).resolve().parents[2]


def is_project(folder: Path) -> bool:
    """Whether `folder` holds any of a project's own template, notebooks or parameters."""
    return any((folder / marker).exists() for marker in PROJECT_MARKERS)


def project_root(start: Path | None = None) -> Path | None:
    """The project folder: the nearest of `start` (the working directory) and its parents
    that is a project, else the checkout valuelib runs from if it is one, else None."""
    try:
        here = (start or Path.cwd()).resolve()
    except OSError:  # the working directory was removed: no project of its own
        here = None
    for folder in (here, *here.parents) if here else ():
        if is_project(folder):
            return folder
    return _CHECKOUT if is_project(_CHECKOUT) else None


def packaged(kind: str) -> Path:
    """The copy of `kind` shipped with valuelib: the wheel's `valuelib/_resources/<kind>`,
    or in a checkout (or editable install) the root folder it is built from."""
    if kind not in KINDS:
        raise ValueError(f"unknown resource folder {kind!r}; one of {', '.join(KINDS)}")
    shipped = importlib.resources.files("valuelib") / "_resources" / kind
    if not isinstance(shipped, Path):
        raise RuntimeError(f"valuelib is installed in an archive ({shipped}); its templates "
                           "and notebooks need it installed as files (pip install the wheel)")
    if not shipped.is_dir() and (_CHECKOUT / kind).is_dir():
        return _CHECKOUT / kind
    return shipped


def folder(kind: str, start: Path | None = None) -> Path:
    """The `kind` folder to use (templates, notebooks or params): the project's own when it
    has one (see the module docstring), else the packaged copy."""
    if kind not in KINDS:
        raise ValueError(f"unknown resource folder {kind!r}; one of {', '.join(KINDS)}")
    root = project_root(start)
    if root is not None and (root / _OWN[kind]).exists():
        return root / kind
    return packaged(kind)
