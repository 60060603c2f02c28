"""What the tests share: how to run the command as a user does, where a render put its files,
and how to read a PDF's text and a page's visible text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout

__all__ = ["PORTFOLIO_ID", "QuarterLayout"]

ROOT = Path(__file__).resolve().parents[2]
VALUEREVIEW = [sys.executable, "-m", "valuelib.cli"]
#: The demo's hard cases plus ordinary accounts in several locales and segments: one account
#: per language (ACCOUNTS), so the language tests read the session's one render.
E2E_ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0004", "ACC-0006", "ACC-0008", "ACC-0009",
                "ACC-0010"]
E2E_INTERNAL = ["ACC-0001", "ACC-0002"]
DEMO_ACCOUNTS = 40


@dataclass
class Run:
    """A finished `valuereview` command."""

    code: int
    stdout: str
    stderr: str


def outside_make(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without what a ``make test ARGS=...`` around the suite puts there: make
    exports ARGS and its own flags to its recipes, and a project's ``make reports`` run by a
    test would pass pytest's options to ``valuereview render``."""
    return {k: v for k, v in environ.items()
            if not k.startswith("MAKE") and k not in ("ARGS", "MFLAGS")}


def valuereview(*args: str, cwd: Path = ROOT, env: dict | None = None,
                timeout: float = 900) -> Run:
    """Run the CLI in a subprocess, as a user would."""
    e = {**os.environ, **(env or {})}
    e.pop("VALUEREVIEW_DB", None)
    proc = subprocess.run([*VALUEREVIEW, *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def valuereview_each(*commands: Sequence[str], env: dict | None = None) -> list[Run]:
    """Several independent CLI commands (a fixture's renders of different outputs) run at the
    same time, each as `valuereview` runs it: a render spends much of its time on one core
    (start-up, one account's kernel, its PDF), so two overlap on a machine with two."""
    with ThreadPoolExecutor(max_workers=len(commands)) as threads:
        return list(threads.map(lambda args: valuereview(*args, env=env), commands))


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


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF (poppler's pdftotext when present, else pypdf)."""
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
        pages = text.split("\f")
        return pages[:-1] if pages and not pages[-1].strip() else pages
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(str(path)).pages]


def pdf_words_outside(path: Path, margin_pt: float) -> list[tuple[int, str]]:
    """(page number, word) of each word that reaches into a page's left or right margin
    (poppler's ``pdftotext -bbox``, which gives every word's box in points)."""
    import re

    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for number, page in enumerate(out.split("<page ")[1:], 1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for m in re.finditer(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">'
                             r"([^<]*)<", page):
            if float(m.group(1)) < margin_pt - 0.5 or float(m.group(2)) > width - margin_pt + 0.5:
                found.append((number, m.group(3)))
    return found


def squash(text: str) -> str:
    """Whitespace folded to single spaces (PDF text and HTML wrap differently)."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


class _Text(HTMLParser):
    """The text a reader sees: no tags, no <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(doc: str) -> str:
    p = _Text()
    p.feed(doc)
    return squash(" ".join(p.parts))


def read_html(rendered, account_id: str) -> str:
    return rendered.file(account_id, "value-review.html").read_text(encoding="utf-8")


#: One demo account per language in the 40-account fixture (seed 7), all of them rendered by
#: the `rendered` session fixture (E2E_ACCOUNTS).
ACCOUNTS = {
    "en": "ACC-0001",
    "hy": "ACC-0004",
    "ny": "ACC-0008",
    "ka": "ACC-0010",
    "ha": "ACC-0009",
}
LANGUAGES = ("en", "ka", "hy", "ha", "ny")
