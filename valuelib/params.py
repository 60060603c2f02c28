"""Notebook parameters from `params/`: quarter defaults and per-account overrides (YAML).

`params/defaults.yaml` applies to every account; `params/accounts/<account_id>.yaml` overrides
it for one account. Keys must be parameters of the notebook (its `parameters` cell); the batch
sets `account_id`, `quarter`, `bundle` and `audience` itself, so files may not. `locale` (a BCP
47 tag) sets a review's language and formats instead of the account's `accounts.locale`;
`valuereview render --locale` overrides both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from . import schema

RESERVED = ("account_id", "quarter", "bundle", "audience")


class ParamsError(ValueError):
    """A params file is malformed or names an unknown parameter; the message names the file."""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParamsError(f"{path}:{where}: malformed YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of parameter: value, got "
                          f"{type(data).__name__}")
    return data


def _check(path: Path, data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key in RESERVED:
            raise ParamsError(f"{path}: parameter {key!r} is set by valuereview itself "
                              "(use the command line instead)")
        if key not in allowed:
            raise ParamsError(f"{path}: unknown parameter {key!r}; the notebook's parameters "
                              f"are {', '.join(sorted(allowed - set(RESERVED)))}")
        if key == "locale" and data[key] not in (None, "") and not _known_locale(data[key]):
            raise ParamsError(f"{path}: locale {data[key]!r} is not a BCP 47 tag with CLDR "
                              "data (e.g. ka-GE, hy-AM, ha, ny-MW, en-GB)")


def _known_locale(tag: object) -> bool:
    """Whether `tag` is a BCP 47 tag Babel has CLDR data for (its language at least)."""
    from .i18n import known

    return known(tag)


def load(params_dir: Path, allowed: set[str]) -> tuple[dict[str, Any], dict[str, dict]]:
    """Read defaults and per-account overrides, checking every key against `allowed`."""
    defaults: dict[str, Any] = {}
    overrides: dict[str, dict[str, Any]] = {}
    if not params_dir.is_dir():
        return defaults, overrides
    defaults = load_file(params_dir / "defaults.yaml", allowed)
    acc_dir = params_dir / "accounts"
    if acc_dir.is_dir():
        for p in sorted(acc_dir.glob("*.y*ml")):
            aid = p.stem
            if not schema.ACCOUNT_ID_RE.match(aid):
                raise ParamsError(f"{p}: file name is not an account id")
            data = _read(p)
            _check(p, data, allowed)
            overrides[aid] = data
    return defaults, overrides


def load_file(path: Path, allowed: set[str]) -> dict[str, Any]:
    """One params file (e.g. params/portfolio.yaml), checked against `allowed`; {} if absent."""
    if not path.is_file():
        return {}
    data = _read(path)
    _check(path, data, allowed)
    return data


def for_account(defaults: dict[str, Any], overrides: dict[str, dict], account_id: str
                ) -> dict[str, Any]:
    """The merged parameters of one account (overrides win)."""
    merged = dict(defaults)
    merged.update(overrides.get(account_id, {}))
    return merged


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The notebook's parameters and their defaults (as source text), from its `parameters`
    cell: the assignments papermill's inspection would list, without importing papermill
    (half a second of every `render`, including one that has nothing to do)."""
    import ast
    import json

    with open(notebook, encoding="utf-8") as f:
        cells = json.load(f).get("cells", [])
    cell = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                None)
    if cell is None:
        return {}
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    found: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = ast.get_source_segment(source, value)
    return found
