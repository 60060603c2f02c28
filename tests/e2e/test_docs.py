"""The project's reference is its own docs/ folder: nothing points outside the repository,
and every docs/ file and #anchor that code, tests or the README cite exists."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from support import ROOT

DOCS = ROOT / "docs"
#: Briefs the developers had outside the repository; a clone has none of them. Spelt in two
#: pieces so that this file does not mention them itself.
OUTSIDE = ("../" + "shared", "DESIGN" + ".md", "METRICS" + ".md")
#: Folders of a working tree that are not the project's files (used without git only).
_NOT_PROJECT = {".git", ".venv", "output", "data", "work", "__pycache__", ".pytest_cache",
                ".ruff_cache", ".hypothesis"}
#: A file under docs, with an #anchor or followed by `, "Heading"` (or `, section "Heading"`).
_CITATION = re.compile(r"(?<![\w/.-])docs/((?:[\w-]+/)*[\w.-]*[\w-])(?:#([\w-]+))?"
                       r"(?:,\s+(?:section\s+)?\"([^\"]+)\")?")
#: A line break with what continues a comment or a docstring on the next line.
_BREAK = re.compile(r"\s*\n\s*(?:#+\s+)?")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _project_files() -> list[Path]:
    """The project's files: tracked or new (not ignored) ones, or the tree less run artefacts
    where git is not available."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True).stdout
        files = [ROOT / p for p in out.decode("utf-8").split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in ROOT.rglob("*")
                 if not _NOT_PROJECT.intersection(p.relative_to(ROOT).parts)]
    return sorted(p for p in files if p.is_file())


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary file (compiled catalogs, pictures)."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(files: list[Path]) -> Iterator[tuple[Path, int, str]]:
    for path in files:
        text = _text(path)
        if text is not None:
            for number, line in enumerate(text.splitlines(), 1):
                yield path, number, line


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file (outside code fences)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match is None:
            continue
        slug = _slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _where(path: Path, number: int) -> str:
    return f"{path.relative_to(ROOT)}:{number}"


def test_no_project_file_points_outside_the_repository():
    found = [f"{_where(p, n)}: {line.strip()}" for p, n, line in _lines(_project_files())
             if any(name in line for name in OUTSIDE)]
    assert not found, "cite docs/ instead of briefs outside the repository:\n" + "\n".join(found)


def test_the_reference_documents_exist():
    for name in ("architecture.md", "metrics.md"):
        assert (DOCS / name).is_file(), f"docs/{name} is missing"


def test_every_cited_docs_path_and_anchor_exists():
    cited = 0
    problems = []
    for path in _project_files():
        text = None if DOCS in path.parents else _text(path)
        if text is None:
            continue
        # A citation may run over a line break of a comment or a docstring.
        for match in _CITATION.finditer(_BREAK.sub(" ", text)):
            cited += 1
            name, anchor, heading = match.groups()
            target = DOCS / name
            where = f"{path.relative_to(ROOT)}: {match.group(0)}"
            if not target.exists():
                problems.append(f"{where}: docs/{name} does not exist")
                continue
            for wanted in (anchor, heading and _slug(heading)):
                if wanted and wanted not in _anchors(target):
                    problems.append(f"{where}: docs/{name} has no heading #{wanted}")
    assert not problems, "\n".join(problems)
    assert cited >= 20, f"only {cited} citations of docs/ found: is the pattern still right?"


def test_links_between_the_documents_resolve():
    problems = []
    for doc in sorted(DOCS.rglob("*.md")):
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for match in _LINK.finditer(line):
                link = match.group(1)
                if re.match(r"^[a-z]+:", link):
                    continue
                name, _, anchor = link.partition("#")
                target = (doc.parent / name) if name else doc
                if not target.exists():
                    problems.append(f"{_where(doc, number)}: {link}: no such file")
                elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
                    problems.append(f"{_where(doc, number)}: {link}: no such heading")
    assert not problems, "\n".join(problems)
