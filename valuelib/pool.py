"""A small process pool for render tasks: warm workers, recycled, and robust to crashes.

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies (a kernel that
takes its worker down, an out-of-memory kill, SIGKILL) every pending future fails with
BrokenProcessPool. Here a dead worker fails only the task it held, and a new worker takes
its place. Workers are recycled after `max_tasks` tasks or once their memory passes
`max_rss_mb`, which bounds the memory of a long batch.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .render import worker

DEFAULT_MAX_TASKS = 50
DEFAULT_MAX_RSS_MB = 1200.0
MAX_STARTUP_FAILURES = 3


class PoolError(RuntimeError):
    """Workers cannot be started at all (a broken installation, not a bad account)."""


@dataclass
class _Slot:
    process: Any
    inbox: Any
    task: worker.Task | None = None
    ready: bool = False


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


def _worker_main(inbox: Any, results: Any, max_tasks: int, max_rss_mb: float,
                 runner: Callable[[worker.Task], worker.TaskResult], warm: bool) -> None:
    """Run the tasks the parent hands over, one at a time, until told to stop, the task
    budget is spent, or memory passes the ceiling."""
    if warm:
        worker.warm_up()
    results.put(("ready", os.getpid(), None))
    done = 0
    while True:
        task = inbox.get()
        if task is None:
            return
        try:
            res = runner(task)
        except BaseException as exc:  # noqa: BLE001 - report, never lose the task
            res = worker.TaskResult.failure(task, f"worker error: {type(exc).__name__}: {exc}")
        done += 1
        retire = done >= max_tasks or _rss_mb() > max_rss_mb
        results.put(("done", os.getpid(), (res, retire)))
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
) -> None:
    """Run every task on `workers` processes, calling `finish` with each result as it comes.

    `runner` (a module-level function, as processes are spawned) runs one task; tests pass
    their own to simulate crashes.
    """
    todo = list(tasks)
    if not todo:
        return
    todo.reverse()  # pop() from the end keeps the callers' order
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    slots: dict[int, _Slot] = {}
    outstanding = len(todo)

    def spawn() -> None:
        inbox = ctx.SimpleQueue()
        p = ctx.Process(target=_worker_main,
                        args=(inbox, results, max_tasks, max_rss_mb, runner, warm),
                        daemon=True)
        p.start()
        slots[p.pid] = _Slot(p, inbox)

    def hand_out(slot: _Slot) -> None:
        if todo and slot.task is None:
            slot.task = todo.pop()
            slot.inbox.put(slot.task)

    open_ids = {t.account_id for t in todo}
    startup_failures = 0

    def handle(kind: str, pid: int, payload: Any) -> None:
        nonlocal outstanding
        slot = slots.get(pid)
        if kind == "ready" and slot is not None:
            slot.ready = True
            hand_out(slot)
        elif kind == "done":
            res, retire = payload
            if res.account_id in open_ids:
                open_ids.discard(res.account_id)
                outstanding -= 1
                finish(res)
            if slot is not None:
                slot.task = None
                if retire:
                    slots.pop(pid).process.join(timeout=10)
                    if todo:
                        spawn()
                else:
                    hand_out(slot)

    for _ in range(max(1, min(workers, len(todo)))):
        spawn()
    try:
        while outstanding:
            try:
                handle(*results.get(timeout=0.5))
            except queue.Empty:
                pass
            # A worker that died holding a task fails that task alone; a new one takes over.
            for dead_pid, dead in list(slots.items()):
                if dead.process.is_alive():
                    continue
                while True:  # first take what it sent before dying
                    try:
                        handle(*results.get(timeout=0.2))
                    except queue.Empty:
                        break
                if slots.pop(dead_pid, None) is None:
                    continue
                if not dead.ready:
                    startup_failures += 1
                    if startup_failures >= MAX_STARTUP_FAILURES:
                        raise PoolError(
                            f"render workers die before they start (exit code "
                            f"{dead.process.exitcode}, {startup_failures} times)")
                if dead.task is not None and dead.task.account_id in open_ids:
                    open_ids.discard(dead.task.account_id)
                    outstanding -= 1
                    finish(worker.TaskResult.failure(
                        dead.task, f"worker process died (exit code {dead.process.exitcode}) "
                                   "while rendering"))
                if todo:
                    spawn()
    finally:
        for slot in slots.values():
            slot.inbox.put(None)
        deadline = time.monotonic() + 10
        for slot in slots.values():
            slot.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
