"""The notebooks as an analyst meets them: stored clean, and runnable top to bottom in plain
Jupyter with their default parameters (no papermill, no batch)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from support import ROOT

NOTEBOOKS = ["value_review.ipynb", "portfolio_review.ipynb"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_without_outputs_and_with_a_parameters_cell(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_top_to_bottom_with_its_defaults(name, demo_db, monkeypatch):
    # The defaults extract from the default warehouse; point it at the demo one.
    monkeypatch.setenv("VALUEREVIEW_DB", str(demo_db))
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells
                   for o in c.get("outputs", []))
    assert "Methodology" in html and "vr-cover" in html
