"""Our papermill engine: papermill's nbclient engine, with a timeout or a dead kernel recorded in
the failing cell like an error the cell raised, instead of losing the notebook.

Stock papermill lets nbclient's `CellTimeoutError` / `DeadKernelError` escape: the executed
notebook is not kept, no error marker is added and the failing cell is unknown. Here the cell
gets an error output (ename = the exception's name) and papermill's failure metadata, so
`papermill.execute.raise_for_execution_errors` handles it exactly like an exception raised by
the cell. Such a kernel is asked nothing more and is killed rather than shut down politely (it
is thrown away either way).

Papermill finds `Engine` by name (`ENGINE_NAME`) through the ``papermill.engine`` entry point
in pyproject.toml, which it loads when it is first imported (see the top of the code).
`IPCKernelManager` is the kernel manager of a fresh (not forked) kernel.
"""

from __future__ import annotations

import sys

if "papermill.engines" not in sys.modules:
    # papermill loads its engines, this one among them, when it is first imported: imported
    # before papermill, this module would be handed to papermill half-made. So give up the name
    # and let papermill import the module in full; importing this module then returns that copy.
    del sys.modules[__name__]
    import papermill.engines  # noqa: F401

import logging
import time
from typing import Any

import nbformat
import zmq
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import run_hook
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.utils import merge_kwargs, remove_args
from traitlets import default

from valuelib.render.kernels.forkserver import KERNEL_LOG

log = logging.getLogger(__name__)

#: The name papermill knows `Engine` by (the ``papermill.engine`` entry point's name).
ENGINE_NAME = "valuereview"


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager that talks to the kernel over Unix sockets in the working directory
    (no TCP ports: nothing on the network can reach a kernel holding account data), with the
    kernel process's own output in `kernel.log` there rather than on the batch's terminal."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kernel_log = open(KERNEL_LOG, "ab")  # noqa: SIM115 - the kernel process owns it
        kw.setdefault("stdout", kernel_log)
        kw.setdefault("stderr", kernel_log)
        try:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            kernel_log.close()


class Client(PapermillNotebookClient):
    """papermill's notebook client, which also records a timeout or a dead kernel in the
    failing cell and waits for a kernel without idling (`_wait_for_ready`)."""

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
                record_lost_kernel(failed, *self._describe(ex))
                self.nb_man.cell_exception(failed, cell_index=index, exception=ex)
                break
            finally:
                self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)

    def _describe(self, ex: BaseException) -> tuple[str, str]:
        if isinstance(ex, CellTimeoutError):
            return lost_kernel(timeout=self.timeout)
        provisioner = getattr(self.km, "provisioner", None)
        code = getattr(provisioner, "exit_code", None)
        proc = getattr(provisioner, "process", None)
        if code is None and proc is not None:
            code = proc.poll()
        return lost_kernel(exit_code=code)


def lost_kernel(*, timeout: float | None = None, exit_code: int | None = None) -> tuple[str, str]:
    """The error name and value recorded in a cell that timed out (`timeout` given) or whose
    kernel died (with its exit code, when known)."""
    if timeout is not None:
        return "CellTimeoutError", f"the cell ran longer than the {timeout:g} s cell timeout"
    how = f" (exit code {exit_code})" if exit_code is not None else ""
    return "DeadKernelError", f"the kernel died while running this cell{how}"


def record_lost_kernel(cell: NotebookNode, ename: str, evalue: str) -> None:
    """Add the error output of a lost kernel to the failing cell, as a raised error's."""
    cell.setdefault("outputs", []).append(nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))


class Engine(NBClientEngine):
    """papermill's nbclient engine running our `Client`."""

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


#: The name papermill knows `ShellEngine` by (a second ``papermill.engine`` entry point).
SHELL_ENGINE_NAME = "valuereview-shell"


class ShellEngine(Engine):
    """Cells run in a forked IPython shell (`kernels.shell`) instead of a Jupyter kernel.

    The same papermill semantics as `Engine`: papermill's execution manager records each
    cell's start, end and failure; the first failing cell stops the notebook (unless tagged
    ``raises-exception``); a timeout or a shell that dies is recorded in the failing cell as
    an error output, so papermill adds its error marker and keeps the notebook.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                 stdout_file=None, stderr_file=None, start_timeout=60,
                                 execution_timeout=None, cwd=None, **kwargs):
        import os

        from valuelib.render.kernels import shell

        nb = nb_man.nb
        session = shell.Session.start(str(cwd or os.getcwd()), dict(os.environ))
        try:
            info = session.request({"op": "info"}, start_timeout)
            nb.metadata["language_info"] = info["language_info"]
            by_display_id: dict[str, list[Any]] = {}
            for index, cell in enumerate(nb.cells):
                try:
                    nb_man.cell_start(cell, index)
                    if (cell.cell_type != "code" or not cell.source.strip()
                            or "skip-execution" in cell.metadata.get("tags", [])):
                        continue
                    cell.outputs = []
                    cell.execution_count = None
                    reply = session.request({"op": "run", "code": cell.source},
                                            execution_timeout)
                    cell.execution_count = reply["execution_count"]
                    cell.outputs = [_output(out, by_display_id) for out in reply["outputs"]]
                    for update in reply.get("updates", []):
                        for out in by_display_id.get(update["display_id"], []):
                            out["data"] = update["data"]
                            out["metadata"] = update["metadata"]
                    if (reply["status"] == "error"
                            and "raises-exception" not in cell.metadata.get("tags", [])):
                        ex = CellExecutionError("", reply.get("ename", ""),
                                                reply.get("evalue", ""))
                        nb_man.cell_exception(cell, cell_index=index, exception=ex)
                        break
                except (shell.ChildTimeout, shell.ChildDied) as ex:
                    record_lost_kernel(cell, *(
                        lost_kernel(timeout=execution_timeout)
                        if isinstance(ex, shell.ChildTimeout)
                        else lost_kernel(exit_code=session.exit_code())))
                    nb_man.cell_exception(cell, cell_index=index, exception=ex)
                    break
                finally:
                    nb_man.cell_complete(nb.cells[index], cell_index=index)
        finally:
            session.close()
        return nb


def _output(out: dict[str, Any], by_display_id: dict[str, list[Any]]) -> NotebookNode:
    """An output as the shell sent it, as an nbformat node (its display id kept aside)."""
    display_id = out.pop("transient", {}).get("display_id")
    node = nbformat.from_dict(out)
    if display_id:
        by_display_id.setdefault(display_id, []).append(node)
    return node
