"""Send render tasks to an existing Dask distributed cluster (`--scheduler tls://HOST:PORT`).

Each task carries its bundle's bytes and returns the rendered files as bytes, so Dask workers
need valuelib installed but no shared disk and no database connection. A task that raises on
a worker, or whose worker is lost, fails that account alone.

Whoever can submit to a scheduler runs code on its workers, and bundles and documents cross
the network inside Dask's messages: `tls://` addresses use mutual TLS with the certificate
files given (or Dask's `distributed.comm.tls.*` configuration) and refuse plain connections;
`tcp://` still works, for a trusted network, with a warning.

Deadlines: no more tasks are in flight than the cluster has worker threads, so a task starts
about when it is submitted, and one not done `account_timeout` seconds later is cancelled and
fails its account; the worker running it is restarted through its nanny, which stops the
stuck thread and the kernel it started.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from valuelib.batch import worker

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler before giving up

CLEAR_TEXT_WARNING = (
    "--scheduler {address} is plain TCP: account bundles and rendered documents travel in "
    "clear, and anyone who can reach the scheduler can run code on its workers. Use "
    "tls://HOST:PORT with --tls-ca, --tls-cert and --tls-key outside a trusted network."
)


class DaskSetupError(ValueError):
    """The Dask options cannot work or the scheduler cannot be reached; nothing was rendered."""


class TLSFiles(NamedTuple):
    """PEM files for a TLS connection to the cluster; None falls back to Dask's config."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None  # may be omitted when the key is appended to the cert file


NO_TLS_FILES = TLSFiles()


def scheme(address: str) -> str:
    """The scheme of a scheduler address; Dask reads an address without one as tcp."""
    return address.split("://", 1)[0].lower() if "://" in address else "tcp"


def clear_text(address: str) -> bool:
    """Whether `address` is a plain TCP scheduler (worth a warning: see CLEAR_TEXT_WARNING)."""
    return scheme(address) == "tcp"


def security(address: str, tls: TLSFiles = NO_TLS_FILES) -> Any:
    """The client's `distributed.Security` for `address` (None for tcp://), checked now so
    that a missing or unreadable certificate is a usage error before any work is done."""
    kind = scheme(address)
    if kind == "tcp":
        if any(tls):
            raise DaskSetupError(f"--tls-ca/--tls-cert/--tls-key need a tls:// scheduler "
                                 f"address, not {address}")
        return None
    if kind != "tls":
        raise DaskSetupError(f"--scheduler {address}: use tls://HOST:PORT (or tcp://HOST:PORT "
                             "on a trusted network)")
    import dask
    from distributed import Security

    files = {
        "--tls-ca": tls.ca or dask.config.get("distributed.comm.tls.ca-file", None),
        "--tls-cert": tls.cert or dask.config.get("distributed.comm.tls.client.cert", None),
        "--tls-key": tls.key or dask.config.get("distributed.comm.tls.client.key", None),
    }
    missing = [opt for opt in ("--tls-ca", "--tls-cert") if not files[opt]]
    if missing:
        raise DaskSetupError(
            f"--scheduler {address} uses TLS but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing (give the option, or set Dask's "
            "distributed.comm.tls.ca-file and distributed.comm.tls.client.cert)")
    for opt, path in files.items():
        if path and not Path(path).is_file():
            raise DaskSetupError(f"{opt} {path}: no such file")
    sec = Security(require_encryption=True, tls_ca_file=files["--tls-ca"],
                   tls_client_cert=files["--tls-cert"], tls_client_key=files["--tls-key"])
    try:
        sec.get_connection_args("client")  # loads the CA, certificate and key
    except (ssl.SSLError, OSError, ValueError) as exc:
        given = ", ".join(str(p) for p in files.values() if p)
        raise DaskSetupError(f"cannot use the TLS files {given}: {exc}") from None
    return sec


def run(tasks: list[worker.Task], scheduler: str,
        finish: Callable[[worker.TaskResult], None], *,
        tls: TLSFiles = NO_TLS_FILES,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        account_timeout: float | None = None,
        runner: Callable[[worker.Task], worker.TaskResult] = worker.run,
        stop: Callable[[], bool] | None = None) -> None:
    """Run every task on the cluster at `scheduler`, calling `finish` as results arrive.

    Once `stop()` is true no task is sent any more, tasks in flight are cancelled and
    `finish` is not called for them (they keep their previous files).

    Raises DaskSetupError, before any task is sent, if the scheduler cannot be reached within
    `connect_timeout` seconds or the TLS set-up is incomplete. `runner` must be importable on
    the workers (tests pass their own).
    """
    from distributed import Client

    sec = security(scheduler, tls)
    try:
        client = Client(scheduler, security=sec, timeout=connect_timeout,
                        set_as_default=False)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise DaskSetupError(f"cannot connect to the Dask scheduler at {scheduler} within "
                             f"{connect_timeout:g} s ({exc})") from None
    with client:
        _run_windowed(client, tasks, finish, account_timeout, runner, stop or (lambda: False))


def _key(task: worker.Task) -> str:
    digest = hashlib.sha256(task.bundle).hexdigest()[:12]
    return f"valuereview-{task.stem}-{task.account_id}-{digest}"


def _run_windowed(client: Any, tasks: list[worker.Task],
                  finish: Callable[[worker.TaskResult], None], account_timeout: float | None,
                  runner: Callable[[worker.Task], worker.TaskResult],
                  stop: Callable[[], bool]) -> None:
    """Keep at most one task per worker thread in flight; finish each as it completes or as
    its deadline passes."""
    todo = list(reversed(tasks))  # pop() from the end keeps the caller's order
    running: dict[Any, tuple[worker.Task, float]] = {}
    settled = threading.Event()  # set by the client's thread as a future completes
    while todo or running:
        if stop():
            client.cancel(list(running))
            return
        if todo:
            capacity = max(1, sum(client.nthreads().values()))
            while todo and len(running) < capacity:
                task = todo.pop()
                fut = client.submit(runner, task, key=_key(task), pure=False)
                running[fut] = (task, time.monotonic())
                fut.add_done_callback(lambda _: settled.set())
        timeout = 0.25
        if account_timeout is not None:
            first = min(started for _, started in running.values())
            timeout = min(timeout, max(0.01, first + account_timeout - time.monotonic()))
        settled.wait(timeout)
        settled.clear()
        for fut in [f for f in running if f.done()]:
            task, _ = running.pop(fut)
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker or a task error
                res = worker.TaskResult.failure(task, f"dask: {type(exc).__name__}: {exc}")
            finish(res)
        if account_timeout is None:
            continue
        now = time.monotonic()
        for fut, (task, started) in list(running.items()):
            if now - started >= account_timeout and not fut.done():
                del running[fut]
                _stop(client, fut)
                finish(worker.TaskResult.past_deadline(task, account_timeout, now - started))


def _stop(client: Any, fut: Any) -> None:
    """Cancel an overdue task and restart the worker running it: cancelling alone leaves the
    thread (and its kernel) busy on the worker."""
    try:
        holders = [w for w, keys in client.processing().items() if fut.key in keys]
    except Exception:  # noqa: BLE001 - the scheduler may be gone; cancelling is what matters
        holders = []
    fut.cancel()
    if not holders:
        return
    try:
        client.restart_workers(holders, timeout=60, raise_for_error=True)
    except Exception as exc:  # noqa: BLE001 - e.g. a worker started without a nanny
        log.warning("could not restart Dask worker %s after a deadline (%s); its thread may "
                    "still be busy", ", ".join(holders), exc)
