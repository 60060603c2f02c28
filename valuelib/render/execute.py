"""Execute a notebook with papermill semantics: parameters, injected-parameters cell, errors kept.

On failure the executed notebook (with papermill's error marker and the failing cell's
traceback) is still returned, so the batch can keep it for an analyst to open.

Two kinds of kernel, same semantics:

* ``kernel="fork"`` (default): a pristine kernel forked from this process's pre-imported fork
  server (`forkserver.py`): no start-up cost, and still one never-used kernel per notebook.
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

from valuelib.render.inject import parameterize
from valuelib.report.record import METRICS_MIME

log = logging.getLogger(__name__)


KERNEL_LOG = "kernel.log"
ENGINE_NAME = "valuereview"

Kernel = Literal["fork", "fresh"]


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


_engine_registered = False


def _register_engine() -> None:
    """Register papermill's nbclient engine with one change: a timeout or a dead kernel is
    recorded in the failing cell like an error the cell raised, instead of losing the notebook.

    Stock papermill lets nbclient's `CellTimeoutError` / `DeadKernelError` escape: the executed
    notebook is not kept, no error marker is added and the failing cell is unknown. Here the
    cell gets an error output (ename = the exception's name) and papermill's failure metadata,
    so `papermill.execute.raise_for_execution_errors` handles it exactly like an exception
    raised by the cell. Such a kernel is asked nothing more and is killed rather than shut
    down politely (it is thrown away either way).
    """
    global _engine_registered
    if _engine_registered:
        return
    import zmq
    from jupyter_core.utils import ensure_async, run_sync
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbclient.util import run_hook
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class Client(PapermillNotebookClient):
        kernel_lost = False

        def execute(self, **kwargs: Any) -> NotebookNode:
            self.reset_execution_trackers()
            with self.setup_kernel(**kwargs):
                self.papermill_execute_cells()
                if not self.kernel_lost:
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                self.set_widgets_metadata()
            return self.nb

        async def async_start_new_kernel_client(self):  # type: ignore[override]
            # nbclient's version ends jupyter_client's wait_for_ready, which always idles
            # 0.2 s on IOPub to flush it: a fifth of a forked kernel's whole start-up.
            self.kc = self.km.client()
            # A forked kernel binds its sockets a few ms after we connect; ZMQ retries
            # connecting every 100 ms by default, which IOPub's subscription would wait out.
            self.kc.context.setsockopt(zmq.RECONNECT_IVL, 5)
            try:
                await ensure_async(self.kc.start_channels())
                await _wait_for_ready(self.kc, self.startup_timeout)
            except Exception:
                await self._async_cleanup_kernel()
                raise
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

        def papermill_execute_cells(self) -> None:
            for index, cell in enumerate(self.nb.cells):
                try:
                    self.nb_man.cell_start(cell, index)
                    self.execute_cell(cell, index)
                except CellExecutionError as ex:
                    self.nb_man.cell_exception(self.nb.cells[index], cell_index=index,
                                               exception=ex)
                    break
                except (CellTimeoutError, DeadKernelError) as ex:
                    self.kernel_lost = True
                    self.shutdown_kernel = "immediate"
                    failed = self.nb.cells[index]
                    ename, evalue = self._describe(ex)
                    failed.setdefault("outputs", []).append(nbformat.v4.new_output(
                        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))
                    self.nb_man.cell_exception(failed, cell_index=index, exception=ex)
                    break
                finally:
                    self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)

        def _describe(self, ex: BaseException) -> tuple[str, str]:
            if isinstance(ex, CellTimeoutError):
                return ("CellTimeoutError",
                        f"the cell ran longer than the {self.timeout:g} s cell timeout")
            provisioner = getattr(self.km, "provisioner", None)
            code = getattr(provisioner, "exit_code", None)
            proc = getattr(provisioner, "process", None)
            if code is None and proc is not None:
                code = proc.poll()
            how = f" (exit code {code})" if code is not None else ""
            return "DeadKernelError", f"the kernel died while running this cell{how}"

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            # The same arguments papermill's NBClientEngine hands to its client.
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=log,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            return Client(nb_man, **final_kwargs).execute()

    papermill_engines.register(ENGINE_NAME, Engine)
    _engine_registered = True


async def _wait_for_ready(kc: Any, timeout: float) -> None:
    """Wait until the kernel answers ``kernel_info`` on shell *and* IOPub is connected.

    IOPub is proven connected by receiving the kernel's ``idle`` status for our own
    ``kernel_info`` request, which also means everything that request caused has been read.
    (jupyter_client instead waits for 0.2 s of IOPub silence.) If IOPub stays silent, ZMQ's
    subscription may have been late: ask again, as jupyter_client does.
    """
    from queue import Empty

    from jupyter_core.utils import ensure_async

    deadline = time.monotonic() + timeout
    asked: set[str] = set()
    while True:
        msg_id = kc.kernel_info()
        asked.add(msg_id)
        reply = None
        while reply is None:
            try:
                msg = await ensure_async(kc.shell_channel.get_msg(timeout=1))
            except Empty:
                break
            if msg["parent_header"].get("msg_id") in asked:
                reply = msg
        if reply is not None:
            # A late subscription misses what was sent before it: wait a moment for the
            # idle status, and if it does not come, ask again.
            wait_until = time.monotonic() + 0.25
            while (left := wait_until - time.monotonic()) > 0:
                try:
                    msg = await ensure_async(kc.iopub_channel.get_msg(timeout=left))
                except Empty:
                    break
                if (msg["msg_type"] == "status"
                        and msg["parent_header"].get("msg_id") in asked
                        and msg["content"].get("execution_state") == "idle"):
                    kc._handle_kernel_info_reply(reply)
                    return
        if not await ensure_async(kc.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


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
    kernel: Kernel = "fork",
) -> Execution:
    """Run `notebook` with `parameters` in a kernel of its own and return the executed notebook.

    `kernel="fork"` forks a pristine pre-imported kernel (see module docstring); if the fork
    server cannot be started at all, this run falls back to a fresh kernel process.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _register_engine()
    # No IPython history database: it is one file shared by every kernel, so account A's
    # code (with its injected parameters) would be readable from account B's kernel.
    engine_kwargs: dict[str, Any] = {"extra_arguments": ["--HistoryManager.enabled=False"]}
    if kernel == "fork":
        from valuelib.render.kernels import forkserver

        try:
            forkserver.get_server()
            engine_kwargs["kernel_manager_class"] = forkserver.ForkKernelManager
            # The kernel is discarded after this notebook: no need for a polite shutdown.
            engine_kwargs["shutdown_kernel"] = "immediate"
        except forkserver.ForkServerError as exc:
            log.warning("fork server unavailable (%s); using a fresh kernel", exc)
            kernel = "fresh"
    if kernel == "fresh":
        engine_kwargs["kernel_manager_class"] = _ipc_kernel_manager()
    elif kernel != "fork":
        raise ValueError(f"kernel must be 'fork' or 'fresh', not {kernel!r}")

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vr-exec-") as tmp:
        out = Path(tmp) / "executed.ipynb"
        # The injected cell is ours (plain values as literals), never papermill's translation.
        try:
            source = Path(tmp) / "parameterized.ipynb"
            nbformat.write(parameterize(nbformat.read(notebook, as_version=4), parameters),
                           source)
        except Exception as exc:  # noqa: BLE001 - unreadable notebook, a value not plain data
            return Execution(None, CellError(None, type(exc).__name__, _first_line(str(exc))),
                             time.perf_counter() - t0)
        try:
            nb = papermill.execute_notebook(
                str(source),
                str(out),
                parameters=None,
                engine_name=ENGINE_NAME,
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
