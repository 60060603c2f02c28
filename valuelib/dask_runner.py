"""Send render tasks to an existing Dask distributed cluster (`--scheduler tcp://HOST:PORT`).

Each task carries its bundle's bytes and returns the rendered files as bytes, so Dask workers
need valuelib installed but no shared disk and no database connection. A task that raises on
a worker, or whose worker is lost, fails that account alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .render import worker


def run(tasks: list[worker.Task], scheduler: str,
        finish: Callable[[worker.TaskResult], None]) -> None:
    """Submit every task to the cluster at `scheduler`; call `finish` as results arrive."""
    from distributed import Client, as_completed

    with Client(scheduler) as client:
        futures = {
            client.submit(worker.run, t, key=f"valuereview-{t.stem}-{t.account_id}-"
                          f"{hashlib.sha256(t.bundle).hexdigest()[:12]}", pure=False): t
            for t in tasks
        }
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker or a task error
                res = worker.TaskResult.failure(task, f"dask: {type(exc).__name__}: {exc}")
            finish(res)
