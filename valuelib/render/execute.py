"""Execute a notebook with papermill semantics: parameters, injected-parameters cell, errors kept.

On failure the executed notebook (with papermill's error marker and the failing cell's
traceback) is still returned, so the batch can keep it for an analyst to open.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from ..record import METRICS_MIME

log = logging.getLogger(__name__)


KERNEL_LOG = "kernel.log"


def _ipc_kernel_manager():
    """A kernel manager that talks to the kernel over Unix sockets in the working directory
    (no TCP ports: nothing on the network can reach a kernel holding account data), with the
    kernel process's own output in `kernel.log` there rather than on the batch's terminal."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log = open(KERNEL_LOG, "ab")  # noqa: SIM115 - the kernel process owns it
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                log.close()

    return IPCKernelManager


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
) -> Execution:
    """Run `notebook` with `parameters` in a fresh kernel and return the executed notebook."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vr-exec-") as tmp:
        out = Path(tmp) / "executed.ipynb"
        try:
            nb = papermill.execute_notebook(
                str(notebook),
                str(out),
                parameters=parameters,
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=start_timeout,
                execution_timeout=cell_timeout,
                cwd=str(cwd) if cwd else tmp,
                kernel_manager_class=_ipc_kernel_manager(),
            )
            return Execution(nb, None, time.perf_counter() - t0)
        except PapermillExecutionError as exc:
            nb = nbformat.read(out, as_version=4) if out.exists() else None
            err = CellError(_code_index(nb, exc.cell_index), exc.ename, exc.evalue, exc.source)
            return Execution(nb, err, time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - dead kernel, timeout, bad notebook
            nb = nbformat.read(out, as_version=4) if out.exists() else None
            err = CellError(None, type(exc).__name__, _first_line(str(exc)))
            return Execution(nb, err, time.perf_counter() - t0)


def _code_index(nb: NotebookNode | None, index: int | None) -> int | None:
    """Papermill counts every cell; report the failing cell's index in the stored notebook
    (its position among all cells, minus the injected-parameters and error-marker cells)."""
    if nb is None or index is None:
        return index
    skipped = 0
    for cell in nb.cells[:index]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            skipped += 1
    return index - skipped


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""


def recorded_metrics(nb: NotebookNode) -> dict[str, Any] | None:
    """The figures the notebook recorded with `valuelib.record`, if any."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                return dict(data[METRICS_MIME])
    return None
