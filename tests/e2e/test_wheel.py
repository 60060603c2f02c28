"""valuereview works from a wheel as from a checkout: the template, notebooks and params ship
as package data, a project folder's own copies take precedence, `valuereview init` makes a
team repository.

The slow test builds the wheel offline, installs it into a new virtualenv outside the checkout
whose third-party packages come from this one's site-packages (a .pth file, so nothing is
downloaded and the checkout's editable install stays invisible), and runs the commands a new
user would in empty folders.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from support import ROOT, outside_make, pdf_pages, squash, valuereview

from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout
from valuelib.project import resources

#: What the wheel is built from (a copy, so no build/ or egg-info of the checkout enters it).
SOURCES = ("pyproject.toml", "README.md", "valuelib", "templates", "notebooks", "params")
ACCOUNTS = ("ACC-0001", "ACC-0008")


def _packages() -> tuple[list[str], dict[str, str]]:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    return conf["setuptools"]["packages"], conf["setuptools"]["package-dir"]


def test_every_package_of_valuelib_is_listed_for_the_wheel():
    listed, mapped = _packages()
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "valuelib").rglob("__init__.py")}
    assert found - set(listed) == set(), "pyproject.toml [tool.setuptools] packages"
    for package, folder in mapped.items():
        assert package in listed and (ROOT / folder).is_dir(), (package, folder)


def _project(root: Path, *, templates: bool = False, notebooks: bool = False,
             params: bool = False) -> Path:
    if templates:
        (root / "templates" / "valuereview").mkdir(parents=True)
    if notebooks:
        (root / "notebooks").mkdir(parents=True)
        (root / "notebooks" / "value_review.ipynb").write_text("{}")
    if params:
        (root / "params").mkdir(parents=True)
        (root / "params" / "defaults.yaml").write_text("vendor_name: x\n")
    return root


def test_a_project_folder_takes_precedence_over_the_packaged_copies(tmp_path):
    project = _project(tmp_path / "team", templates=True, notebooks=True, params=True)
    below = project / "notebooks" / "drafts"
    below.mkdir()
    for start in (project, below):
        assert resources.project_root(start) == project
        for kind in resources.KINDS:
            assert resources.folder(kind, start) == project / kind


def test_a_project_overrides_only_what_it_has(tmp_path):
    project = _project(tmp_path / "team", params=True)
    (project / "templates").mkdir()  # what `valuereview init` leaves: no valuereview/ in it
    assert resources.folder("params", project) == project / "params"
    for kind in ("templates", "notebooks"):
        assert resources.folder(kind, project) == resources.packaged(kind)


def test_outside_any_project_the_packaged_copies_are_used(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for kind in resources.KINDS:
        assert resources.folder(kind, empty) == resources.packaged(kind)
    assert (resources.packaged("templates") / "valuereview" / "index.html.j2").is_file()
    assert (resources.packaged("notebooks") / "value_review.ipynb").is_file()
    assert (resources.packaged("params") / "defaults.yaml").is_file()


def test_init_makes_a_team_repository(tmp_path):
    dest = tmp_path / "reviews"
    run = valuereview("init", str(dest), cwd=tmp_path)
    assert run.code == 0, run.stderr
    made = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert made == [".github/workflows/reports.yml", ".gitignore", "Makefile",
                    "notebooks/portfolio_review.ipynb", "notebooks/value_review.ipynb",
                    "params/defaults.yaml",
                    "params/portfolio.yaml", "requirements.txt", "templates/README.md"]
    for name in ("notebooks/value_review.ipynb", "params/defaults.yaml"):
        assert (dest / name).read_bytes() == (ROOT / name).read_bytes()
    assert resources.folder("notebooks", dest) == dest / "notebooks"
    assert resources.folder("templates", dest) == resources.packaged("templates")
    make = (dest / "Makefile").read_text()
    assert re.search(r"^reports:", make, re.M) and re.search(r"^test:", make, re.M)
    assert {"output/", "data/"} <= set((dest / ".gitignore").read_text().split())
    flow = (dest / ".github" / "workflows" / "reports.yml").read_text()
    for needle in ("VALUEREVIEW_DB: ${{ secrets.VALUEREVIEW_DB }}", "actions/cache@v4",
                   "name: value-reviews-to-send", "name: value-reviews-internal",
                   'valuereview render "${args[@]}"'):
        assert needle in flow
    assert "${{" not in flow.split("run: |", 1)[1].split("- uses:", 1)[0], \
        "inputs reach the script through env:, never spliced into it"


def test_init_refuses_a_non_empty_folder_unless_forced(tmp_path):
    dest = tmp_path / "reviews"
    (dest / "notebooks").mkdir(parents=True)
    mine = dest / "notebooks" / "value_review.ipynb"
    mine.write_text("the team's own notebook")
    run = valuereview("init", str(dest), cwd=tmp_path)
    assert run.code == 2
    assert run.stderr.strip() == (f"valuereview: error: {dest}: not empty; choose a new "
                                  "folder, or --force to add the missing files (files "
                                  "already there are kept)")
    assert sorted(p.name for p in dest.rglob("*")) == ["notebooks", "value_review.ipynb"]
    run = valuereview("init", str(dest), "--force", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert "kept notebooks/value_review.ipynb (already there)" in run.stdout
    assert mine.read_text() == "the team's own notebook"
    assert (dest / "Makefile").is_file() and (dest / "params" / "defaults.yaml").is_file()


# --------------------------------------------------------------------------------------------
# From a wheel, in a virtualenv of its own.
# --------------------------------------------------------------------------------------------


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 1200
         ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (
        f"{shlex.join(args)} in {cwd}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def _console_script(venv: Path, name: str) -> None:
    """A dependency's command in the new venv, run by its Python (as pip would write it)."""
    (ep,) = importlib.metadata.entry_points(group="console_scripts", name=name)
    module, _, attr = ep.value.partition(":")
    script = venv / "bin" / name
    script.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom {module} import "
                      f"{attr.split('.')[0]}\nsys.exit({attr}())\n")
    script.chmod(0o755)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """(venv, environment, wheel): valuereview installed from its wheel, nothing else."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info", "build")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=skip)
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", str(dist)], src, dict(os.environ))
    (wheel,) = dist.glob("valuereview-*.whl")

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], work, dict(os.environ))
    _run([str(venv / "bin" / "pip"), "install", "--no-deps", "--no-index", "-q", str(wheel)],
         work, dict(os.environ))
    # The dependencies: this venv's site-packages, as a plain path (its .pth files, among them
    # the checkout's editable install, are not processed).
    site = Path(_run([str(venv / "bin" / "python"), "-c",
                      "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     work, dict(os.environ)).stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "valuereview-test-deps.pth").write_text("".join(f"{p}\n" for p in deps))
    # Their Jupyter data files (nbconvert's base templates), which pip puts under the venv's
    # share/jupyter; not its kernelspecs: the fork-server provisioner needs none installed.
    shared = venv / "share" / "jupyter"
    shared.mkdir(parents=True)
    for item in (Path(sys.prefix) / "share" / "jupyter").iterdir():
        if item.name != "kernels":
            (shared / item.name).symlink_to(item)
    for name in ("jupyter", "jupyter-nbconvert"):
        _console_script(venv, name)

    env = {k: v for k, v in outside_make(dict(os.environ)).items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "VALUEREVIEW_DB")}
    here = {str(Path(sys.executable).parent), sysconfig.get_path("scripts")}
    path = [p for p in env.get("PATH", os.defpath).split(os.pathsep)
            if p and p not in here and not p.startswith(str(ROOT))]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    # No kernelspec of this machine's user either.
    env["JUPYTER_DATA_DIR"] = str(work / "jupyter-data")
    env["JUPYTER_CONFIG_DIR"] = str(work / "jupyter-config")
    return venv, env, wheel


@pytest.mark.slow
def test_the_wheel_carries_the_template_notebooks_and_params(wheel_venv):
    venv, env, wheel = wheel_venv
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "notebooks", "params"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                rel = path.relative_to(ROOT).as_posix()
                assert f"valuelib/_resources/{rel}" in names, rel
    for path in (ROOT / "valuelib").rglob("*.mo"):
        assert path.relative_to(ROOT).as_posix() in names
    where = _run([str(venv / "bin" / "python"), "-c",
                  "import valuelib, valuelib.project.resources as r; print(valuelib.__file__); "
                  "print(r.folder('templates')); print(r.project_root())"],
                 venv.parent, env).stdout.split("\n")
    assert Path(where[0]).is_relative_to(venv) and not Path(where[0]).is_relative_to(ROOT)
    assert where[1] == str(Path(where[0]).parent / "_resources" / "templates")
    assert where[2] == "None"


@pytest.mark.slow
def test_a_wheel_install_renders_and_exports_outside_any_checkout(wheel_venv, tmp_path):
    venv, env, _ = wheel_venv
    run = tmp_path / "empty"
    run.mkdir()
    _run(["valuereview", "demo-data"], run, env)
    _run(["valuereview", "render", "--accounts", ",".join(ACCOUNTS)], run, env)
    (quarter,) = (run / "output").iterdir()
    layout = QuarterLayout(run / "output", quarter.name)
    pages = {}
    for aid in ACCOUNTS:
        pages[aid] = pdf_pages(layout.path("customer", aid, "value-review.pdf"))
        metrics = json.loads(layout.path("customer", aid, "metrics.json").read_text())
        text = squash(" ".join(pages[aid]))
        assert len(pages[aid]) >= 5 and metrics["name"] in text, aid
        assert metrics["figures"]["utilisation"]["display"] in text, aid
    assert layout.path("customer", PORTFOLIO_ID, "portfolio-review.pdf").is_file()
    assert not (venv / "share" / "jupyter" / "kernels").exists(), \
        "kernels came from the fork-server provisioner, with no kernelspec installed"

    # nbconvert's exporter (an entry point of the wheel) on a notebook the batch executed.
    executed = layout.path("customer", "ACC-0001", "value-review.ipynb")
    assert executed == run / "output" / quarter.name / "internal" / "records" / "ACC-0001" / \
        "value-review.ipynb"
    _run(["jupyter", "nbconvert", "--to", "valuereview_pdf", str(executed),
          "--output-dir", str(run / "nbconvert")], run, env)
    again = pdf_pages(run / "nbconvert" / "value-review.pdf")
    metrics = json.loads(layout.path("customer", "ACC-0001", "metrics.json").read_text())
    text = squash(" ".join(again))
    assert len(again) == len(pages["ACC-0001"])
    assert metrics["name"] in text and metrics["figures"]["value_quarter"]["display"] in text


@pytest.mark.slow
def test_init_then_make_reports_renders_with_the_teams_params_and_template(wheel_venv,
                                                                              tmp_path):
    venv, env, _ = wheel_venv
    team = tmp_path / "reviews"
    _run(["valuereview", "init", str(team)], tmp_path, env)
    with (team / "params" / "defaults.yaml").open("a") as fh:
        fh.write('prepared_by: "Wheel Check Team"\n')
    # Override the template as templates/README.md says, then mark its stylesheet.
    readme = (team / "templates" / "README.md").read_text()
    (command,) = [line.strip() for line in readme.splitlines() if line.strip().startswith("cp ")]
    _run(["bash", "-c", command], team, env)
    css = team / "templates" / "valuereview" / "static" / "review.css"
    css.write_text(css.read_text() + "\n.wheel-check-marker { color: red; }\n")

    _run(["make", "reports", "ARGS=--accounts ACC-0001 --no-portfolio"], team, env)
    (quarter,) = (team / "output").iterdir()
    layout = QuarterLayout(team / "output", quarter.name)
    pdf = pdf_pages(layout.path("customer", "ACC-0001", "value-review.pdf"))
    assert "Wheel Check Team" in squash(pdf[0])
    html = layout.path("customer", "ACC-0001", "value-review.html").read_text()
    assert ".wheel-check-marker" in html

    # The exporter finds the same override from inside the team repository.
    executed = layout.path("customer", "ACC-0001", "value-review.ipynb")
    _run(["jupyter", "nbconvert", "--to", "valuereview_html", str(executed),
          "--output-dir", str(tmp_path / "nbc")], team / "notebooks", env)
    assert ".wheel-check-marker" in (tmp_path / "nbc" / "value-review.html").read_text()

    done = _run(["make", "test"], team, env)
    assert re.search(r"rendered\s*│\s*3\b", done.stdout), done.stdout
    for aid in ("ACC-0001", "ACC-0008"):
        smoke = QuarterLayout(team / "output" / "smoke", quarter.name)
        assert len(pdf_pages(smoke.path("customer", aid, "value-review.pdf"))) >= 5
