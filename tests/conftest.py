"""Shared fixtures: a demo warehouse, and one real render of a few accounts reused by tests.

Rendering is the slow part (a kernel, charts and a PDF per account), so the end-to-end tests
share one batch per audience and assert on its files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout

__all__ = ["PORTFOLIO_ID", "QuarterLayout"]

ROOT = Path(__file__).resolve().parents[1]
VALUEREVIEW = [sys.executable, "-m", "valuelib.cli"]
#: The demo's hard cases plus ordinary accounts in several locales and segments.
E2E_ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0004", "ACC-0006", "ACC-0008", "ACC-0010"]
E2E_INTERNAL = ["ACC-0001", "ACC-0002"]
DEMO_ACCOUNTS = 40


@dataclass
class Run:
    """A finished `valuereview` command."""

    code: int
    stdout: str
    stderr: str


def valuereview(*args: str, cwd: Path = ROOT, env: dict | None = None,
                timeout: float = 900) -> Run:
    """Run the CLI in a subprocess, as a user would."""
    e = {**os.environ, **(env or {})}
    e.pop("VALUEREVIEW_DB", None)
    proc = subprocess.run([*VALUEREVIEW, *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A demo warehouse of DEMO_ACCOUNTS accounts (fixed seed), built once per session."""
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    run = valuereview("demo-data", "--accounts", str(DEMO_ACCOUNTS), "--db", str(path))
    assert run.code == 0, run.stderr
    return path


@dataclass
class Rendered:
    """One batch render: where its files are and what the command said."""

    out: Path
    quarter_dir: Path
    run: Run
    db: Path
    audience: str = "customer"

    @property
    def layout(self) -> QuarterLayout:
        return QuarterLayout(self.out, self.quarter_dir.name)

    def file(self, account_id: str, name: str) -> Path:
        """Where the batch put one of an account's (or the portfolio's) files."""
        return self.layout.path(self.audience, account_id, name)

    def metrics(self, account_id: str) -> dict:
        return json.loads(self.file(account_id, "metrics.json").read_text())

    def manifest(self) -> dict:
        return json.loads(self.layout.manifest(self.audience).read_text())

    @property
    def index(self) -> Path:
        return self.layout.index(self.audience)


def _render(tmp_path_factory, demo_db: Path, audience: str, accounts: list[str],
            portfolio: bool) -> Rendered:
    out = tmp_path_factory.mktemp(f"out-{audience}")
    args = ["render", "--db", str(demo_db), "--out", str(out), "--audience", audience,
            "--accounts", ",".join(accounts)]
    if not portfolio:
        args.append("--no-portfolio")
    run = valuereview(*args)
    quarters = [p for p in out.iterdir() if p.is_dir()]
    assert run.code == 0, f"render failed ({run.code}):\n{run.stdout}\n{run.stderr}"
    assert len(quarters) == 1
    return Rendered(out, quarters[0], run, demo_db, audience)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, demo_db) -> Rendered:
    """Customer reviews of the hard cases and a few others, plus the portfolio review."""
    return _render(tmp_path_factory, demo_db, "customer", E2E_ACCOUNTS, portfolio=True)


@pytest.fixture(scope="session")
def rendered_internal(tmp_path_factory, demo_db) -> Rendered:
    """Internal reviews of two accounts (no portfolio)."""
    return _render(tmp_path_factory, demo_db, "internal", E2E_INTERNAL, portfolio=False)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF (poppler's pdftotext when present, else pypdf)."""
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
        pages = text.split("\f")
        return pages[:-1] if pages and not pages[-1].strip() else pages
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(str(path)).pages]


def squash(text: str) -> str:
    """Whitespace folded to single spaces (PDF text and HTML wrap differently)."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
