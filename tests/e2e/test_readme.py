"""The documentation as tests: every shell command in README.md and docs/*.md runs, as written,
in a fresh copy of the project, or is listed here with the reason it cannot run in a test.

Each fenced ``sh``/``bash`` block runs as one shell script in a temporary copy of the tracked
files, with these documented substitutions only:

- the project's virtualenv is shared (a symlink), and `make` is told not to rebuild it
  (``make -o .venv/.installed``): a test must not reinstall the environment it runs in;
- a warehouse URL in the docs (``postgresql://…@db.internal/…``) becomes the test's own
  PostgreSQL server, loaded with a small demo;
- account ids are the demo's;
- `make reports` finds a small demo warehouse, made first with the documented
  ``valuereview demo-data --accounts N`` (the default demo's 120 accounts would take most of
  the suite's time); that it builds the default demo when none exists is checked apart.

A block whose commands are not all known here fails the test: a new command is tested (or
given a reason) the day it is written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ROOT, QuarterLayout, outside_make, valuereview

pytestmark = pytest.mark.slow

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(sh|bash|shell|console)\n(.*?)^```", re.M | re.S)
DOC_DB = re.compile(r"postgresql://\S+@db\.internal/\S+")


def _commands(script: str) -> list[str]:
    """The commands of a shell block: comments dropped, continuation lines joined."""
    commands, pending = [], ""
    for raw in script.splitlines():
        line = re.sub(r"\s+#\s.*$", "", raw).rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        commands.append(" ".join((pending + line).split()))
        pending = ""
    return commands


def blocks() -> list[tuple[str, int, str]]:
    """(file, line, script) of every shell block in the documentation."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text[: m.start()].count("\n") + 1
            found.append((doc.relative_to(ROOT).as_posix(), line, m.group(2)))
    return found


@dataclass(frozen=True)
class Known:
    """How a documented command is tested: `run` (with the block), or skipped for `why`."""

    why: str = ""

    @property
    def run(self) -> bool:
        return not self.why


#: Every documented command, by its text (or a regex prefix for command families).
COMMANDS: dict[str, Known] = {
    "make reports": Known(),
    "make test": Known("in this checkout, the test suite itself: running it from inside the "
                       "suite would recurse (CI runs it: .ci/run ends with `make test`); in a "
                       "team repository made by valuereview init, run by tests/e2e/test_wheel.py"),
    "export VALUEREVIEW_DB=…": Known(),
    ".venv/bin/valuereview check-data": Known(),
    ".venv/bin/valuereview render": Known(),
    "make i18n": Known(),
    # "Your own data": three CSV files to rendered reviews.
    "make venv": Known(),
    "cp -r examples/quickstart my-team": Known(),
    "export VALUEREVIEW_DB=$PWD/my-team/warehouse.duckdb": Known(),
    ".venv/bin/valuereview import --mapping my-team/mapping.yaml": Known(),
    # "Installing from a wheel": needs the wheel installed in a virtualenv of its own.
    "valuereview init reviews": Known("run by tests/e2e/test_wheel.py, in a virtualenv installed "
                                      "from the built wheel, outside the checkout"),
    "cd reviews && make reports": Known("run by tests/e2e/test_wheel.py (the team repository made "
                                        "by valuereview init, from the wheel)"),
}


def _key(command: str) -> str:
    return DOC_DB.sub("…", command)


def test_every_documented_command_is_known():
    unknown = [f"{f}:{line}: {c}" for f, line, script in blocks() for c in _commands(script)
               if _key(c) not in COMMANDS]
    assert not unknown, "untested documentation commands (add them to COMMANDS):\n" + \
        "\n".join(unknown)
    documented = {_key(c) for _, _, script in blocks() for c in _commands(script)}
    stale = sorted(set(COMMANDS) - documented)
    assert not stale, f"COMMANDS lists commands no longer documented: {stale}"


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh copy of the project's tracked files, sharing the test's virtualenv."""
    copy = tmp_path / "project"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def _env(project: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in outside_make(dict(os.environ)).items()
           if not k.startswith("VALUEREVIEW_")}
    # The copy's valuelib, not the checkout's editable install.
    env.update(PYTHONPATH=str(project), **more)
    return env


def _run_block(script: str, project: Path, env: dict[str, str], timeout: float = 1500,
               db: str | None = None) -> subprocess.CompletedProcess:
    """Run a documented block as written, but for the substitutions of the module docstring
    (`db` replaces the documentation's warehouse URL)."""
    for command in _commands(script):
        assert COMMANDS[_key(command)].run, command
    if db is not None:
        script = DOC_DB.sub(db, script)
    script = script.replace("make ", "make -o .venv/.installed ")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _block(first_command: str) -> str:
    return next(script for _, _, script in blocks()
                if _commands(script) and _commands(script)[0] == first_command)


#: Accounts of the demo warehouse the README's `make reports` renders in the test: the demo's
#: hard cases are among its first ten accounts (support.E2E_ACCOUNTS).
README_DEMO_ACCOUNTS = 12


def test_the_readme_first_command_renders_the_quarter(project):
    """`make reports` on a fresh copy renders the quarter of the warehouse it finds, and builds
    the demo warehouse when there is none (the block's other command, `make test`, is the
    suite itself).

    Rendering all 120 accounts of the default demo takes most of the suite's time, so the
    README's block runs, as written, on a smaller demo warehouse made first with the
    documented `valuereview demo-data --accounts N` (as a user may do: the Makefile builds
    the demo only when data/warehouse.duckdb is missing). That the Makefile builds the
    default demo when the warehouse is missing is then checked on its own, with the
    documented `make reports ARGS=…` rendering a single account."""
    small = valuereview("demo-data", "--accounts", str(README_DEMO_ACCOUNTS), cwd=project,
                        env=_env(project))
    assert small.code == 0, small.stderr
    assert (project / "data" / "warehouse.duckdb").is_file()

    script = _block("make reports")
    runnable = "\n".join(c for c in _commands(script) if COMMANDS[_key(c)].run)
    run = _run_block(runnable, project, _env(project))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "demo warehouse written" not in run.stdout  # the warehouse found is used
    assert re.search(r"│ failed\s+│\s+0 │", run.stdout), run.stdout
    quarter = next(p.name for p in (project / "output").iterdir() if p.is_dir())
    layout = QuarterLayout(project / "output", quarter)
    documents = sorted(layout.share_dir.glob("*/value-review.pdf"))
    assert len(documents) == README_DEMO_ACCOUNTS, f"{len(documents)} customer PDFs"
    assert layout.index("customer").is_file()
    assert layout.path("customer", "portfolio", "portfolio-review.pdf").is_file()

    # Without a warehouse, `make reports` builds the default demo (120 accounts) first.
    (project / "data" / "warehouse.duckdb").unlink()
    build = subprocess.run(
        ["make", "-o", ".venv/.installed", "reports",
         "ARGS=--accounts ACC-0001 --formats html --no-portfolio --out output-demo"],
        cwd=project, env=_env(project), capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert re.search(r"demo warehouse written to \S*data/warehouse\.duckdb: accounts 120,",
                     build.stdout), build.stdout
    assert re.search(r"rendered\s*│\s*1\b", build.stdout), build.stdout
    assert QuarterLayout(project / "output-demo", quarter).path(
        "customer", "ACC-0001", "value-review.html").is_file()


@pytest.fixture
def pg_demo(pg_server):
    url = pg_server.create_database("warehouse")
    run = valuereview("demo-data", "--accounts", "8", "--db", url)
    assert run.code == 0, run.stderr
    return url


def test_pointing_it_at_real_data_works_on_postgresql(project, pg_demo):
    script = _block("export VALUEREVIEW_DB=postgresql://reviews@db.internal/warehouse")
    run = _run_block(script, project, _env(project), db=pg_demo)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "the data contract holds" in run.stdout
    layout = QuarterLayout(project / "output", "2026Q3")
    pdfs = sorted(layout.share_dir.glob("*/value-review.pdf"))
    assert pdfs and all(p.stat().st_size > 10_000 for p in pdfs)
    assert not (project / "data").exists(), "the DuckDB demo was used instead of PostgreSQL"


def test_make_i18n_as_documented(project):
    run = _run_block(_block("make i18n"), project, _env(project), timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "every catalog translates every message" in run.stdout + run.stderr


def test_your_own_data_from_three_csv_files(project):
    """README, "Your own data": the quickstart's CSV files imported, checked and rendered."""
    assert sorted(p.name for p in (project / "examples" / "quickstart").iterdir()) == [
        "accounts.csv", "mapping.yaml", "nps.csv", "subscriptions.csv"]
    run = _run_block(_block("make venv"), project, _env(project))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (project / "my-team" / "warehouse.duckdb").is_file()
    assert (project / "my-team" / "import-report.json").is_file()
    layout = QuarterLayout(project / "output", "2026Q3")
    review = layout.path("customer", "NORTHWIND", "value-review.html")
    assert "Northwind Traders" in review.read_text(encoding="utf-8")
    assert layout.path("customer", "NORTHWIND", "value-review.pdf").is_file()
