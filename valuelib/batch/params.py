"""Notebook parameters from `params/`: quarter defaults and per-account overrides (YAML).

`params/defaults.yaml` applies to every account; `params/accounts/<account_id>.yaml` overrides
it for one account. Keys must be parameters of the notebook (its `parameters` cell); the batch
sets `account_id`, `quarter`, `bundle` and `audience` itself, so files may not. `locale` (a BCP
47 tag) sets a review's language and formats instead of the account's `accounts.locale`;
`valuereview render --locale` overrides both.

Parameters are data, never code: a value may only be text, a number, true/false, null, or a
list or mapping (with text keys) of those. YAML tags that would build anything else (sets,
bytes, dates, Python objects) are refused when the file is read, and each value must have the
type of its default in the notebook's `parameters` cell, or the type `SCHEMA` declares.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from valuelib.data import schema
from valuelib.render.plain import Refused, Where, plain_problem

RESERVED = ("account_id", "quarter", "bundle", "audience")


class ParamsError(ValueError):
    """A params file is malformed or names an unknown parameter; the message names the file."""


# --- Reading YAML as plain data -----------------------------------------------------------

class PlainLoader(yaml.SafeLoader):
    """A SafeLoader that builds plain data only: nodes that would become sets, bytes, dates,
    ordered pairs or any other tagged object load as `Refused` markers, checked later."""


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> Refused:
    return Refused(node.tag, node.start_mark.line + 1)


for _tag in ("set", "binary", "timestamp", "omap", "pairs"):
    PlainLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)
PlainLoader.add_constructor(None, _refuse)  # every other unknown tag, e.g. !!python/object


def _lines(node: yaml.Node | None) -> dict[Where, int]:
    """The YAML line of each key and list item below `node`, by its path (each node once)."""
    lines: dict[Where, int] = {}
    seen: set[int] = set()
    todo: list[tuple[yaml.Node, Where]] = [(node, ())] if node is not None else []
    while todo:
        current, at = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                here = (*at, key.value if isinstance(key, yaml.ScalarNode) else "?")
                lines.setdefault(here, key.start_mark.line + 1)
                todo.append((value, here))
        elif isinstance(current, yaml.SequenceNode):
            for i, value in enumerate(current.value):
                lines.setdefault((*at, i), value.start_mark.line + 1)
                todo.append((value, (*at, i)))
    return lines


def _read(path: Path) -> tuple[dict[str, Any], dict[Where, int]]:
    """A params file's mapping and the line of each key in it."""
    loader = PlainLoader(path.read_text(encoding="utf-8"))
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParamsError(f"{path}:{where}: malformed YAML: {problem}") from exc
    finally:
        loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        what = data.reason() if isinstance(data, Refused) else type(data).__name__
        raise ParamsError(f"{path}: expected a mapping of parameter: value, got {what}")
    return data, _lines(node)


# --- Types ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Type:
    """A parameter's type: `accepts` its top level, `items` each list item or mapping value,
    `keys` a mapping's exact keys, `rule` the whole value (a reason or None); `label` says it."""

    label: str
    accepts: Callable[[Any], bool]
    items: Type | None = None
    keys: tuple[str, ...] | None = None
    rule: Callable[[Any], tuple[Where, str] | None] | None = None
    optional: bool = False

    def problem(self, value: Any, at: Where = ()) -> tuple[Where, str, str] | None:
        """(where, expected, why) for the first way `value` breaks this type, else None."""
        if value is None and self.optional:
            return None
        if not self.accepts(value):
            return at, self.label, ""
        if self.keys is not None:
            unknown = [k for k in value if k not in self.keys]
            missing = [k for k in self.keys if k not in value]
            if unknown or missing:
                why = []
                if unknown:
                    why.append(f"unknown key {', '.join(map(repr, unknown))}")
                if missing:
                    why.append(f"missing key {', '.join(map(repr, missing))}")
                return at, self.label, "; ".join(why)
        if self.items is not None:
            inner = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in inner:
                if found := self.items.problem(item, (*at, key)):
                    return found
        if self.rule is not None and (broken := self.rule(value)):
            return (*at, *broken[0]), self.label, broken[1]
        return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


ANY = Type("any plain value", lambda v: True, optional=True)
TEXT = Type("text", lambda v: isinstance(v, str))
NUMBER = Type("a number", _is_number)
WHOLE = Type("a whole number", lambda v: _is_number(v) and isinstance(v, int))
BOOL = Type("true or false", lambda v: isinstance(v, bool))


def list_of(items: Type, label: str | None = None, rule: Callable | None = None) -> Type:
    """A list whose every item is an `items`."""
    return Type(label or f"a list of {_bare(items.label)}", lambda v: isinstance(v, list),
                items=items, rule=rule)


def mapping_of(items: Type, label: str | None = None, keys: tuple[str, ...] | None = None,
               rule: Callable | None = None) -> Type:
    """A mapping of text keys to `items` (exactly `keys` if given)."""
    return Type(label or f"a mapping of text to {_bare(items.label)}",
                lambda v: isinstance(v, dict), items=items, keys=keys, rule=rule)


def _bare(label: str) -> str:
    return label.removeprefix("a ").removeprefix("an ")


NON_NEGATIVE = Type("a non-negative number", lambda v: _is_number(v) and v >= 0)


def _some_weight(weights: dict[str, Any]) -> tuple[Where, str] | None:
    return None if any(w > 0 for w in weights.values()) else ((), "every weight is 0")


def _low_high(clip: list[Any]) -> tuple[Where, str] | None:
    if len(clip) != 2:
        return (), f"{len(clip)} items instead of 2"
    low, high = clip
    return None if low <= high else ((), f"low end {low!r} is above high end {high!r}")


def _health_weights() -> Type:
    """A weight for every health component, or null (the notebooks' default): the model's
    default weights (`model.health.DEFAULT_WEIGHTS`)."""
    from valuelib.model.health import COMPONENTS

    weights = mapping_of(NON_NEGATIVE, keys=COMPONENTS, rule=_some_weight,
                         label=f"a mapping of each health component ({', '.join(COMPONENTS)}) "
                               "to a non-negative weight")
    return replace(weights, optional=True)


#: Declared types of structured parameters (by name, in every notebook), instead of the type
#: inferred from the notebook's default.
SCHEMA: dict[str, Callable[[], Type]] = {
    "health_weights": _health_weights,
    "review_impact_clip": lambda: list_of(NUMBER, rule=_low_high,
                                          label="a list of two numbers [low, high], low <= high"),
}


def type_of_default(default: Any) -> Type:
    """The type a value must have, from the notebook's default: int for int, a number for
    float, the common item type of a list or mapping, anything plain for None."""
    if default is None:
        return ANY
    for simple, t in ((bool, BOOL), (str, TEXT), (int, WHOLE), (float, NUMBER)):
        if isinstance(default, simple):
            return t
    if isinstance(default, list):
        return list_of(_common(type_of_default(v) for v in default))
    if isinstance(default, dict) and all(isinstance(k, str) for k in default):
        return mapping_of(_common(type_of_default(v) for v in default.values()))
    return ANY


def _common(types: Iterable[Type]) -> Type:
    found = list(types)
    labels = {t.label for t in found}
    if len(labels) == 1:
        return found[0]
    if labels and labels <= {WHOLE.label, NUMBER.label}:
        return NUMBER
    return ANY


def parameter_types(defaults: Mapping[str, str]) -> dict[str, Type]:
    """Each parameter's type: `SCHEMA`'s, else its default's (the source text of the
    notebook's `parameters` cell, as `notebook_parameters` returns it)."""
    types = {}
    for name, source in defaults.items():
        if name in SCHEMA:
            types[name] = SCHEMA[name]()
            continue
        try:
            default = ast.literal_eval(source) if source is not None else None
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            default = None  # not a literal: any plain value
        types[name] = type_of_default(default)
    return types


def _describe(value: Any) -> str:
    names = {str: "text", bool: "true/false", int: "a whole number", float: "a number",
             type(None): "null", list: "a list", dict: "a mapping"}
    return f"{value!r} ({names.get(type(value), type(value).__name__)})"


def _dotted(at: Where) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error(path: Path, lines: Mapping[Where, int], at: Where, message: str,
           line: int | None = None) -> ParamsError:
    """A ParamsError naming the file, the YAML line (of `at` or its nearest parent) and key."""
    probe = at
    while line is None and probe:
        line = lines.get(probe)
        probe = probe[:-1]
    where = f" line {line}:" if line else ""
    key = f" {_dotted(at)}:" if at else ""
    return ParamsError(f"{path}:{where}{key} {message}")


def _check(path: Path, data: dict[str, Any], allowed: Collection[str],
           lines: Mapping[Where, int] | None = None) -> None:
    """Refuse reserved and unknown keys, values that are not plain data and, when `allowed`
    maps each parameter to its default's source, values of the wrong type."""
    lines = lines or {}
    types = parameter_types(allowed) if isinstance(allowed, Mapping) else {}
    for key in data:
        if isinstance(key, Refused):
            raise _error(path, lines, (), key.reason(), key.line)
        if key in RESERVED:
            raise ParamsError(f"{path}: parameter {key!r} is set by valuereview itself "
                              "(use the command line instead)")
        if key not in allowed:
            raise ParamsError(f"{path}: unknown parameter {key!r}; the notebook's parameters "
                              f"are {', '.join(sorted(set(allowed) - set(RESERVED)))}")
        value = data[key]
        if found := plain_problem(value):
            at, why = found
            inner = _get(value, at)
            line = inner.line if isinstance(inner, Refused) else None
            raise _error(path, lines, (key, *at), why, line)
        if key in types and (broken := types[key].problem(value)):
            at, expected, why = broken
            got = _describe(_get(value, at))
            raise _error(path, lines, (key, *at),
                         f"expected {expected}, got {got}" + (f": {why}" if why else ""))
        if key == "locale" and value not in (None, "") and not _known_locale(value):
            raise ParamsError(f"{path}: locale {value!r} is not a BCP 47 tag with CLDR "
                              "data (e.g. ka-GE, hy-AM, ha, ny-MW, en-GB)")


def _get(value: Any, at: Where) -> Any:
    for part in at:
        value = value[part]
    return value


def _known_locale(tag: object) -> bool:
    """Whether `tag` is a BCP 47 tag Babel has CLDR data for (its language at least)."""
    from valuelib.report.i18n import known

    return known(tag)


def _account_files(params_dir: Path) -> list[Path]:
    acc_dir = params_dir / "accounts"
    return sorted(acc_dir.glob("*.y*ml")) if acc_dir.is_dir() else []


def load(params_dir: Path, allowed: Collection[str]) -> tuple[dict[str, Any], dict[str, dict]]:
    """Read defaults and per-account overrides, checking every key against `allowed` (and,
    when it is `notebook_parameters`' mapping, every value against its parameter's type)."""
    defaults: dict[str, Any] = {}
    overrides: dict[str, dict[str, Any]] = {}
    if not params_dir.is_dir():
        return defaults, overrides
    defaults = load_file(params_dir / "defaults.yaml", allowed)
    for p in _account_files(params_dir):
        aid = p.stem
        if not schema.ACCOUNT_ID_RE.match(aid):
            raise ParamsError(f"{p}: file name is not an account id")
        data, lines = _read(p)
        _check(p, data, allowed, lines)
        overrides[aid] = data
    return defaults, overrides


def load_file(path: Path, allowed: Collection[str]) -> dict[str, Any]:
    """One params file (e.g. params/portfolio.yaml), checked as `load` does; {} if absent."""
    if not path.is_file():
        return {}
    data, lines = _read(path)
    _check(path, data, allowed, lines)
    return data


def check_account_files(params_dir: Path, account_ids: Iterable[str]) -> None:
    """Refuse a per-account params file that names no account of the warehouse (it would be
    ignored), suggesting the account whose id differs only in case."""
    known = set(account_ids)
    by_fold = {aid.casefold(): aid for aid in known}
    for p in _account_files(params_dir):
        if p.stem in known:
            continue
        hint = by_fold.get(p.stem.casefold())
        maybe = f"; did you mean {hint} ({hint}{p.suffix})?" if hint else ""
        raise ParamsError(f"{p}: the warehouse has no account {p.stem!r}, so this file would "
                          f"be ignored (name it <account_id>{p.suffix}){maybe}")
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
