"""The injected-parameters cell, built by valuereview rather than papermill's translator.

Papermill's Python translator quotes an unknown type's ``str()`` without escaping, so a value
that is not plain data could break out of its string and run as code in the kernel. Here each
value must be plain data (`valuelib.render.plain.plain_problem`) and is written as its ``repr()``,
which Python reads back as the same literal; names must be identifiers. The cell goes where
papermill puts it (replacing an earlier injected cell, else right after the cell tagged
``parameters``, else first) with the tag ``injected-parameters``, and the values are recorded
in ``nb.metadata.papermill.parameters`` as papermill does.
"""

from __future__ import annotations

import keyword
from typing import Any

import nbformat
from nbformat import NotebookNode

from valuelib.render.plain import plain_problem

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"
COMMENT = "# Parameters"


class ParameterValueError(TypeError):
    """A parameter's name is not an identifier or its value is not plain data."""


def parameters_source(parameters: dict[str, Any]) -> str:
    """The injected cell's source: one ``name = repr(value)`` line per parameter; refuses any
    name or value that could be read as anything but a literal assignment."""
    lines = [COMMENT]
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ParameterValueError(f"parameter name {name!r} is not a Python identifier")
        found = plain_problem(value)
        if found:
            where = "".join(f"[{part!r}]" for part in found[0])
            raise ParameterValueError(f"parameter {name}{where}: {found[1]}")
        lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


def _tagged(nb: NotebookNode, tag: str) -> int:
    return next((i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])),
                -1)


def parameterize(nb: NotebookNode, parameters: dict[str, Any]) -> NotebookNode:
    """`nb` (upgraded to nbformat 4) with its injected-parameters cell for `parameters`, placed
    and recorded as papermill's ``parameterize_notebook`` does."""
    import papermill

    source = parameters_source(parameters)
    nb = nbformat.v4.upgrade(nb)
    cell = nbformat.v4.new_code_cell(source=source)
    cell["id"] = INJECTED_TAG  # a fixed id, not a random one: same inputs, same notebook
    cell.metadata["tags"] = [INJECTED_TAG]
    injected, params_cell = _tagged(nb, INJECTED_TAG), _tagged(nb, PARAMETERS_TAG)
    if injected >= 0:
        nb.cells[injected] = cell
    else:
        nb.cells.insert(params_cell + 1, cell)  # -1 + 1: the top, when there is none
    meta = nb.metadata.setdefault("papermill", NotebookNode())
    meta.setdefault("default_parameters", {})
    meta.setdefault("environment_variables", {})
    meta.setdefault("version", papermill.__version__)
    meta["parameters"] = nbformat.from_dict(dict(parameters))
    return nb
