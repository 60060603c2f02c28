"""What a batch has to do: the review notebooks, the formats, and each document's cache key.

A document's cache key hashes its bundle, the notebook, the template, valuelib's source (each
file's path in the package and its bytes), the bundled fonts, the versions of the libraries
that render it, the PDF engine, the message catalog of its language, its parameters and the
--locale override (`cache_key`); a document whose key and outputs are unchanged is skipped.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import valuelib
from valuelib.data.files import sha256
from valuelib.render import PDF_ENGINE
from valuelib.render.templates import TEMPLATE_DIR
from valuelib.report import fonts, i18n

if TYPE_CHECKING:
    from valuelib.batch.worker import Task

NOTEBOOK = "value_review.ipynb"
PORTFOLIO_NOTEBOOK = "portfolio_review.ipynb"
#: The stem of every output file of a value review and of the portfolio review.
STEM = "value-review"
PORTFOLIO_STEM = "portfolio-review"
FORMATS = ("html", "pdf")
#: Libraries whose version changes what a document looks like: part of every cache key.
DOCUMENT_LIBRARIES = ("nbconvert", "weasyprint", "pydyf", "fonttools", "matplotlib", "seaborn",
                      "pandas", "babel")


def tree_hash(root: Path, pattern: str = "*") -> str:
    """Hash of the files under `root` matching `pattern`: each one's path relative to `root`
    and its bytes, so a file moved to another folder changes the hash as an edit does."""
    h = hashlib.sha256()
    for p in sorted(root.rglob(pattern)):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@functools.cache
def library_versions() -> dict[str, str]:
    """The installed version of each of DOCUMENT_LIBRARIES (read from package metadata once
    per process: a run needs them twice, for the reviews and the portfolio)."""
    versions = {}
    for name in DOCUMENT_LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def shared_code_hash(pdf_engine: str = PDF_ENGINE) -> str:
    """Hash of what shapes every document alike, whatever its notebook: valuelib's version and
    source, the template, the bundled fonts, the rendering libraries' versions and the PDF
    engine with, for Chromium, the browser's version. Computed once per run."""
    h = hashlib.sha256()
    h.update(valuelib.__version__.encode())
    h.update(tree_hash(TEMPLATE_DIR).encode())  # the project's template or the packaged one
    h.update(tree_hash(Path(valuelib.__file__).parent, "*.py").encode())
    h.update(fonts.digest().encode())
    engine: dict[str, str] = {"pdf_engine": pdf_engine}
    if pdf_engine == "chromium":
        engine["chromium"] = browser_version()
    h.update(json.dumps({**engine, "libraries": library_versions()}, sort_keys=True).encode())
    return h.hexdigest()


def code_hash(root: Path, notebook: Path, pdf_engine: str = PDF_ENGINE, *,
              shared: str | None = None) -> str:
    """Hash of what shapes every document of `notebook` alike: the notebook's bytes and
    `shared_code_hash` (pass `shared` when the run has it already)."""
    h = hashlib.sha256()
    h.update(notebook.read_bytes())
    h.update((shared or shared_code_hash(pdf_engine)).encode())
    return h.hexdigest()


_version_asked: threading.Thread | None = None


def ask_browser_version(pdf_engine: str) -> None:
    """Start reading the browser's version (a process of its own, about 0.1 s) in a thread
    when `pdf_engine` resolves to Chromium, so that `browser_version` finds it read."""
    global _version_asked
    from valuelib.render import chromium

    if _version_asked is None and chromium.resolve_engine(pdf_engine) == "chromium":
        _version_asked = threading.Thread(target=chromium.version, daemon=True,
                                          name="chromium-version")
        _version_asked.start()


def browser_version() -> str:
    """The browser's version (`chromium.version`, read once per process), after any reading
    `ask_browser_version` started."""
    global _version_asked
    from valuelib.render import chromium

    if _version_asked is not None:
        _version_asked.join()
        _version_asked = None
    return chromium.version()


def catalog_hash(language: str) -> str:
    """Hash of the compiled message catalog a document in `language` is written from (empty
    for English, which has none)."""
    path = i18n.catalog_path(language)
    return sha256(path.read_bytes()) if path is not None else ""


class Catalogs:
    """A document tag → its language's catalog hash; each tag resolved and each catalog read
    once per run."""

    def __init__(self) -> None:
        self._by_tag: dict[str | None, str] = {}
        self._by_language: dict[str, str] = {}

    def for_tag(self, tag: str | None) -> str:
        if tag not in self._by_tag:
            language = i18n.catalog_language(tag)
            if language not in self._by_language:
                self._by_language[language] = catalog_hash(language)
            self._by_tag[tag] = self._by_language[language]
        return self._by_tag[tag]


def cache_key(bundle_hash: str, code: str, parameters: dict[str, Any],
              formats: tuple[str, ...], *, catalog: str = "",
              locale: str | None = None) -> str:
    """A document's cache key: its bundle, `code_hash`, its parameters and formats, the hash
    of its language's catalog (`catalog_hash`) and the run's --locale override."""
    payload = json.dumps({"bundle": bundle_hash, "code": code, "params": parameters,
                          "formats": sorted(formats), "catalog": catalog,
                          "locale": locale}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def file_names(stem: str, formats: tuple[str, ...]) -> list[str]:
    """The files one document is made of: its formats, its executed notebook, and for a
    value review its metrics.json."""
    names = [f"{stem}.{fmt}" for fmt in formats] + [f"{stem}.ipynb"]
    return names + (["metrics.json"] if stem == STEM else [])


def running_order(tasks: Sequence[Task]) -> list[Task]:
    """The order a batch hands its documents out: the portfolio review first (every account's
    data: the longest document), so that a batch does not end with one worker busy on it
    while the others wait; then the accounts in the order given. (An account's
    bundle size predicts its time too weakly to order by: correlation 0.41 over 40 demo
    accounts.)"""
    return sorted(tasks, key=lambda t: t.stem != PORTFOLIO_STEM)
