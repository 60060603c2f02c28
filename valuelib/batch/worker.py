"""One unit of batch work: execute a notebook for one account and export its documents.

A task carries everything it needs (the notebook's bytes, parameters, the bundle's bytes), so it
runs the same in a local process or on a Dask worker on another machine with no shared disk or
database (nor the same checkout: it runs the notebook the batch planned, whatever that machine's
copy holds), and returns the rendered files as bytes for the batch to write atomically.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuelib.render import PDF_ENGINE, tempdirs

_exporters = None

#: The batch's process id, in the environment of the process its workers are forked from
#: (`valuelib.batch.pool.prestart`, `batch.preload`), which stops preloading once the batch is
#: gone.
PRELOAD_PARENT_ENV = "VALUEREVIEW_PRELOAD_PARENT"
#: Set (to "1") in that process's environment when the batch's kernels' origin
#: (`kernels.origin`) preloads what kernels import: it then imports only what workers need.
PRELOAD_WORKERS_ONLY_ENV = "VALUEREVIEW_PRELOAD_WORKERS_ONLY"
#: The private folder the batch gives that process for its temporary files (WeasyPrint's font
#: folder, shared by every fork), removed by the batch when it ends.
PRELOAD_TMP_ENV = "VALUEREVIEW_PRELOAD_TMP"
#: The bundle's file name in a task's private working folder, which is the kernel's working
#: directory: the notebook's ``bundle`` parameter, relative, so no path enters the notebook.
BUNDLE_NAME = "bundle.json"
#: How deep a task's sockets lie under the temporary folder: its working folder, and the
#: kernel's sockets in it (`tempdirs`).
TASK_SOCKET_DEPTH = len("/vr-task-XXXXXXXX") + tempdirs.KERNEL_SOCKET


@dataclass(frozen=True)
class Task:
    account_id: str
    stem: str  # output file stem: value-review | portfolio-review
    notebook: str  # where the batch read it; its file name is recorded in the executed notebook
    parameters: dict[str, Any]
    bundle: bytes
    formats: tuple[str, ...]
    cell_timeout: float | None = None
    #: The notebook's bytes as the batch read them (and hashed into the cache key); run instead
    #: of the file at `notebook` when given, which on another machine may hold something else.
    notebook_source: bytes | None = None
    pdf_engine: str = PDF_ENGINE  # as the run resolved it (`chromium.resolve_engine`)
    print_timeout: float | None = None  # Chromium's limit per print (--print-timeout)


@dataclass
class TaskResult:
    account_id: str
    stem: str
    ok: bool
    files: dict[str, bytes] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    error: str | None = None
    cell: int | None = None
    failed_notebook: bytes | None = None
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def failure(cls, task: Task, message: str) -> TaskResult:
        return cls(task.account_id, task.stem, False, error=message)

    @classmethod
    def past_deadline(cls, task: Task, seconds: float, elapsed: float) -> TaskResult:
        """The failure of a task stopped at its account deadline (`--account-timeout`), worded
        the same by the local pool and the Dask runner."""
        res = cls.failure(task, f"{task.account_id} ran past its {seconds:g} s deadline "
                                "(--account-timeout) for executing and exporting; stopped")
        res.seconds = elapsed
        return res


def warm_up(*, fork_server_from_self: bool = False) -> None:
    """Create this process's exporters once (HTML template, WeasyPrint fonts) and import
    the heavy libraries, so each task pays only for its own work. Also starts this process's
    kernel fork server (it imports in its own process meanwhile; stopped at exit): from the
    batch's kernels' origin if this process was given one (`forkserver.use_origin`).

    `fork_server_from_self`: a pool worker that has handled no task yet, forked from the
    batch's preloaded process (`batch.preload`), forks its kernel fork server from itself
    instead of starting one that imports everything again.
    """
    from valuelib.render.kernels import forkserver

    forkserver.get_server(wait=False, from_self=fork_server_from_self)  # no-op once running
    warm_exporters(sample=False)


def warm_exporters(*, sample: bool = True, drawn: bool = True) -> None:
    """Create this process's exporters if it has none; with `sample`, also export a sample
    review once (`kernels.warm`), as the batch's preloading process does for every worker;
    `drawn`: with a table and a chart in it (importing pandas and matplotlib here)."""
    global _exporters
    if _exporters is None:
        from valuelib.render.export import Exporters

        _exporters = Exporters()
        if sample:
            from valuelib.render.kernels import warm

            warm.export_caches(_exporters, drawn=drawn)


def _forget_paths(nb: Any, task: Task) -> None:
    """Papermill records where the notebook was read and written; keep only the file names,
    so no folder of this machine (a temporary one, the project's) is in the executed notebook."""
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["input_path"] = Path(task.notebook).name
        meta["output_path"] = f"{task.stem}.ipynb"


#: Clock readings papermill and nbclient record in an executed notebook (when it ran, for how
#: long): set to None (papermill's value before a run) or dropped, so the same inputs give the
#: same notebook. The batch's manifest keeps each account's timings.
_PAPERMILL_CLOCK = ("start_time", "end_time", "duration")


def _forget_clock(nb: Any) -> None:
    """Remove the times of day and durations from an executed notebook's metadata, and the
    random id papermill gives the cell it injects (named after its tag instead)."""
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []) and "id" in cell:
            cell["id"] = "injected-parameters"
    for meta in [nb.metadata, *(cell.metadata for cell in nb.cells)]:
        pm = meta.get("papermill")
        if pm is not None:
            for key in _PAPERMILL_CLOCK:
                if key in pm:
                    pm[key] = None
        meta.pop("execution", None)


def run(task: Task) -> TaskResult:
    """Execute and export one task; never raises for a notebook's own failure."""
    import nbformat

    from valuelib.render.execute import execute, recorded_metrics

    warm_up()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with (tempfile.TemporaryDirectory(prefix="vr-task-",
                                      dir=tempdirs.socket_root(TASK_SOCKET_DEPTH)) as tmp,
          tempfile.TemporaryDirectory(prefix="vr-nb-") as nb_dir):
        (Path(tmp) / BUNDLE_NAME).write_bytes(task.bundle)
        params = {**task.parameters, "bundle": BUNDLE_NAME}
        notebook = task.notebook
        if task.notebook_source is not None:  # not in the kernel's folder: not the account's
            notebook = str(Path(nb_dir) / Path(task.notebook).name)
            Path(notebook).write_bytes(task.notebook_source)
        ex = execute(notebook, params, cwd=tmp, cell_timeout=task.cell_timeout)
    timings["execute"] = ex.seconds
    if ex.nb is not None:
        _forget_paths(ex.nb, task)
        _forget_clock(ex.nb)
    if not ex.ok:
        failed = nbformat.writes(ex.nb).encode("utf-8") if ex.nb is not None else None
        return TaskResult(task.account_id, task.stem, False, error=str(ex.error),
                          cell=ex.error.cell_index if ex.error else None,
                          failed_notebook=failed, timings=timings,
                          seconds=time.perf_counter() - t0)
    nb = ex.nb
    files: dict[str, bytes] = {}
    try:
        t = time.perf_counter()
        audience = task.parameters.get("audience")
        html = _exporters.html(nb, audience=audience)
        timings["html"] = time.perf_counter() - t
        if "html" in task.formats:
            files[f"{task.stem}.html"] = html.encode("utf-8")
        if "pdf" in task.formats:
            t = time.perf_counter()
            files[f"{task.stem}.pdf"] = _exporters.pdf(html, audience=audience,
                                                       engine=task.pdf_engine,
                                                       timeout=task.print_timeout)
            timings["pdf"] = time.perf_counter() - t
    except Exception as exc:  # noqa: BLE001 - an export failure fails this account only
        return TaskResult(task.account_id, task.stem, False,
                          error=f"export: {type(exc).__name__}: {exc}",
                          failed_notebook=nbformat.writes(nb).encode("utf-8"),
                          timings=timings, seconds=time.perf_counter() - t0)
    files[f"{task.stem}.ipynb"] = nbformat.writes(nb).encode("utf-8")
    metrics = recorded_metrics(nb)
    if task.stem == "value-review":
        files["metrics.json"] = json.dumps(metrics, indent=2, sort_keys=True,
                                           ensure_ascii=False).encode("utf-8")
    return TaskResult(task.account_id, task.stem, True, files=files, metrics=metrics,
                      timings=timings, seconds=time.perf_counter() - t0)
