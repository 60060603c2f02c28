"""health_weights: the notebooks default to None (the model's DEFAULT_WEIGHTS); a project's
params file may still set every weight, or null, and a wrong mapping is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ROOT

from valuelib.batch import params
from valuelib.model import health

NOTEBOOKS = [ROOT / "notebooks" / "value_review.ipynb",
             ROOT / "notebooks" / "portfolio_review.ipynb"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_default_to_the_models_weights(notebook: Path):
    assert params.notebook_parameters(notebook)["health_weights"].split("#")[0].strip() == "None"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("text, expected", [
    ("health_weights: {adoption: 0.4, value: 0.3, nps: 0.15, support: 0.15}\n",
     {"adoption": 0.4, "value": 0.3, "nps": 0.15, "support": 0.15}),
    ("health_weights: null\n", None),
    ("vendor_name: Acme\n", "absent"),
])
def test_a_params_file_may_set_the_weights_or_leave_them(tmp_path: Path, notebook: Path,
                                                          text: str, expected):
    path = tmp_path / "defaults.yaml"
    path.write_text(text, encoding="utf-8")
    data = params.load_file(path, params.notebook_parameters(notebook))
    assert data.get("health_weights", "absent") == expected


def test_a_params_file_with_a_component_missing_is_refused(tmp_path: Path):
    path = tmp_path / "defaults.yaml"
    path.write_text("health_weights: {adoption: 1}\n", encoding="utf-8")
    with pytest.raises(params.ParamsError, match="missing key 'value', 'nps', 'support'"):
        params.load_file(path, params.notebook_parameters(NOTEBOOKS[0]))


def test_no_params_file_repeats_the_default_weights():
    """The default weights are defined once, in model.health (documented in docs/metrics.md)."""
    for path in (ROOT / "params").rglob("*.yaml"):
        assert "health_weights:" not in "".join(
            line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.lstrip().startswith("#")), path
    assert health.COMPONENTS == tuple(health.DEFAULT_WEIGHTS)
