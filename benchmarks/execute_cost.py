"""CPU per account of executing the value review notebook, by the batch's kernel kinds.

One process plays a batch worker (`valuelib.batch.worker.run`, HTML only): it preloads what a
kernel imports, forks its fork server from itself as a pool worker does, renders one account
to warm up, then each measured account. Reported per account: the worker's own CPU time and
the CPU time of every child its fork server forked (the shells or kernels, read from
``/proc`` as the server reaps them). ``--kernel shell`` is the batch's default (a forked
IPython shell, `render/kernels/shell.py`), ``--kernel fork`` a forked ipykernel over ZeroMQ.
Usage::

    valuereview demo-data --db /tmp/wh.duckdb --accounts 40
    python -m benchmarks.execute_cost --db /tmp/wh.duckdb --accounts 8 --kernel shell fork
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def _server_children_cpu(pid: int) -> float:
    """CPU seconds of the fork server's reaped children (its cutime + cstime)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / _TICK


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a demo warehouse (DuckDB file)")
    ap.add_argument("--accounts", type=int, default=8, help="accounts measured (8)")
    ap.add_argument("--kernel", nargs="+", default=["shell", "fork"],
                    choices=["shell", "fork"], help="kinds measured, in turn (shell fork)")
    args = ap.parse_args(argv)

    from valuelib.render.kernels import forkserver

    forkserver.preload()  # before anything a kernel must not inherit is imported
    gc.collect()
    gc.freeze()
    from valuelib.batch import worker

    worker.warm_up(fork_server_from_self=True)
    server = forkserver.get_server()

    from benchmarks.notebook_profile import NOTEBOOK, _setup
    from valuelib.batch import plan
    from valuelib.render import execute

    work = Path(tempfile.mkdtemp(prefix="execute-cost-"))
    ids, per = _setup(args.db, args.accounts, "customer", work)
    source = NOTEBOOK.read_bytes()

    def task(aid: str) -> Any:
        bundle = Path(per[aid]["bundle"]).read_bytes()
        p = {**per[aid], "bundle": worker.BUNDLE_NAME}
        return worker.Task(aid, plan.STEM, str(NOTEBOOK), p, bundle, ("html",),
                           notebook_source=source)

    plain = execute.execute
    print(f"{len(ids) - 1} accounts after one warm-up; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for kind in args.kernel:
        execute.execute = lambda *a, _k=kind, **kw: plain(*a, kernel=_k, **kw)
        try:
            assert worker.run(task(ids[0])).ok
            t, own, kids = time.perf_counter(), _self_cpu(), _server_children_cpu(server.pid)
            for aid in ids[1:]:
                res = worker.run(task(aid))
                if not res.ok:
                    raise SystemExit(f"{aid} failed: {res.error}")
            n = len(ids) - 1
            print(f"{kind:6s} worker CPU {(_self_cpu() - own) / n:.3f} s/account, "
                  f"{kind} CPU {(_server_children_cpu(server.pid) - kids) / n:.3f} s/account, "
                  f"wall {(time.perf_counter() - t) / n:.3f} s/account")
        finally:
            execute.execute = plain
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
