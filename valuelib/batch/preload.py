"""Imported once per batch by the process every pool worker is forked from.

`valuelib.batch.pool` starts workers with multiprocessing's "forkserver" method and names this
module as that server's preload. Importing it imports what a worker needs (papermill, nbclient,
nbconvert; WeasyPrint when it is the PDF engine). What a kernel needs (`forkserver.preload`:
pandas, matplotlib, IPython, valuelib, with the chart fonts looked up once) is imported at the
same time, on the other core, by the batch's kernels' origin (`kernels.origin`), which forks
each worker's kernel fork server. Where the batch has no origin, this process imports that
too, and every worker forks its own kernel fork server from itself
(`forkserver.ForkServer.start(from_self=True)`). Either way a batch imports all of it once
instead of twice per worker and again at every recycling. Nothing here touches any account's
data.

Importing this module has side effects by design: nothing but the pool should import it.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile

from valuelib.batch.worker import PRELOAD_PARENT_ENV, PRELOAD_TMP_ENV, PRELOAD_WORKERS_ONLY_ENV
from valuelib.render.kernels.origin import preloading

_PARENT = int(os.environ.pop(PRELOAD_PARENT_ENV, "0") or 0)
# The batch's kernels' origin (`kernels.origin`) preloads what kernels import, on the other
# core: then this process imports only what workers need, and is ready that much sooner.
_WORKERS_ONLY = os.environ.pop(PRELOAD_WORKERS_ONLY_ENV, "") == "1"
# Temporary files made here (WeasyPrint's folder of font files, which every worker shares)
# go in the batch's private folder, which the batch removes: this process never cleans up.
_TMP = os.environ.pop(PRELOAD_TMP_ENV, "")
if _TMP and os.path.isdir(_TMP):
    tempfile.tempdir = _TMP


def _stop_if_orphaned() -> None:
    """The batch may have ended (an error in its data, nothing to render) while this process
    was still importing: then leave now rather than finish for nobody."""
    if _PARENT and os.getppid() != _PARENT:
        os._exit(0)


def _preload() -> None:
    _stop_if_orphaned()
    # Ctrl-C is the batch's to handle (see `pool`): not a traceback from half an import here.
    # multiprocessing hands this disposition on to every worker forked from this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _WORKERS_ONLY:
        _preload_kernels()
    _stop_if_orphaned()
    from valuelib.render import execute

    execute.preload()  # papermill, nbclient
    from valuelib.batch import worker

    _stop_if_orphaned()
    # nbconvert (and WeasyPrint if it prints), on a sample review; without pandas and
    # matplotlib when they are the origin's to import.
    worker.warm_exporters(drawn=not _WORKERS_ONLY)


def _preload_kernels() -> None:
    """What a kernel imports (`forkserver.preload`), so that each worker's kernel fork server
    may be a fork of the worker (`ForkServer.start(from_self=True)`)."""
    from valuelib.render.kernels import forkserver

    # A fork server started as its own interpreter runs with -Xfrozen_modules=off, as
    # ipykernel's kernelspec does; this process may not, and debugpy (imported by ipykernel)
    # would then print a warning about it on the batch's terminal at every start.
    quiet = "PYDEVD_DISABLE_FILE_VALIDATION" not in os.environ
    if quiet:
        os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    try:
        forkserver.preload(between=_stop_if_orphaned)
    finally:
        if quiet:
            os.environ.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)


try:
    with preloading():  # garbage collector off meanwhile, then all of it frozen for the forks
        _preload()
except Exception as exc:  # noqa: BLE001 - workers then import what they need themselves
    print(f"valuereview: preloading render workers failed ({type(exc).__name__}: {exc}); "
          "each worker will import on its own", file=sys.stderr)
