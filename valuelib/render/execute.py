"""Execute a notebook with papermill semantics: parameters, injected-parameters cell, errors kept.

On failure the executed notebook (with papermill's error marker and the failing cell's
traceback) is still returned, so the batch can keep it for an analyst to open.

Three kinds of kernel, same semantics:

* ``kernel="shell"`` (default): a pristine IPython shell forked from this process's
  pre-imported fork server (`forkserver.py`, `shell.py`), the cells sent to it directly
  rather than through Jupyter's messaging protocol: no start-up cost, no protocol cost, and
  still one never-used process per notebook.
* ``kernel="fork"``: the same fork, running a real ipykernel that the notebook client talks
  to over ZeroMQ, as Jupyter does. A notebook that needs a kernel (widgets, a library that
  looks for ipykernel) says so in its metadata, ``"valuereview": {"kernel": "ipykernel"}``
  (`KERNEL_METADATA`), and then runs this way where the shell would have been used.
* ``kernel="fresh"``: a new ``python -m ipykernel_launcher`` process per notebook, as Jupyter
  does it (the naive benchmark, and the fallback if the fork server cannot start).

A cell that raises, a cell that runs past the per-cell timeout and a kernel that dies all come
back the same way: the failing cell gets an error output and papermill's failure metadata, so
papermill's own error handling adds its error marker, keeps the notebook and names the cell.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode

from valuelib.render import tempdirs
from valuelib.render.inject import parameterize
from valuelib.report.record import METRICS_MIME

log = logging.getLogger(__name__)


Kernel = Literal["shell", "fork", "fresh"]

#: Notebook metadata asking for a real ipykernel: ``{"valuereview": {"kernel": "ipykernel"}}``.
KERNEL_METADATA = ("valuereview", "kernel", "ipykernel")


@dataclass(frozen=True)
class CellError:
    """Where and why a notebook failed."""

    cell_index: int | None
    ename: str
    evalue: str
    source: str = ""

    def __str__(self) -> str:
        where = f"cell {self.cell_index}" if self.cell_index is not None else "kernel"
        first = self.source.strip().splitlines()[0][:80] if self.source.strip() else ""
        snippet = f" ({first})" if first else ""
        return f"{where}{snippet}: {self.ename}: {self.evalue}".rstrip(": ")


@dataclass
class Execution:
    """An executed notebook, its error if any, and how long it took."""

    nb: NotebookNode | None
    error: CellError | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None and self.nb is not None



def execute(
    notebook: str | Path,
    parameters: dict[str, Any],
    *,
    cwd: str | Path | None = None,
    kernel_name: str = "python3",
    cell_timeout: float | None = None,
    start_timeout: float = 60,
    kernel: Kernel = "shell",
) -> Execution:
    """Run `notebook` with `parameters` in a kernel of its own and return the executed notebook.

    `kernel="shell"` and `kernel="fork"` fork a pristine pre-imported process (see module
    docstring); if the fork server cannot be started at all, this run falls back to a fresh
    kernel process.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if kernel not in ("shell", "fork", "fresh"):
        raise ValueError(f"kernel must be 'shell', 'fork' or 'fresh', not {kernel!r}")
    _ensure_engine()
    t0 = time.perf_counter()
    # The kernel's working folder unless `cwd` is given: its sockets may be made there.
    root = tempdirs.socket_root(len("/vr-exec-XXXXXXXX") + tempdirs.KERNEL_SOCKET)
    with tempfile.TemporaryDirectory(prefix="vr-exec-", dir=root) as tmp:
        out = Path(tmp) / "executed.ipynb"
        # The injected cell is ours (plain values as literals), never papermill's translation.
        try:
            source = Path(tmp) / "parameterized.ipynb"
            template = nbformat.read(notebook, as_version=4)
            nbformat.write(parameterize(template, parameters), source)
        except Exception as exc:  # noqa: BLE001 - unreadable notebook, a value not plain data
            return Execution(None, CellError(None, type(exc).__name__, _first_line(str(exc))),
                             time.perf_counter() - t0)
        engine_name, engine_kwargs = _engine(kernel, template.metadata)
        try:
            nb = papermill.execute_notebook(
                str(source),
                str(out),
                parameters=None,
                engine_name=engine_name,
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=start_timeout,
                execution_timeout=cell_timeout,
                cwd=str(cwd) if cwd else tmp,
                **engine_kwargs,
            )
            return Execution(_input_path(nb, notebook), None, time.perf_counter() - t0)
        except PapermillExecutionError as exc:
            nb = nbformat.read(out, as_version=4) if out.exists() else None
            err = CellError(_code_index(nb, exc.cell_index), exc.ename, exc.evalue, exc.source)
            return Execution(_input_path(nb, notebook), err, time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - kernel failed to start, bad notebook
            nb = nbformat.read(out, as_version=4) if out.exists() else None
            err = CellError(None, type(exc).__name__, _first_line(str(exc)))
            return Execution(_input_path(nb, notebook), err, time.perf_counter() - t0)


def _engine(kernel: Kernel, metadata: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The papermill engine and its arguments for `kernel`, as the notebook's metadata and
    this process's fork server allow."""
    from valuelib.render.engine import ENGINE_NAME, SHELL_ENGINE_NAME, IPCKernelManager

    section, key, value = KERNEL_METADATA
    if kernel == "shell" and metadata.get(section, {}).get(key) == value:
        kernel = "fork"
    if kernel in ("shell", "fork"):
        from valuelib.render.kernels import forkserver

        try:
            forkserver.get_server()
        except forkserver.ForkServerError as exc:
            log.warning("fork server unavailable (%s); using a fresh kernel", exc)
            kernel = "fresh"
    if kernel == "shell":
        return SHELL_ENGINE_NAME, {}
    # No IPython history database: it is one file shared by every kernel, so account A's
    # code (with its injected parameters) would be readable from account B's kernel.
    kwargs: dict[str, Any] = {"extra_arguments": ["--HistoryManager.enabled=False"]}
    if kernel == "fork":
        kwargs["kernel_manager_class"] = forkserver.ForkKernelManager
        # The kernel is discarded after this notebook: no need for a polite shutdown.
        kwargs["shutdown_kernel"] = "immediate"
    else:
        kwargs["kernel_manager_class"] = IPCKernelManager
    return ENGINE_NAME, kwargs


def preload() -> None:
    """Import what `execute` imports on its first call (papermill, its engines and ours), in
    a process that workers are forked from (`batch.preload`), so no worker imports them."""
    import papermill  # noqa: F401

    _ensure_engine()


def _ensure_engine() -> None:
    """Make sure papermill knows our engine: installed, the ``papermill.engine`` entry point
    names it; run from a source tree that was never installed, register it here."""
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillException

    from valuelib.render import engine

    for name, cls in ((engine.ENGINE_NAME, engine.Engine),
                      (engine.SHELL_ENGINE_NAME, engine.ShellEngine)):
        try:
            papermill_engines.get_engine(name)
        except PapermillException:
            papermill_engines.register(name, cls)


def _input_path(nb: NotebookNode | None, notebook: str | Path) -> NotebookNode | None:
    """Record the template notebook, not the temporary parameterized copy, as papermill's
    input path."""
    if nb is not None and "papermill" in nb.metadata:
        nb.metadata["papermill"]["input_path"] = str(notebook)
    return nb


def _code_index(nb: NotebookNode | None, index: int | None) -> int | None:
    """The failing cell's index in the template notebook.

    Papermill's index counts the cells of the parameterized notebook as executed, i.e. before
    its error-marker cells were inserted but with the injected-parameters cell; remove the
    markers from the stored notebook to get that list back, then discount the injected cell.
    """
    if nb is None or index is None:
        return index
    executed = [c for c in nb.cells
                if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    skipped = sum(1 for c in executed[:index]
                  if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    return index - skipped


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""


def recorded_metrics(nb: NotebookNode) -> dict[str, Any] | None:
    """The figures the notebook recorded with `valuelib.report.record`, if any."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                return dict(data[METRICS_MIME])
    return None
