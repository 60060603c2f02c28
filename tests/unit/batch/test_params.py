"""Parameters are data with types: what `params/` may hold, how `render` refuses the rest
(exit 2, naming file, key and line, nothing rendered), and the injected-parameters cell."""

from __future__ import annotations

import ast
import json
import math
import shutil
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_notebook
from support import PORTFOLIO_ID, ROOT, QuarterLayout, valuereview

from valuelib.render.inject import ParameterValueError, parameterize, parameters_source

# --- render refuses params files that are not plain, typed data ------------------------------


def _params(tmp_path: Path) -> Path:
    """A copy of the project's params/ to break."""
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    return params


def _render(demo_db: Path, tmp_path: Path, params: Path, *args: str):
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(demo_db), "--out", str(out), "--params",
                      str(params), "--accounts", "ACC-0001", "--formats", "html", *args)
    return run, out


def _nothing_rendered(run, out: Path) -> None:
    assert run.code == 2, run.stderr
    assert "Traceback" not in run.stderr and "nothing rendered" in run.stderr
    assert not out.exists() or not list(out.rglob("*.html"))


def test_a_set_tag_cannot_run_code_in_the_injected_cell(demo_db, tmp_path):
    target = tmp_path / "ran"
    payload = f'"+str(open({str(target)!r},"w").write("ran"))+"'
    params = _params(tmp_path)
    (params / "accounts" / "ACC-0001.yaml").write_text(
        f"prepared_for: !!set {{{json.dumps(payload)}: null}}\n", encoding="utf-8")
    run, out = _render(demo_db, tmp_path, params, "--no-portfolio")
    _nothing_rendered(run, out)
    assert not target.exists(), "the YAML value ran as code"
    assert "ACC-0001.yaml: line 1: prepared_for: YAML tag !!set is not allowed" in run.stderr


@pytest.mark.parametrize("value, message", [
    ("!!binary aGVsbG8=", "YAML tag !!binary is not allowed"),
    ("!!python/object:os.system {}", "YAML tag !!python/object:os.system is not allowed"),
    ("2026-09-30", "an unquoted date or time is not allowed; quote it"),
    ("[ok, {nested: 2026-09-30 10:00:00}]", "an unquoted date or time is not allowed"),
    (".nan", "nan is not a finite number"),
])
def test_values_that_are_not_plain_data_exit_2(demo_db, tmp_path, value, message):
    params = _params(tmp_path)
    (params / "accounts" / "ACC-0001.yaml").write_text(
        f"# who the review is for\nprepared_for: {value}\n", encoding="utf-8")
    run, out = _render(demo_db, tmp_path, params, "--no-portfolio")
    _nothing_rendered(run, out)
    assert "ACC-0001.yaml: line 2: prepared_for" in run.stderr
    assert message in run.stderr


@pytest.mark.parametrize("yaml_text, message", [
    ("health_weights: abc\n",
     "defaults.yaml: line 1: health_weights: expected a mapping of each health component "
     "(adoption, value, nps, support) to a non-negative weight, got 'abc' (text)"),
    ("health_weights: {adoption: 0.3, value: 0.3, nps: 0.2, support: 0.2, vibes: 1}\n",
     "health_weights: expected a mapping of each health component (adoption, value, nps, "
     "support) to a non-negative weight, got {'adoption': 0.3, 'value': 0.3, 'nps': 0.2, "
     "'support': 0.2, 'vibes': 1} (a mapping): unknown key 'vibes'"),
    ("health_weights:\n  adoption: 0.3\n  value: 0.3\n  nps: -0.2\n  support: 0.2\n",
     "defaults.yaml: line 4: health_weights.nps: expected a non-negative number, "
     "got -0.2 (a number)"),
    ("review_impact_clip: banana\n",
     "defaults.yaml: line 1: review_impact_clip: expected a list of two numbers [low, high], "
     "low <= high, got 'banana' (text)"),
    ("review_impact_clip: [50, -50]\n",
     "review_impact_clip: expected a list of two numbers [low, high], low <= high, "
     "got [50, -50] (a list): low end 50 is above high end -50"),
    ("review_impact_clip: [-50, fifty]\n",
     "review_impact_clip[1]: expected a number, got 'fifty' (text)"),
    ("vendor_name: 42\n", "defaults.yaml: line 1: vendor_name: expected text, got 42"),
    ("prepared_by:\n", "prepared_by: expected text, got None (null)"),
])
def test_wrong_types_in_defaults_exit_2(demo_db, tmp_path, yaml_text, message):
    params = _params(tmp_path)
    (params / "defaults.yaml").write_text(yaml_text, encoding="utf-8")
    run, out = _render(demo_db, tmp_path, params, "--no-portfolio", "--audience", "internal")
    _nothing_rendered(run, out)
    assert message in run.stderr


def test_wrong_types_in_portfolio_params_exit_2(demo_db, tmp_path):
    params = _params(tmp_path)
    text = (params / "portfolio.yaml").read_text(encoding="utf-8")
    (params / "portfolio.yaml").write_text(text.replace("GEL: 0.37", "GEL: lari"),
                                           encoding="utf-8")
    run, out = _render(demo_db, tmp_path, params)
    _nothing_rendered(run, out)
    assert "portfolio.yaml: line 11: fx_rates.GEL: expected a number, got 'lari' (text)" \
        in run.stderr


@pytest.mark.parametrize("name, message", [
    ("ACC-9999.yaml", "ACC-9999.yaml: the warehouse has no account 'ACC-9999', so this file "
                      "would be ignored"),
    ("acc-0002.yaml", "acc-0002.yaml: the warehouse has no account 'acc-0002', so this file "
                      "would be ignored (name it <account_id>.yaml); did you mean ACC-0002 "
                      "(ACC-0002.yaml)?"),
])
def test_a_params_file_for_no_account_exits_2(demo_db, tmp_path, name, message):
    params = _params(tmp_path)
    (params / "accounts" / name).write_text("prepared_for: the board\n", encoding="utf-8")
    run, out = _render(demo_db, tmp_path, params, "--no-portfolio")
    _nothing_rendered(run, out)
    assert message in run.stderr


@pytest.mark.slow
def test_the_demo_params_render_with_our_injected_cell(demo_db, tmp_path):
    """The project's own params, the example per-account file, and a file for an account this
    run does not select."""
    params = _params(tmp_path)
    shutil.copy(ROOT / "examples" / "params" / "accounts" / "ACC-0001.yaml",
                params / "accounts" / "ACC-0001.yaml")
    (params / "accounts" / "ACC-0003.yaml").write_text("prepared_for: the board\n",
                                                       encoding="utf-8")
    run, out = _render(demo_db, tmp_path, params)
    assert run.code == 0, run.stderr
    layout = QuarterLayout(out, next(p for p in out.iterdir() if p.is_dir()).name)
    html = layout.path("customer", "ACC-0001", "value-review.html").read_text(encoding="utf-8")
    assert "Executive sponsor and operations leadership" in html
    assert layout.path("customer", PORTFOLIO_ID, "portfolio-review.html").is_file()
    nb = nbformat.read(layout.path("customer", "ACC-0001", "value-review.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "prepared_for = 'Executive sponsor and operations leadership'" in cell.source
    assert "review_impact_clip = [-50, 50]" in cell.source


# --- the injected-parameters cell -------------------------------------------------------------

HOSTILE = ['"', "'", '"""', "'''", '"+str(1/0)+"', "'+__import__('os').getcwd()+'", "\\",
           "\\'", '\\"', "\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x00",
           "#", "\t", ")", "]", "}", "{x}", "%s", "$(id)", "é", "\U0001f600", "\ufeff"]

texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=5), max_size=6).map("".join),
    st.text(),
)
plain = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: not __import__("keyword").iskeyword(n))


def _same(a: object, b: object) -> bool:
    """Equal with the same types all the way down (1 is not True, 1.0 is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@settings(deadline=None, max_examples=200, database=None)
@given(st.dictionaries(names, plain, max_size=6))
def test_injected_cell_is_only_assignments_of_the_given_literals(parameters):
    tree = ast.parse(parameters_source(parameters))
    assert len(tree.body) == len(parameters)
    for node, (name, value) in zip(tree.body, parameters.items(), strict=True):
        assert isinstance(node, ast.Assign) and len(node.targets) == 1
        assert isinstance(node.targets[0], ast.Name) and node.targets[0].id == name
        assert _same(ast.literal_eval(node.value), value)


def test_injected_cell_goes_after_the_parameters_cell_as_papermill_puts_it():
    nb = new_notebook(cells=[new_code_cell("import os"), new_code_cell("x = 1"),
                             new_code_cell("print(x)")])
    nb.cells[1].metadata["tags"] = ["parameters"]
    once = parameterize(nb, {"x": 2})
    twice = parameterize(once, {"x": "three"})
    assert [c.metadata.get("tags", []) for c in twice.cells] == [
        [], ["parameters"], ["injected-parameters"], []]
    assert twice.cells[2].source == "# Parameters\nx = 'three'\n"
    assert twice.metadata.papermill.parameters == {"x": "three"}


@pytest.mark.parametrize("value", [
    {"a"}, b"bytes", __import__("datetime").date(2026, 9, 30), float("nan"), float("inf"),
    ["ok", object()], {1: "key not text"}, "\ud800",
])
def test_injected_cell_refuses_what_is_not_plain_data(value):
    with pytest.raises(ParameterValueError):
        parameters_source({"prepared_for": value})


@pytest.mark.parametrize("name", ["import os; x", "class", "1x", ""])
def test_injected_cell_refuses_names_that_are_not_identifiers(name):
    with pytest.raises(ParameterValueError, match="not a Python identifier"):
        parameters_source({name: 1})
