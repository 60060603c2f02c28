"""Pristine Jupyter kernels without start-up cost: a pre-imported fork server and its provisioner.

A fresh ipykernel spends 2–3 s starting Python and importing pandas, matplotlib, seaborn and
valuelib before it runs one line of a notebook. Reusing a kernel would remove that cost but
let one account's state (variables, module attributes, environment, files) leak into the
next account's review. This module keeps both properties:

* The **fork server** is a long-lived child of each batch worker. It imports the heavy modules
  once and then does nothing but wait on a socket. It never runs notebook code, and it
  creates no thread, zmq context, socket (other than its control socket) or event loop, so an
  ``os.fork()`` of it is safe and every fork starts from the same never-used state.
* For each notebook the server forks; the child changes to the task's directory, takes the
  task's environment and either runs the cells it is sent in an IPython shell (``shell``
  requests, `kernels.shell`: the batch's default) or starts a real ``IPKernelApp`` on the
  connection file the kernel manager wrote (``spawn``). All threads, zmq sockets and the
  event loop are created only in the child. The child is thrown away after one notebook, so
  no account ever sees another's kernel.
* A pool worker asks the batch's kernels' origin (`kernels.origin`), which has preloaded,
  for its fork server before its first task (``ForkServer.start(origin=...)``). Without an
  origin, a worker forked from a preloading process that imported the kernels' libraries too
  forks its server from itself (``ForkServer.start(from_self=True)``). Either way the server
  imports nothing, and keeps no file but its socket. Anywhere else the server is a new
  interpreter that imports everything (``preload``).
* The server also draws the review's charts once (`kernels.warm`), so kernels start with
  matplotlib's font lookups done, and leaves matplotlib and valuelib as it found them.
* Native threads: numpy's and scipy's OpenBLAS keep thread pools, which they stop before a
  fork and restart after it (pthread_atfork); nothing else in the server starts a thread.
* ``ForkProvisioner`` is a jupyter_client kernel provisioner that asks the fork server for a
  kernel instead of running ``Popen``; nbclient, papermill and ``KernelManager`` work with it
  unchanged. ``ForkKernelManager`` selects it without an installed kernelspec.

Protocol: one ``AF_UNIX``/``SOCK_SEQPACKET`` socket pair between worker and server (message
boundaries kept, file descriptors passable). Each request is one JSON message and gets one
JSON reply (a ``shell`` request carries the socket the shell will talk over); a ``spawn`` or
``shell`` reply carries the child's pidfd, so the worker can watch and signal a
process that is not its own child without any risk of hitting a recycled pid. The server
reaps its children on SIGCHLD and remembers their exit codes. When the worker goes away the
socket reaches end-of-file and the server kills any kernel still running and exits.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.provisioner_base import KernelProvisionerBase
from traitlets import default

log = logging.getLogger(__name__)

PROVISIONER_NAME = "valuereview-fork-provisioner"
KERNEL_LOG = "kernel.log"  # the kernel's own stdout/stderr, in its working directory
READY_TIMEOUT = 120.0  # seconds for the server's imports (a cold disk can be slow)
REQUEST_TIMEOUT = 30.0
KILL_WAIT = 1.0  # seconds `ForkProvisioner.kill` waits for the kernel to be gone
_MAX_MESSAGE = 1 << 20
_REMEMBERED_EXITS = 1024

# The inline backend registers itself with the running IPython shell when it is imported; a
# copy imported in the server (where there is no shell) would stay unregistered in every
# kernel. So it must be imported by the kernel, never preloaded.
NEVER_PRELOAD = ("matplotlib_inline.backend_inline",)


# What any kernel imports before the notebook's own imports, in an order that mirrors a real
# kernel: the kernel machinery first, then the libraries valuelib draws with. Not seaborn and
# scipy (0.9 s of CPU on every batch's critical path): only a portfolio review uses them, for
# its heatmap and its sBG fit, and imports them itself, once per batch.
KERNEL_PRELOAD = (
    "zmq",
    "tornado.ioloop",
    "jupyter_client.session",
    "IPython",
    "IPython.core.interactiveshell",
    "IPython.core.pylabtools",
    "IPython.display",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.debugger",  # pulls in debugpy/pydevd: a third of a kernel's own start-up
    "sqlite3",  # IPython's history
    "pdb",
    "tornado.gen",
    "tornado.locks",
    "tornado.queues",
    "IPython.extensions",
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
)


def notebook_imports(notebooks: Iterable[Path]) -> list[str]:
    """The modules the code cells of `notebooks` import, in order of first appearance.

    ``from pkg import name`` counts `pkg`, and `pkg.name` too when that is a module of
    valuelib; a module whose top-level package is not installed, a relative import and a
    cell that is not Python are left out. Nothing is imported to find out."""
    import ast
    import importlib.util

    found: dict[str, None] = {}
    for path in notebooks:
        try:  # the JSON itself: nbformat would be one more module in every kernel
            cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.debug("not preloading the imports of %s: %s", path, exc)  # fails in its batch
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            try:
                tree = ast.parse(source if isinstance(source, str) else "".join(source))
            except SyntaxError:  # IPython magics, or a cell the kernel will reject itself
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(dict.fromkeys(alias.name for alias in node.names))
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found[node.module] = None
                    found.update(dict.fromkeys(
                        f"{node.module}.{alias.name}" for alias in node.names
                        if _is_valuelib_module(f"{node.module}.{alias.name}")))
    return [m for m in found if importlib.util.find_spec(m.partition(".")[0]) is not None]


def _is_valuelib_module(name: str) -> bool:
    """Whether `name` is a module or package of valuelib, found on disk without importing."""
    parts = name.split(".")
    if parts[0] != "valuelib":
        return False
    base = Path(__file__).resolve().parents[2].joinpath(*parts[1:])
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _review_notebooks() -> list[Path]:
    """The notebooks the batch will run (the project's own, see `valuelib.project.resources`),
    or the packaged ones when there are none."""
    from valuelib.project import resources

    for folder in (resources.folder("notebooks"), resources.packaged("notebooks")):
        found = sorted(folder.glob("*.ipynb"))
        if found:
            return found
    return []


@functools.cache
def preload_modules() -> tuple[str, ...]:
    """What a kernel running the batch's notebooks imports: `KERNEL_PRELOAD`, then the
    modules the notebooks themselves import (`notebook_imports`), so a module a notebook
    starts importing is preloaded without anyone listing it."""
    found = dict.fromkeys(KERNEL_PRELOAD)
    found.update(dict.fromkeys(notebook_imports(_review_notebooks())))
    return tuple(m for m in found if m not in NEVER_PRELOAD)


class ForkServerError(RuntimeError):
    """The fork server could not be started or did not answer."""


# --------------------------------------------------------------------------------------------
# Server side: runs in the fork-server process (`python -c "...; serve(fd)"`).
# --------------------------------------------------------------------------------------------


class _Server:
    """The fork server's state: its control socket, live kernels and remembered exit codes."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.live: set[int] = set()
        self.exits: OrderedDict[int, int] = OrderedDict()

    # -- children ------------------------------------------------------------------------

    def _record_exit(self, pid: int, status: int) -> None:
        self.live.discard(pid)
        self.exits[pid] = os.waitstatus_to_exitcode(status)
        while len(self.exits) > _REMEMBERED_EXITS:
            self.exits.popitem(last=False)

    def reap(self, *_: Any) -> None:
        """Collect every exited child (SIGCHLD handler) so none stays a zombie."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._record_exit(pid, status)

    def exit_code(self, pid: int) -> int | None:
        """`pid`'s exit code if it has exited, else None (reaping it now if it just did)."""
        if pid in self.exits:
            return self.exits[pid]
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped already, or never ours
            return self.exits.get(pid, -1 if pid not in self.live else None)
        if got == 0:
            return None
        self._record_exit(pid, status)
        return self.exits[pid]

    def kill_all(self) -> None:
        """SIGKILL every kernel still running (their worker is gone) and reap them."""
        for pid in list(self.live):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.live and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.01)

    # -- requests ------------------------------------------------------------------------

    def reply(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        """Send `message` to the worker; if the worker has gone (stopped by a signal, killed),
        there is no one left to serve: kill the kernels and leave, quietly."""
        data = json.dumps(message).encode()
        try:
            if fds:
                socket.send_fds(self.conn, [data], fds)
            else:
                self.conn.send(data)
        except (BrokenPipeError, ConnectionResetError):
            self.kill_all()
            os._exit(0)

    def spawn(self, req: dict[str, Any], fds: list[int] | None = None) -> None:
        """Fork one kernel for `req` (an ipykernel, or with ``op: shell`` an IPython shell on
        the socket `fds[0]`) and reply with its pid (and a pidfd for it)."""
        problem = fork_safety_problem()
        if problem:
            self.reply({"error": f"fork server is not safe to fork: {problem}"})
            return
        if req.get("op") == "shell" and len(fds or []) != 1:
            self.reply({"error": "a shell request needs exactly one socket"})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the kernel; never returns into the server's loop
            code = 1
            try:
                if req.get("op") == "shell":
                    code = _run_shell(self.conn, req, (fds or [])[0])
                else:
                    code = _run_kernel(self.conn, req)
            except BaseException:  # noqa: BLE001 - report, then leave the process
                import traceback

                with contextlib.suppress(Exception):
                    traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        self.live.add(pid)
        pidfds: list[int] = []
        if hasattr(os, "pidfd_open"):
            # The child cannot have been reaped yet (only this thread reaps), so the pidfd is
            # for the right process even if the kernel has already exited.
            with contextlib.suppress(OSError):
                pidfds.append(os.pidfd_open(pid))
        try:
            self.reply({"pid": pid}, pidfds)
        finally:
            for fd in pidfds:
                os.close(fd)

    def handle(self, req: dict[str, Any], fds: list[int]) -> None:
        op = req.get("op")
        if op in ("spawn", "shell"):
            self.spawn(req, fds)
        elif op == "status":
            self.reply({"pid": req["pid"], "exit": self.exit_code(int(req["pid"]))})
        elif op == "info":
            self.reply(server_info() | {"live": sorted(self.live)})
        else:
            self.reply({"error": f"unknown request {op!r}"})

    def loop(self) -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.conn, _MAX_MESSAGE, 4)
            except OSError:
                return
            if not data:  # the worker closed its end or died: nothing left to serve
                return
            try:
                try:
                    req = json.loads(data)
                except ValueError as exc:
                    self.reply({"error": f"bad request: {exc}"})
                    continue
                try:
                    self.handle(req, list(fds))
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        self.reply({"error": f"{type(exc).__name__}: {exc}"})
            finally:
                for fd in fds:  # the child has its copy; the server keeps none
                    with contextlib.suppress(OSError):
                        os.close(fd)


def fork_safety_problem() -> str | None:
    """Why this process must not fork right now (threads, zmq context, event loop), or None."""
    if threading.active_count() != 1:
        names = [t.name for t in threading.enumerate()]
        return f"{threading.active_count()} threads: {names}"
    zmq = sys.modules.get("zmq")
    if zmq is not None and getattr(zmq.Context, "_instance", None) is not None:
        return "a global zmq.Context exists"
    if asyncio._get_running_loop() is not None:
        return "an asyncio event loop is running"
    policy = getattr(asyncio.events, "_event_loop_policy", None)
    local = getattr(policy, "_local", None)
    if getattr(local, "_loop", None) is not None:
        return "an asyncio event loop exists"
    return None


def server_info() -> dict[str, Any]:
    """What the server reports about itself (for the ready message, tests and debugging)."""
    return {
        "pid": os.getpid(),
        "threads": threading.active_count(),
        "fork_safety_problem": fork_safety_problem(),
        "preloaded": [m for m in preload_modules() if m in sys.modules],
        "never_preloaded_present": [m for m in NEVER_PRELOAD if m in sys.modules],
        "modules": len(sys.modules),
    }


def preload(between: Callable[[], None] | None = None) -> None:
    """Import what every kernel would import, exactly as a starting kernel would see it.

    `between` is called after each import (the batch's preloading process checks there
    whether it is still wanted)."""
    # ipykernel sets this before any user code runs (IPKernelApp.init_gui_pylab); setting it
    # before matplotlib is imported makes the preloaded matplotlib pick the same backend.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import importlib

    for name in preload_modules():
        importlib.import_module(name)
        if between is not None:
            between()
    import matplotlib.font_manager as fm

    fm.fontManager  # noqa: B018 - load the font cache once, not per kernel
    from valuelib.render.kernels import warm

    warm.chart_caches()  # font lookups cached once here, not once per kernel
    warm.prepared_figures()  # and the charts' empty figures made once, not once per review


def serve(fd: int, *, preloaded: bool = False) -> None:
    """Entry point of the fork-server process: preload, announce readiness, serve requests.

    `preloaded`: this process is a fork of one that has imported everything already (see
    `ForkServer.start`), so there is nothing to import.
    """
    # Like ipykernel_launcher: the launch directory is not an import location.
    if not preloaded and sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    conn = socket.socket(fileno=fd)
    server = _Server(conn)
    signal.signal(signal.SIGCHLD, server.reap)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the batch; we follow EOF
    t0 = time.perf_counter()
    try:
        try:
            if not preloaded:
                from valuelib.render.kernels.origin import preloading

                with preloading():  # collector off meanwhile, then all of it frozen
                    preload()
        except Exception as exc:  # noqa: BLE001 - tell the worker, it will fall back
            server.reply({"error": f"preload failed: {type(exc).__name__}: {exc}"})
            return
        import gc

        # What the fork was given since its parent froze (little): out of every kernel's
        # GC too, for fewer copied pages.
        gc.collect()
        gc.freeze()
        server.reply({"ready": True, "import_seconds": time.perf_counter() - t0,
                      "forked_preloaded": preloaded} | server_info())
        server.loop()
        # The worker has gone: leave without tearing down the preloaded interpreter module
        # by module (a tenth of a second its worker would wait for at every exit).
        server.kill_all()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(0)
    finally:
        server.kill_all()


def _become_child(conn: socket.socket, req: dict[str, Any]) -> None:
    """In a forked child: leave the server's socket, session and signals; take the task's
    folder and environment; standard input from /dev/null, output to `KERNEL_LOG`."""
    conn.close()  # only the server may hold its end, or the worker never sees it close
    os.setsid()  # own process group: interrupts and kills reach the kernel and its children
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    out = os.open(KERNEL_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    if "numpy" in sys.modules:  # `random` reseeds itself after fork; numpy's global RNG not
        sys.modules["numpy"].random.seed()


def _run_kernel(conn: socket.socket, req: dict[str, Any]) -> int:
    """In the forked child: become a normal ipykernel process for `req` and run it."""
    _become_child(conn, req)
    argv = list(req["argv"])
    import importlib.util

    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [launcher.origin if launcher and launcher.origin else "ipykernel_launcher", *argv]

    from ipykernel.kernelapp import IPKernelApp

    code = 0
    try:
        IPKernelApp.launch_instance(argv=argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    import atexit as _atexit

    _atexit._run_exitfuncs()  # as a normal interpreter exit would (history, stream flush)
    return code


def _run_shell(conn: socket.socket, req: dict[str, Any], fd: int) -> int:
    """In the forked child: run the notebook's cells sent over socket `fd` (`kernels.shell`)."""
    _become_child(conn, req)
    from valuelib.render.kernels import shell

    sys.argv = ["valuereview-shell"]
    return shell.serve(socket.socket(fileno=fd))


# --------------------------------------------------------------------------------------------
# Client side: runs in the batch worker.
# --------------------------------------------------------------------------------------------


def preloaded_here() -> bool:
    """Whether this process has imported everything a fork server preloads (and nothing it
    must not), so that a fork of it can serve kernels without importing anything."""
    return (all(m in sys.modules for m in preload_modules())
            and not any(m in sys.modules for m in NEVER_PRELOAD))


class _ForkedServer:
    """The parts of `subprocess.Popen` that `ForkServer` uses, for a server forked from this
    process instead of started as a new interpreter."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"fork server {self.pid}", timeout or 0)
            time.sleep(0.005)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def _main_process_class() -> type | None:
    """multiprocessing's class for a main process (private, and deleted from its module once
    instantiated), taken from this process if it is a main process: this module is imported
    by the batch's preloading process, which is."""
    import multiprocessing.process

    current = type(multiprocessing.process.current_process())
    return current if current.__name__ == "_MainProcess" else None


_MAIN_PROCESS = _main_process_class()


def _as_a_new_interpreter() -> None:
    """To multiprocessing, make this fork of a pool worker what a fork server started as a new
    interpreter is: the main process, not the batch's daemonic worker (which may not start
    processes: a kernel's `multiprocessing.Pool` would fail), with none of the worker's
    children or finalizers, and no link to the batch's resource tracker and preloading
    process (their file descriptors are closed; the numbers must not be written to again)."""
    import itertools

    process = sys.modules.get("multiprocessing.process")
    if process is not None and _MAIN_PROCESS is not None:
        process._current_process = _MAIN_PROCESS()
        process._parent_process = None
        process._children = set()
        process._process_counter = itertools.count(1)
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._finalizer_registry.clear()
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    if tracker is not None:
        tracker._resource_tracker._fd = None
        tracker._resource_tracker._pid = None
    server = sys.modules.get("multiprocessing.forkserver")
    if server is not None:
        server._forkserver.__init__()


def _become_forked_server(fd: int) -> None:
    """In a fork of a preloaded worker: keep only the server's socket and standard streams
    (the worker's task pipes and any file it had open must not reach a kernel), leave the
    worker's session and directory, and serve. Never returns."""
    code = 1
    try:
        keep = {0, 1, 2, fd}
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                with contextlib.suppress(OSError):
                    os.close(int(name))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.setsid()
        os.chdir(os.path.abspath(os.sep))
        _as_a_new_interpreter()
        serve(fd, preloaded=True)
        code = 0
    except BaseException:  # noqa: BLE001 - report, then leave: never back into the worker
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exc()
    finally:
        os._exit(code)


class ForkServer:
    """Handle on one fork-server process: start, ask, restart if dead, stop."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready: dict[str, Any] | None = None
        self._lock = threading.RLock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._sock is not None

    def start(self, *, from_self: bool = False, origin: str | None = None) -> None:
        """Start the server process; it imports in the background until `wait_ready`.

        `origin`: the socket of the batch's kernels' origin (`kernels.origin`), which forks a
        preloaded server for this process; if it cannot, the other ways below are taken.
        `from_self`: if this process has everything preloaded already (a pool worker forked
        from the batch's preloaded process, before its first task) and is safe to fork, the
        server is a fork of it and imports nothing. Only for a process that has not yet held
        any account's data, since every kernel would inherit its memory.
        """
        with self._lock:
            if self.alive():
                return
            self.stop()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            if origin is not None:
                from valuelib.render.kernels import origin as kernels_origin

                try:
                    pid, pidfd = kernels_origin.request_server(origin, theirs.fileno(),
                                                               READY_TIMEOUT)
                except kernels_origin.OriginError as exc:
                    log.warning("%s: this worker starts its own kernel fork server", exc)
                else:
                    theirs.close()
                    self._proc = kernels_origin.AdoptedServer(pid, pidfd)  # type: ignore[assignment]
                    self._sock = ours
                    self._ready = None
                    return
            if from_self and preloaded_here() and fork_safety_problem() is None:
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    ours.close()
                    _become_forked_server(theirs.fileno())
                theirs.close()
                self._proc = _ForkedServer(pid)  # type: ignore[assignment]
                self._sock = ours
                self._ready = None
                return
            code = f"from valuelib.render.kernels.forkserver import serve; serve({theirs.fileno()})"
            from valuelib.render.kernels.origin import start_interpreter

            try:
                self._proc = start_interpreter(code, theirs.fileno())
            finally:
                theirs.close()
            self._sock = ours
            self._ready = None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
        """Block until the server has finished its imports; returns its ready message."""
        with self._lock:
            if not self.alive():
                self.start()
            if self._ready is None:
                msg, _ = self._recv(timeout)
                if not msg.get("ready"):
                    self.stop()
                    raise ForkServerError(msg.get("error", f"fork server failed: {msg}"))
                self._ready = msg
            return self._ready

    def request(self, message: dict[str, Any], timeout: float = REQUEST_TIMEOUT,
                fds: list[int] | None = None) -> tuple[dict[str, Any], list[int]]:
        """Send one request (with `fds`, if any) and return its reply and any file
        descriptors it carried."""
        with self._lock:
            self.wait_ready()
            assert self._sock is not None
            try:
                if fds:
                    socket.send_fds(self._sock, [json.dumps(message).encode()], fds)
                else:
                    self._sock.send(json.dumps(message).encode())
                reply, fds = self._recv(timeout)
            except (OSError, ForkServerError) as exc:
                self.stop()
                raise ForkServerError(f"fork server stopped answering: {exc}") from exc
            if "error" in reply:
                for fd in fds:
                    os.close(fd)
                raise ForkServerError(reply["error"])
            return reply, fds

    def _recv(self, timeout: float) -> tuple[dict[str, Any], list[int]]:
        assert self._sock is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ForkServerError(f"no answer from the fork server in {timeout:.0f} s")
            readable, _, _ = select.select([self._sock], [], [], min(remaining, 0.5))
            if readable:
                break
            if self._proc is not None and self._proc.poll() is not None:
                raise ForkServerError(f"fork server exited with code {self._proc.returncode}")
        data, fds, _, _ = socket.recv_fds(self._sock, _MAX_MESSAGE, 4)
        if not data:
            raise ForkServerError("fork server closed its socket")
        return json.loads(data), list(fds)

    def spawn(self, argv: list[str], cwd: str, env: dict[str, str]) -> tuple[int, int | None]:
        """Fork a kernel that runs as `ipykernel_launcher <argv>` would, in `cwd` with `env`;
        returns its pid and a pidfd for it (None where pidfds are unsupported)."""
        reply, fds = self.request({"op": "spawn", "argv": argv, "cwd": cwd, "env": env})
        for extra in fds[1:]:
            os.close(extra)
        return int(reply["pid"]), (fds[0] if fds else None)

    def shell(self, fd: int, cwd: str, env: dict[str, str]) -> tuple[int, int | None]:
        """Fork an IPython shell (`kernels.shell`) that talks over socket `fd`, in `cwd` with
        `env`; returns its pid and a pidfd for it (None where pidfds are unsupported)."""
        reply, fds = self.request({"op": "shell", "cwd": cwd, "env": env}, fds=[fd])
        for extra in fds[1:]:
            os.close(extra)
        return int(reply["pid"]), (fds[0] if fds else None)

    def exit_code(self, pid: int) -> int | None:
        """`pid`'s exit code as the server saw it, or None while it runs."""
        reply, _ = self.request({"op": "status", "pid": pid})
        return reply["exit"]

    def info(self) -> dict[str, Any]:
        reply, _ = self.request({"op": "info"})
        return reply

    def stop(self, timeout: float = 5.0) -> None:
        """Close the socket (the server then kills its kernels and exits) and reap it."""
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.close()
                self._sock = None
            proc, self._proc = self._proc, None
            self._ready = None
            if proc is None:
                return
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)


_server: ForkServer | None = None
_server_lock = threading.Lock()


_origin: str | None = None


def use_origin(path: str | None) -> None:
    """Have this process's fork server, whenever it is (re)started, forked by the batch's
    kernels' origin listening at `path` (`kernels.origin`); None: start it as before."""
    global _origin
    _origin = path


def get_server(*, wait: bool = True, from_self: bool = False) -> ForkServer:
    """This process's fork server, started on first use and restarted if it has died.

    Forked by the kernels' origin when this process was given one (`use_origin`). Else
    `from_self` (pool workers, before their first task): fork it from this process when this
    process is preloaded (see `ForkServer.start`); a restart later always starts afresh.
    """
    global _server
    with _server_lock:
        if _server is not None and _server.owner != os.getpid():
            # Inherited through a fork of this process: that server belongs to the parent.
            _server = None
        if _server is None:
            _server = ForkServer()
            atexit.register(stop_server)
        if not _server.alive():
            _server.start(from_self=from_self, origin=_origin)
    if wait:
        _server.wait_ready()
    return _server


def stop_server() -> None:
    """Stop this process's fork server, if any (also run at interpreter exit)."""
    with _server_lock:
        if _server is not None and _server.owner == os.getpid():
            _server.stop()


# --------------------------------------------------------------------------------------------
# jupyter_client integration.
# --------------------------------------------------------------------------------------------


def kernel_arguments(cmd: list[str], connection_file: str) -> list[str]:
    """The kernel application's arguments from a kernelspec command: what follows
    `-m ipykernel_launcher` (e.g. `-f <file> --Some.option=x`); just `-f <file>` otherwise."""
    for i, arg in enumerate(cmd[:-1]):
        if arg == "-m" and cmd[i + 1] == "ipykernel_launcher":
            return list(cmd[i + 2:])
    return ["-f", connection_file]


class ForkProvisioner(KernelProvisionerBase):  # type: ignore[misc]
    """Provision each kernel as a fork of this process's pre-imported fork server.

    The kernel is not a child of this process, so it is watched and signalled through a pidfd
    (Linux) that the server hands over with its pid, and its exit code comes from the server,
    which is its parent and reaps it.
    """

    pid: int | None = None
    cwd: str | None = None
    _pidfd: int | None = None
    _exit: int | None = None
    _launched: bool = False

    @property
    def has_process(self) -> bool:
        return self._launched

    @property
    def exit_code(self) -> int | None:
        """The kernel's exit code once known (synchronous, for error messages)."""
        return self._exit

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Write the connection file (the kernel binds to what it names) and build the env."""
        km = self.parent
        extra_arguments = kwargs.pop("extra_arguments", [])
        kwargs.pop("transport_encryption", None)
        if km is None:
            raise RuntimeError("ForkProvisioner needs a KernelManager parent")
        # CurveZMQ keys as jupyter_client's LocalProvisioner makes them (off by default).
        policy = getattr(km, "_transport_encryption_policy", lambda: "disabled")()
        supports = getattr(km, "_kernel_supports_curve_encryption", lambda: False)
        if (policy == "required" or (policy == "auto" and supports())) and \
                getattr(km, "curve_publickey", "") is None:
            import zmq

            km.curve_publickey, km.curve_secretkey = zmq.curve_keypair()
        if km.transport == "ipc" and not os.path.isabs(km.ip):
            # Relative socket paths would resolve against two different working directories
            # (the client's and the kernel's); anchor them where the client is now.
            km.ip = os.path.abspath(km.ip)
        env = kwargs.get("env") or {}
        km.write_connection_file(jupyter_session=env.get("JPY_SESSION_NAME", ""))
        self.connection_info = km.get_connection_info()
        # The command is never executed (the kernel is forked, not exec'd); the kernel manager
        # still expects one, and it documents what the kernel is equivalent to.
        cmd = km.format_kernel_cmd(extra_arguments=extra_arguments)
        return await super().pre_launch(cmd=cmd, **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Ask the fork server for a kernel bound to our connection file."""
        argv = kernel_arguments(cmd, os.path.realpath(self.parent.connection_file))
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        try:
            self.pid, self._pidfd = get_server().spawn(argv, cwd, env)
        except ForkServerError as exc:  # a dead server is restarted once, then we give up
            log.warning("fork server failed (%s); restarting it", exc)
            stop_server()
            self.pid, self._pidfd = get_server().spawn(argv, cwd, env)
        self.cwd = cwd
        self._exit = None
        self._launched = True
        return self.connection_info

    def _exited(self) -> bool:
        if self._pidfd is not None:
            readable, _, _ = select.select([self._pidfd], [], [], 0)
            return bool(readable)
        assert self.pid is not None
        try:
            return get_server(wait=False).exit_code(self.pid) is not None
        except ForkServerError:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            return False

    async def poll(self) -> int | None:
        """None while the kernel runs, else its exit code (-1 if its parent is gone)."""
        if not self._launched or self._exit is not None:
            return self._exit if self._launched else 0
        if not self._exited():
            return None
        code: int | None = None
        with contextlib.suppress(ForkServerError):
            assert self.pid is not None
            for _ in range(50):  # the pidfd may report exit a moment before waitpid can
                code = get_server(wait=False).exit_code(self.pid)
                if code is not None:
                    break
                await asyncio.sleep(0.01)
        self._exit = -1 if code is None else code
        return self._exit

    async def wait(self) -> int | None:
        """Wait for the kernel to exit, then release it."""
        if not self._launched:
            return 0
        while await self.poll() is None:
            await asyncio.sleep(0.02)
        self._release()
        return self._exit

    def _release(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None
        self._launched = False

    async def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group (the kernel and anything it started)."""
        if not self._launched or self.pid is None or self._exited():
            return
        try:
            os.killpg(self.pid, signum)  # the kernel called setsid(): its pgid is its pid
        except ProcessLookupError:
            if self._pidfd is not None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self._pidfd, signum)

    async def kill(self, restart: bool = False) -> None:
        """SIGKILL the kernel and return once it is gone (within `KILL_WAIT` seconds).

        jupyter_client checks right after `kill` whether the kernel is still alive and, if
        so, sleeps 0.1 s before it looks again: a tenth of a second per notebook, while a
        killed process is gone in a millisecond or two.
        """
        await self.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + KILL_WAIT
        while self._launched and not self._exited() and time.monotonic() < deadline:
            await asyncio.sleep(0.001)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Nothing is cached per kernel; just make sure the pidfd is not leaked."""
        if not restart and self._launched and await self.poll() is not None:
            self._release()

    def resolve_path(self, path_str: str) -> str | None:
        path = Path(path_str).expanduser()
        if not path.is_absolute() and self.cwd:
            path = (Path(self.cwd) / path).resolve()
        return path.as_posix() if path.exists() else None

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info.update({"pid": self.pid, "cwd": self.cwd})
        return info

    async def load_provisioner_info(self, provisioner_info: dict[str, Any]) -> None:
        """Re-attach to a kernel by pid (another process's fork server may be its parent)."""
        await super().load_provisioner_info(provisioner_info)
        self.pid = provisioner_info.get("pid")
        self.cwd = provisioner_info.get("cwd")
        if self.pid is not None:
            self._launched = True
            if hasattr(os, "pidfd_open"):
                try:
                    self._pidfd = os.pidfd_open(self.pid)
                except ProcessLookupError:
                    self._exit = -1


class ForkKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels come from the fork server over IPC (Unix) sockets.

    The provisioner is chosen the standard way, through the kernelspec's
    ``metadata.kernel_provisioner`` stanza and the entry point in pyproject.toml, added here
    to the installed python3 kernelspec so no separate kernelspec has to be installed.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"  # no TCP ports: nothing on the network can reach a kernel

    @property
    def kernel_spec(self) -> Any:
        spec = super().kernel_spec
        if spec is not None:
            spec.metadata = {**spec.metadata,
                             "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}}
        return spec


if __name__ == "__main__":  # pragma: no cover - `python -m valuelib.render.kernels.forkserver`
    print(json.dumps(get_server().info(), indent=2))
