"""The render stage's public seams: papermill finds our engine through its entry point, and the
fork server preloads what the review notebooks import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from support import ROOT

from valuelib.render.kernels import forkserver


def test_papermill_finds_the_engine_by_its_entry_point_name():
    """A fresh interpreter that never imports valuelib gets our engine from papermill by name
    (the ``papermill.engine`` entry point in pyproject.toml, installed by `pip install -e .`)."""
    code = (
        "from papermill.engines import papermill_engines\n"
        "engine = papermill_engines.get_engine('valuereview')\n"
        "print(engine.__module__, engine.__qualname__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["valuelib.render.engine", "Engine"]
    from valuelib.render import engine

    assert engine.ENGINE_NAME == "valuereview"


def test_a_module_the_notebook_imports_is_preloaded(tmp_path: Path):
    """Whatever a notebook imports is in the preload list, named as a module (``from pkg
    import module`` counts the module; ``from module import name`` counts the module)."""
    nb = new_notebook(cells=[
        new_markdown_cell("import not_a_module"),
        new_code_cell("import json\nfrom valuelib.metrics import stats\n"
                      "from valuelib.report.fmt import Formatter\n%matplotlib inline"),
        new_code_cell("from valuelib.model import health, account as model\n"
                      "import surely_not_installed_anywhere\nfrom . import relative"),
    ])
    path = tmp_path / "review.ipynb"
    nbformat.write(nb, path)
    found = forkserver.notebook_imports([path])
    assert found == ["valuelib.model", "valuelib.model.health", "valuelib.model.account"]
    nb.cells[1].source = nb.cells[1].source.replace("%matplotlib inline", "")
    nbformat.write(nb, path)
    assert forkserver.notebook_imports([path]) == [
        "json", "valuelib.metrics", "valuelib.report.fmt", "valuelib.model",
        "valuelib.model.health", "valuelib.model.account"]


def test_the_preload_list_holds_the_review_notebooks_imports():
    """The list the fork server imports: the kernel machinery, then every module the packaged
    review notebooks import, e.g. the report package's chart module."""
    modules = forkserver.preload_modules()
    assert modules[:len(forkserver.KERNEL_PRELOAD)] == forkserver.KERNEL_PRELOAD
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert set(forkserver.notebook_imports(notebooks)) <= set(modules)
    assert {"valuelib.report.charts", "valuelib.report.blocks", "valuelib.model.account",
            "valuelib.report.portfolio"} <= set(modules)
    assert not set(forkserver.NEVER_PRELOAD) & set(modules)
