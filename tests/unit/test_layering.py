"""The package is a picture of the data flow: a module imports only from its own stage and the
stages before it (docs/architecture.md#package-layout). `metrics` is pure and imports nothing
else of valuelib, so any stage may use it; `project` says where a project's files are."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import valuelib

PACKAGE = Path(valuelib.__file__).parent
#: The stages in the order data flows through them.
STAGES = ("data", "model", "report", "render", "batch", "cli")
#: Used by any stage: pure formulas, and where a project's folders are.
SHARED = ("metrics", "project")


def _stage(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "valuelib" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[str]:
    """Every valuelib module a file imports (absolute or relative), anywhere in the file."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [module] + [f"{module}.{a.name}" for a in node.names]
    return [m for m in found if m.startswith("valuelib.")]


def _violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _stage(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if own in (None, "__init__"):
            continue
        for module in _imports(path):
            other = _stage(module)
            if other is None or other == own or other in SHARED or other not in STAGES:
                continue
            if own == "metrics":
                bad.append(f"{path.relative_to(PACKAGE)} imports {module} (metrics is pure)")
            elif own in STAGES and STAGES.index(other) > STAGES.index(own):
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}, a later stage")
    return bad


def test_no_module_imports_a_later_stage():
    assert _violations() == []


def test_every_top_level_folder_is_a_known_stage():
    names = {p.stem for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    assert names - {"__init__"} == set(STAGES) | set(SHARED)


def test_the_check_sees_a_later_stage_import(tmp_path, monkeypatch):
    """The check itself can fail: a data module importing the report stage is reported."""
    fake = tmp_path / "valuelib"
    (fake / "data").mkdir(parents=True)
    (fake / "data" / "bad.py").write_text("from valuelib.report import blocks\n")
    (fake / "metrics").mkdir()
    (fake / "metrics" / "impure.py").write_text("from ..data import schema\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert _violations() == [
        "data/bad.py imports valuelib.report, a later stage",
        "data/bad.py imports valuelib.report.blocks, a later stage",
        "metrics/impure.py imports valuelib.data (metrics is pure)",
        "metrics/impure.py imports valuelib.data.schema (metrics is pure)",
    ]
