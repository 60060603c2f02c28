"""A small process pool for render tasks: warm workers, recycled, and robust to crashes.

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies (a kernel that
takes its worker down, an out-of-memory kill, SIGKILL) every pending future fails with
BrokenProcessPool. Here a dead worker fails only the task it held, and a new worker takes
its place. Workers are recycled after `max_tasks` tasks or once their memory passes
`max_rss_mb`, which bounds the memory of a long batch. A task still running `account_timeout`
seconds after it was handed out fails alone: its worker is killed (its fork server then kills
the kernel) and a new worker takes its place.

Each worker has its own pipes, one task at a time in and its result out, written
synchronously: a worker that dies cannot take a shared lock or a queued message with it.

Start-up: workers are forks of one process per batch that imports everything a worker needs
once (multiprocessing's "forkserver" method preloading `batch.preload`), and their kernel fork
servers are forks of another, the kernels' origin (`kernels.origin`), which imports what
kernels need at the same time on the other core; `prestart` starts both early. A new worker,
including one that replaces a recycled worker, is ready in a fraction of a second instead of
importing pandas, matplotlib, IPython, nbconvert and WeasyPrint again. A worker takes the
batch's environment, as a spawned one would. Once the batch has read the warehouse, one core
has nothing else to do: `prestart` uses it to start the first workers' browsers and open their
pages, and each of those workers is handed one (`chromium.Handover`), so its first PDF does
not wait for a browser. Whether a worker still runs is asked of the
worker (a pidfd), so the batch goes on even if that preloading process is killed.

Stopping: Ctrl-C is the parent's to handle (workers ignore SIGINT, which a terminal sends to
the whole process group). When the caller's `stop()` says so, no task is handed out any more
and workers still busy are terminated; idle ones are let go. Nothing is lost with a worker:
its fork server kills the kernel once the worker's end of their socket closes, and workers
keep their temporary files under one folder per run that the parent removes at the end, so
even a worker killed with SIGKILL leaves no account's bundle behind.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from valuelib.batch import worker
from valuelib.render import chromium, tempdirs
from valuelib.render.kernels import origin

DEFAULT_MAX_TASKS = 50
DEFAULT_MAX_RSS_MB = 1200.0
MAX_STARTUP_FAILURES = 3
STOP_GRACE_SECONDS = 10.0  # a worker's time to leave before it is killed


class PoolError(RuntimeError):
    """Workers cannot be started at all (a broken installation, not a bad account)."""


@dataclass
class _Slot:
    process: Any
    inbox: Any  # parent's end: tasks go out
    outbox: Any  # parent's end: messages come in
    task: worker.Task | None = None
    ready: bool = False
    pidfd: int | None = None  # the worker process itself, to ask whether it still runs
    started: float = 0.0  # time.monotonic() when its task was handed out
    #: The browser the batch started and handed to this worker: the batch's child, so the
    #: batch reaps it, and kills it with the worker.
    browser: chromium.Browser | None = None

    def alive(self) -> bool:
        """Whether the worker still runs, asked of the process itself: multiprocessing learns
        a forked worker's exit from the process that forked it, and if that one were killed
        it would report every worker as dead (exit code 255) while they go on working."""
        if self.pidfd is not None:
            readable, _, _ = select.select([self.pidfd], [], [], 0)
            return not readable
        return bool(self.process.is_alive())

    def kill_tree(self) -> None:
        """SIGKILL the worker and every process it started (its kernel, its browser, which
        runs in a session of its own): killed alone, a worker would orphan a hung browser."""
        import psutil

        try:
            tree = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            tree = []
        if self.alive():
            self.process.kill()
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                proc.kill()

    def wait_gone(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the worker to exit; kill it if it has not."""
        deadline = time.monotonic() + timeout
        self.process.join(timeout=timeout)
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.alive():
            self.process.kill()
            self.process.join(timeout=1)
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if self.browser is not None:  # the worker is gone: its browser goes too
            self.browser.close()
            self.browser = None


def _rss_mb() -> float:
    import psutil

    proc = psutil.Process()
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return total / 1e6


PRELOAD_MODULE = "valuelib.batch.preload"
#: How deep the batch's sockets lie under the temporary folder: its private folder, and in
#: it a task's kernel sockets or a browser's (`tempdirs`).
SOCKET_DEPTH = len("/vr-XXXXXXXX") + max(worker.TASK_SOCKET_DEPTH, chromium.SOCKET_DEPTH)


def _context() -> Any:
    """Workers are forks of one process per batch that has imported everything once
    (multiprocessing's "forkserver" method, preloading `batch.preload`); "spawn" where
    there is no fork."""
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - not Linux
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([PRELOAD_MODULE])
    return ctx


_PRELOAD_TMP: str | None = None


#: Seconds a browser started ahead for a worker may take to start and open its page; one
#: slower than that is dropped (the worker starts its own).
PRESTART_TIMEOUT = 15.0
#: Seconds a new worker waits for a browser still starting ahead for it. A batch that starts
#: its workers this early has read the warehouse in less time than the preloading process
#: takes to import (seconds), which its start waits for anyway; a browser starts in about
#: half a second.
PRESTART_WAIT = 3.0


class _Browsers:
    """Browsers started ahead for the first workers (`prestart`), each by a thread of its own
    once the batch has read the warehouse, while the preloading process imports; `take` gives
    one whose page is open, `close` stops those never taken."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._starting = 0
        self._threads: list[threading.Thread] = []
        self._ready: list[chromium.Browser] = []
        self._started: list[chromium.Browser] = []
        self._closed = False

    def start(self, count: int) -> None:
        chromium.fonts_env()  # made once, here, not by two threads at once
        with self._lock:
            self._closed = False
            self._starting += count
            for _ in range(count):
                thread = threading.Thread(target=self._start_one, name="vr-browser-prestart",
                                          daemon=True)
                self._threads.append(thread)
                thread.start()

    def _start_one(self) -> None:
        try:
            self._open_one()
        finally:
            with self._lock:
                self._starting -= 1
                self._lock.notify_all()

    def _open_one(self) -> None:
        try:
            browser = chromium.Browser(env=chromium.fonts_env())
        except chromium.BrowserError:
            return
        with self._lock:
            if self._closed:
                return
            self._started.append(browser)
        try:
            browser.open_page(time.monotonic() + PRESTART_TIMEOUT)
        except (chromium.BrowserError, OSError):
            return  # closed by open_page
        with self._lock:
            if not self._closed:
                self._ready.append(browser)

    def take(self) -> chromium.Browser | None:
        """A started browser with its page open, now the caller's (waiting up to
        `PRESTART_WAIT` seconds for one still starting); None if there is none."""
        with self._lock:
            self._lock.wait_for(lambda: self._ready or not self._starting, PRESTART_WAIT)
            if not self._ready:
                return None
            browser = self._ready.pop()
            self._started.remove(browser)
            return browser

    def close(self) -> None:
        """Stop every browser started here and not taken. One still starting is killed, which
        ends its thread's wait (`open_page` then closes it)."""
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
            starting = [b.pid for b in self._started if b not in self._ready and b.pid]
        for pid in starting:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        for thread in threads:
            thread.join(PRESTART_TIMEOUT + 1)
        with self._lock:
            left, self._started, self._ready = self._started, [], []
        for browser in left:
            browser.close()


_PRESTARTED = _Browsers()
atexit.register(_PRESTARTED.close)  # a batch that ends before `run` (nothing to render)
#: The kernels' origin (`kernels.origin`): started by `prestart`, kept for this process's
#: later batches like the preloading process, stopped at exit (or when this process dies:
#: it follows its pipe from here).
_ORIGIN = origin.Origin()
atexit.register(_ORIGIN.stop)


def _preload_tmp() -> str:
    """This batch's private folder for the preloading process's temporary files, removed when
    the batch's process exits (that process and its forks never clean up themselves)."""
    global _PRELOAD_TMP
    if _PRELOAD_TMP is None or not os.path.isdir(_PRELOAD_TMP):
        _PRELOAD_TMP = tempfile.mkdtemp(prefix="vr-pre-")
        atexit.register(shutil.rmtree, _PRELOAD_TMP, ignore_errors=True)
    return _PRELOAD_TMP


def _listener_folder() -> None:
    """multiprocessing makes its fork server's socket in a folder it makes once per process
    under the temporary folder: make that folder now, where the socket's path fits."""
    from multiprocessing import util

    root = tempdirs.socket_root(tempdirs.LISTENER_SOCKET)
    if root == tempfile.gettempdir():
        return
    saved, tempfile.tempdir = tempfile.tempdir, root
    try:
        util.get_temp_dir()
    finally:
        tempfile.tempdir = saved


def prestart(browsers: int = 0) -> None:
    """Start the process workers are forked from, so that it imports while the batch is
    still reading the warehouse. Idempotent; `run` calls it too. That process is told this
    one's pid, and stops importing if this process ends first (a batch with bad data).

    `browsers`: also start that many Chromium browsers for the first workers (the PDF engine
    is Chromium), on the core the imports leave idle; `run` hands each to a worker."""
    if _context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    _listener_folder()  # first: a TMPDIR with no room for sockets stops us before anything
    # The kernels' half of the imports, the longer one, starts first, in a process of its
    # own; the preloading process then imports only the workers' half (`batch.preload`).
    kernels = _ORIGIN.start()
    os.environ[worker.PRELOAD_PARENT_ENV] = str(os.getpid())
    os.environ[worker.PRELOAD_TMP_ENV] = _preload_tmp()
    os.environ[worker.PRELOAD_WORKERS_ONLY_ENV] = "1" if kernels else ""
    # Started with SIGINT ignored (a disposition kept across exec), so a terminal's Ctrl-C to
    # the process group cannot kill it halfway through its imports; the batch handles Ctrl-C.
    # Starting it takes a moment (it imports on its own time), so no signal goes missing.
    main = threading.current_thread() is threading.main_thread()
    sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(worker.PRELOAD_PARENT_ENV, None)
        os.environ.pop(worker.PRELOAD_TMP_ENV, None)
        os.environ.pop(worker.PRELOAD_WORKERS_ONLY_ENV, None)
        if main:
            signal.signal(signal.SIGINT, sigint)
    # After: the browsers take this process's environment and signals as they are again.
    if browsers > 0:  # with no Chromium installed each thread ends at once (BrowserError)
        _PRESTARTED.start(browsers)


def _worker_main(tasks: Any, results: Any, max_tasks: int, max_rss_mb: float,
                 runner: Callable[[worker.Task], worker.TaskResult], warm: bool,
                 tmp_root: str | None = None, environ: dict[str, str] | None = None,
                 browser: chromium.Handover | None = None,
                 kernels: str | None = None) -> None:
    """Run the tasks the parent hands over, one at a time, until told to stop, the task
    budget is spent, or memory passes the ceiling; then leave at once (see `_leave`).
    `browser`: one the batch started for this worker, for its PDFs. `kernels`: the socket of
    the batch's kernels' origin, which forks this worker's kernel fork server."""
    if environ is not None:
        # A fork of the preloading process has that process's environment; take the
        # batch's own, as a spawned worker would.
        os.environ.clear()
        os.environ.update(environ)
    if browser is not None:
        chromium.receive(browser)
    if kernels is not None:
        from valuelib.render.kernels import forkserver

        forkserver.use_origin(kernels)
    _serve_tasks(tasks, results, max_tasks, max_rss_mb, runner, warm, tmp_root)
    _leave()


def _leave() -> None:
    """End a worker whose results are all sent: stop its fork server (which kills any
    kernel left), flush, and exit without tearing the interpreter down module by module,
    which takes a worker full of nbconvert, WeasyPrint and pandas a fifth of a second that
    the batch would wait for at its end and at every recycling."""
    from valuelib.render.kernels import forkserver

    _close_browsers()
    forkserver.stop_server()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(0)


def _close_browsers() -> None:
    """Stop the PDF engine's browsers of this worker, if it started any (they live in sessions
    of their own, with profiles under the batch's temporary folder)."""
    chromium = sys.modules.get("valuelib.render.chromium")
    if chromium is not None:
        chromium.close_all()


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM (the batch stopping a busy worker): stop its browsers, then die of it."""
    _close_browsers()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _serve_tasks(tasks: Any, results: Any, max_tasks: int, max_rss_mb: float,
                 runner: Callable[[worker.Task], worker.TaskResult], warm: bool,
                 tmp_root: str | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    signal.signal(signal.SIGTERM, _terminated)
    if tmp_root:
        tempfile.tempdir = tmp_root
    if warm:
        # Before any task: this process holds no account's data yet, so its kernel fork
        # server may be a fork of it (and import nothing).
        worker.warm_up(fork_server_from_self=True)
    results.send(("ready", None))
    done = 0
    while True:
        try:
            task = tasks.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            res = runner(task)
        except BaseException as exc:  # noqa: BLE001 - report, never lose the task
            res = worker.TaskResult.failure(task, f"worker error: {type(exc).__name__}: {exc}")
        done += 1
        retire = done >= max_tasks or _rss_mb() > max_rss_mb
        results.send(("done", (res, retire)))
        if retire:
            return


def run(
    tasks: Iterable[worker.Task],
    workers: int,
    finish: Callable[[worker.TaskResult], None],
    *,
    max_tasks: int = DEFAULT_MAX_TASKS,
    max_rss_mb: float = DEFAULT_MAX_RSS_MB,
    runner: Callable[[worker.Task], worker.TaskResult] = worker.run,
    warm: bool = True,
    stop: Callable[[], bool] | None = None,
    account_timeout: float | None = None,
) -> None:
    """Run every task on `workers` processes, calling `finish` with each result as it comes.

    `runner` (a module-level function: it is pickled by name) runs one task; tests pass
    their own to simulate crashes. Once `stop()` is true, tasks not finished are abandoned
    without a result (see module docstring); `finish` is never called for them. A task not
    done `account_timeout` seconds after it was handed out fails, and its worker is killed.
    """
    from multiprocessing.connection import wait

    todo = list(tasks)
    if not todo:
        _PRESTARTED.close()
        return
    todo.reverse()  # pop() from the end keeps the caller's order
    ctx = _context()
    prestart()  # the preloading process must be started here, not by a worker's start
    slots: dict[Any, _Slot] = {}  # keyed by the parent's end of the worker's outbox
    open_ids = {t.account_id for t in todo}
    startup_failures = 0
    # Every worker's temporary folder: its sockets (kernels', browsers') are made in it.
    tmp_root = tempfile.mkdtemp(prefix="vr-", dir=tempdirs.socket_root(SOCKET_DEPTH))

    def spawn() -> None:
        task_r, task_w = ctx.Pipe(duplex=False)
        res_r, res_w = ctx.Pipe(duplex=False)
        browser = _PRESTARTED.take()
        handover = browser.hand_over() if browser is not None else None
        p = ctx.Process(target=_worker_main, daemon=True,
                        args=(task_r, res_w, max_tasks, max_rss_mb, runner, warm, tmp_root,
                              dict(os.environ), handover, _ORIGIN.path))
        # A worker must not die of a terminal's Ctrl-C (sent to the whole process group): a
        # fork of the preloading process ignores SIGINT from birth (`batch.preload`); a
        # spawned one is started with SIGINT ignored. Not around a forkserver start, which
        # waits for the preloading process: a Ctrl-C meanwhile would be lost.
        main = (threading.current_thread() is threading.main_thread()
                and ctx.get_start_method() != "forkserver")
        sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            p.start()
        except (OSError, EOFError) as exc:  # the preloading process is gone (a signal?)
            for conn in (task_r, task_w, res_r, res_w):
                conn.close()
            if browser is not None:
                browser.close()
            if stop and stop():
                return  # stopping anyway: no worker is needed
            raise PoolError(f"cannot start a render worker ({type(exc).__name__}: "
                            f"{exc})") from None
        finally:
            if main:
                signal.signal(signal.SIGINT, sigint)
        task_r.close()
        res_w.close()
        if browser is not None and handover is not None:
            browser.let_go(handover)  # the worker has its own copies of the browser's pipe
        try:
            pidfd = os.pidfd_open(p.pid)
        except (AttributeError, OSError):  # pragma: no cover - before Linux 5.3
            pidfd = None
        slots[res_r] = _Slot(p, task_w, res_r, pidfd=pidfd, browser=browser)

    def hand_out(slot: _Slot) -> None:
        if todo and slot.task is None and not (stop and stop()):
            slot.task = todo.pop()
            slot.started = time.monotonic()
            try:
                slot.inbox.send(slot.task)
            except OSError:  # the worker died after its last result: the task never started
                todo.append(slot.task)
                slot.task = None
                retire(slot)

    def settle(task: worker.Task, res: worker.TaskResult) -> None:
        if task.account_id in open_ids:
            open_ids.discard(task.account_id)
            finish(res)

    def retire(slot: _Slot) -> None:
        nonlocal startup_failures
        slots.pop(slot.outbox, None)
        slot.wait_gone(timeout=10)
        if slot.task is not None:
            settle(slot.task, worker.TaskResult.failure(
                slot.task, f"worker process died (exit code {slot.process.exitcode}) while "
                           "rendering"))
            slot.task = None
        if not slot.ready:
            startup_failures += 1
            if startup_failures >= MAX_STARTUP_FAILURES:
                raise PoolError(f"render workers die before they start (exit code "
                                f"{slot.process.exitcode}, {startup_failures} times)")
        if todo:
            spawn()

    def expire_overdue() -> None:
        """Fail each task past its deadline and kill its worker (SIGKILL: a stuck export or
        kernel cannot delay it); `retire` then starts a replacement."""
        now = time.monotonic()
        for slot in list(slots.values()):
            task = slot.task
            if (task is None or account_timeout is None
                    or now - slot.started < account_timeout or slot.outbox.poll()):
                continue  # idle, in time, or its result is waiting to be read
            slot.task = None
            slot.kill_tree()
            settle(task, worker.TaskResult.past_deadline(task, account_timeout,
                                                         now - slot.started))
            retire(slot)

    def poll_timeout() -> float:
        timeout = 0.25 if stop else 1.0
        busy = [s.started for s in slots.values() if s.task is not None]
        if account_timeout is not None and busy:
            timeout = min(timeout, max(0.0, min(busy) + account_timeout - time.monotonic()))
        return timeout

    try:
        for _ in range(max(1, min(workers, len(todo)))):
            spawn()
        while open_ids and not (stop and stop()):
            for conn in wait(list(slots), timeout=poll_timeout()):
                slot = slots.get(conn)
                if slot is None:  # retired earlier in this round
                    continue
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError):  # the worker is gone
                    retire(slot)
                    continue
                if kind == "ready":
                    slot.ready = True
                    hand_out(slot)
                elif kind == "done":
                    res, leaving = payload
                    task, slot.task = slot.task, None
                    settle(task or res, res)
                    if leaving:
                        retire(slot)
                    else:
                        hand_out(slot)
            expire_overdue()
            for slot in [s for s in slots.values() if not s.alive()]:
                if not slot.outbox.poll():  # nothing left to read from it
                    retire(slot)
            if not slots and open_ids:
                spawn()
    finally:
        _stop_workers(list(slots.values()))
        _PRESTARTED.close()  # any not handed to a worker
        shutil.rmtree(tmp_root, ignore_errors=True)


def _stop_workers(slots: list[_Slot]) -> None:
    """Let idle workers leave, terminate busy ones, and kill any still there after the grace."""
    for slot in slots:
        if slot.task is None:
            try:
                slot.inbox.send(None)
            except OSError:
                pass
        elif slot.alive():
            slot.process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for slot in slots:
        slot.wait_gone(timeout=max(0.1, deadline - time.monotonic()))
