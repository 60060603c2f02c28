"""Forked kernels: every account's notebook runs in a kernel that never saw another account,
with papermill's semantics (parameters, errors, timeouts, dead kernels) kept.

All executions here go through one fork server (this test process's), in a row, as on one
batch worker. The semantic tests run twice: in a forked IPython shell (``kernel="shell"``, the
batch's default) and in a forked ipykernel (``kernel="fork"``).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from valuelib.render.execute import Execution, execute
from valuelib.render.kernels import forkserver

MARK = "VR_ISOLATION_MARK"

#: Looks everywhere a previous account could have left something, then leaves a marker in
#: each of those places itself.
CHECK_AND_MARK = f'''
import builtins, glob, os, sys, types
import valuelib
MARK = {MARK!r}
hm = get_ipython().history_manager
seen = {{
    "globals": [k for k in list(globals()) if k.startswith(MARK)],
    "builtins": [k for k in vars(builtins) if k.startswith(MARK)],
    "valuelib module": [k for k in vars(valuelib) if k.startswith(MARK)],
    "sys.modules": [k for k in sys.modules if k.startswith(MARK)],
    "os.environ": [k for k in os.environ if k.startswith(MARK)],
    "files in cwd": glob.glob(MARK + "*"),
    "history of other sessions": [src for sess, _, src in hm.search("*account_id = *")
                                  if sess != hm.session_number],
}}
leaks = {{where: found for where, found in seen.items() if found}}
assert not leaks, f"{{account_id}} sees state from another account: {{leaks}}"

tag = MARK + "_" + account_id.replace("-", "_")
globals()[tag] = account_id
setattr(builtins, tag, account_id)
setattr(valuelib, tag, account_id)
sys.modules[tag] = types.ModuleType(tag)
os.environ[tag] = account_id
with open(tag, "w") as fh:
    fh.write(account_id)
print("clean", account_id, os.getpid())
'''


def notebook(path: Path, *sources: str, parameters: str = 'account_id = "none"') -> Path:
    """Write a python3 notebook: a `parameters` cell, then one code cell per source."""
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python",
                                 "display_name": "Python 3"},
                  "language_info": {"name": "python"}},
        cells=[new_code_cell(parameters, metadata={"tags": ["parameters"]}),
               *(new_code_cell(s) for s in sources)])
    nbformat.write(nb, path)
    return path


def run(nb_path: Path, params: dict[str, Any], kernel: str = "shell", **kw: Any) -> Execution:
    """Execute like a batch task: a new working directory per account, on a fork path."""
    with tempfile.TemporaryDirectory(prefix="vr-iso-") as cwd:
        return execute(nb_path, params, cwd=cwd, kernel=kernel, **kw)


@pytest.fixture(params=["shell", "fork"])
def kernel(request: pytest.FixtureRequest) -> str:
    return request.param


def outputs_text(ex: Execution) -> str:
    assert ex.nb is not None
    return "".join(o.get("text", "") for c in ex.nb.cells for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def server() -> forkserver.ForkServer:
    return forkserver.get_server()


def assert_isolated(runner: Callable[[Path, dict[str, Any]], Execution], nb_path: Path) -> None:
    """A, then B, then C, one after the other: each must find no trace of the one before."""
    pids = set()
    for account in ("ACC-A", "ACC-B", "ACC-C"):
        ex = runner(nb_path, {"account_id": account})
        assert ex.ok, f"{account}: {ex.error}"
        text = outputs_text(ex)
        assert f"clean {account}" in text
        pids.add(text.split(f"clean {account} ")[1].split()[0])
    assert len(pids) == 3, "each account had a kernel process of its own"


def test_fork_server_imports_but_is_safe_to_fork(server):
    info = server.info()
    assert info["threads"] == 1 and info["fork_safety_problem"] is None
    assert set(info["preloaded"]) == set(forkserver.preload_modules())
    assert info["never_preloaded_present"] == []


def test_accounts_in_a_row_never_see_each_other(server, tmp_path, kernel):
    nb_path = notebook(tmp_path / "iso.ipynb", CHECK_AND_MARK)
    before = server.pid
    assert_isolated(lambda p, a: run(p, a, kernel=kernel), nb_path)
    assert server.pid == before, "one fork server served all three accounts"
    assert forkserver.get_server().info()["live"] == []
    zombies = [p for p in psutil.Process(before).children()
               if p.status() == psutil.STATUS_ZOMBIE]
    assert zombies == []


def test_parameters_are_injected_as_papermill_does(server, tmp_path, kernel):
    nb_path = notebook(tmp_path / "p.ipynb", "print('got', account_id, limit * 2)",
                       parameters='account_id = "none"\nlimit = 1')
    ex = run(nb_path, {"account_id": "ACC-0042", "limit": 21}, kernel=kernel)
    assert ex.ok, ex.error
    tags = [c.metadata.get("tags", []) for c in ex.nb.cells]
    assert tags[0] == ["parameters"] and tags[1] == ["injected-parameters"]
    assert "account_id = 'ACC-0042'" in ex.nb.cells[1].source
    assert "limit = 21" in ex.nb.cells[1].source
    assert "got ACC-0042 42" in outputs_text(ex)
    assert ex.nb.metadata["papermill"]["parameters"] == {"account_id": "ACC-0042", "limit": 21}
    assert ex.nb.metadata["papermill"]["input_path"] == str(nb_path)


def _assert_failed_at(ex: Execution, cell: int, ename: str) -> None:
    """Failed at `cell` (index in the template notebook), with papermill's marker saved."""
    assert not ex.ok and ex.error is not None
    assert (ex.error.cell_index, ex.error.ename) == (cell, ename), ex.error
    assert ex.nb is not None, "the executed notebook is kept"
    marked = [c for c in ex.nb.cells if "papermill-error-cell-tag" in c.metadata.get("tags", [])]
    assert len(marked) == 2, "papermill's error message and anchor cells"
    errors = [o for c in ex.nb.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert [o["ename"] for o in errors] == [ename]
    assert ex.nb.metadata["papermill"]["exception"] is True


def _next_run_is_fine(server: forkserver.ForkServer, tmp_path: Path, pid: int) -> None:
    ok = run(notebook(tmp_path / "ok.ipynb", "print('fine', account_id)"), {"account_id": "X"})
    assert ok.ok, ok.error
    assert "fine X" in outputs_text(ok)
    assert server.pid == pid, "the fork server survived"


def test_exception_is_reported_with_its_cell(server, tmp_path, kernel):
    pid = server.pid
    ex = run(notebook(tmp_path / "e.ipynb", "x = 1", "raise ValueError('boom ' + account_id)",
                      "print('never')"), {"account_id": "ACC-E"}, kernel=kernel)
    _assert_failed_at(ex, 2, "ValueError")
    assert ex.error.evalue == "boom ACC-E"
    tb = next(o for c in ex.nb.cells for o in c.get("outputs", []) if o.output_type == "error")
    assert any("boom" in line for line in tb["traceback"])
    assert "never" not in outputs_text(ex)
    _next_run_is_fine(server, tmp_path, pid)


def test_a_kernel_that_dies_is_reported_as_dead(server, tmp_path, kernel):
    pid = server.pid
    t0 = time.monotonic()
    ex = run(notebook(tmp_path / "d.ipynb", "import os", "os._exit(1)"), {"account_id": "D"},
             kernel=kernel)
    _assert_failed_at(ex, 2, "DeadKernelError")
    assert "exit code 1" in ex.error.evalue
    assert time.monotonic() - t0 < 20
    _next_run_is_fine(server, tmp_path, pid)


def test_a_cell_past_its_timeout_is_reported_as_a_timeout(server, tmp_path, kernel):
    pid = server.pid
    t0 = time.monotonic()
    ex = run(notebook(tmp_path / "t.ipynb", "import time", "time.sleep(30)"),
             {"account_id": "T"}, cell_timeout=2, kernel=kernel)
    _assert_failed_at(ex, 2, "CellTimeoutError")
    assert time.monotonic() - t0 < 15, "the worker is not held for the cell's 30 s"
    _next_run_is_fine(server, tmp_path, pid)
    assert forkserver.get_server().info()["live"] == [], "the hung kernel was killed"


def test_a_dead_fork_server_is_replaced(server, tmp_path, kernel):
    old = server.pid
    os.kill(old, signal.SIGKILL)
    server._proc.wait(timeout=10)
    ok = run(notebook(tmp_path / "r.ipynb", "print('back')"), {}, kernel=kernel)
    assert ok.ok, ok.error
    assert forkserver.get_server().pid not in (None, old)


def test_forked_kernel_interrupt_shutdown_and_kill(server, tmp_path):
    """Directly through jupyter_client, as any client of the provisioner would."""

    async def scenario() -> None:
        km = forkserver.ForkKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        assert isinstance(km.provisioner, forkserver.ForkProvisioner)
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            msg_id = kc.execute("import time; time.sleep(30)")
            await asyncio.sleep(0.5)
            await km.interrupt_kernel()  # SIGINT
            reply = await kc._async_get_shell_msg(timeout=10)
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            # ipykernel aborts what was queued behind the interrupted cell for a moment
            # ("aborted"); alive means a later request runs.
            for _ in range(20):
                reply = await kc.execute("1 + 1", reply=True, timeout=10)
                if reply["content"]["status"] != "aborted":
                    break
                await asyncio.sleep(0.1)
            assert reply["content"]["status"] == "ok", "alive after the interrupt"
            await km.shutdown_kernel()  # graceful: a shutdown_request first
            assert not await km.is_alive()
            assert km.provisioner is None or not km.provisioner.has_process
        finally:
            kc.stop_channels()
        km = forkserver.ForkKernelManager(kernel_name="python3")  # a second kernel, killed
        await km.start_kernel(cwd=str(tmp_path))
        pid = km.provisioner.pid
        assert await km.is_alive()
        await km.shutdown_kernel(now=True)  # SIGKILL
        assert not await km.is_alive() and not psutil.pid_exists(pid)

    asyncio.run(scenario())
    assert forkserver.get_server().info()["live"] == []
    assert (tmp_path / forkserver.KERNEL_LOG).exists(), "kernel output goes to its cwd"


def test_kill_returns_once_the_kernel_is_gone(server, tmp_path):
    """jupyter_client sleeps 0.1 s if a killed kernel still looks alive right after `kill`."""

    async def scenario() -> None:
        for _ in range(3):
            km = forkserver.ForkKernelManager(kernel_name="python3")
            await km.start_kernel(cwd=str(tmp_path))
            prov = km.provisioner
            await prov.kill()
            assert await prov.poll() == -signal.SIGKILL, "gone as soon as kill() returns"
            await km.shutdown_kernel(now=True)

    asyncio.run(scenario())
    assert forkserver.get_server().info()["live"] == []


#: Draws the value review's charts with data of its own (not the warm-up's) and reports how
#: many font lookups matplotlib could not answer from its cache.
DRAW_CHARTS = '''
import matplotlib.font_manager as fm
import numpy as np
import pandas as pd
from valuelib.report import blocks, charts
charts.apply_style()
before = fm.fontManager._findfont_cached.cache_info().misses
from valuelib.report.charts import style
prepared = len(style._prepared)
periods = ["2026Q1", "2026Q2", "2026Q3"]
blocks.figure(charts.driver_progress(data=pd.DataFrame({
    "driver": ["Onboarding time"], "progress_pct": [70.0], "label": ["9 → 7 → 5 days"]})))
blocks.figure(charts.score_trend(data=pd.DataFrame({"period": periods, "value": [1.0, 2, 3]}),
                                 ref=2.0, ref_label="Target"))
blocks.figure(charts.support_trend(data=pd.DataFrame({
    "period": periods, "tickets": [3, 4, 5], "median_resolution_hours": [5.0, 4, 3]})))
blocks.figure(charts.arr_history(
    data=pd.DataFrame({"month": pd.date_range("2026-01-31", periods=6, freq="ME"),
                       "arr": np.arange(6) * 1e3 + 5e4}),
    events=pd.DataFrame({"month": [pd.Timestamp("2026-03-31")], "kind": ["new"]})))
print("misses", fm.fontManager._findfont_cached.cache_info().misses - before)
print("prepared", prepared, "used", prepared - len(style._prepared))
from valuelib.report import fonts
metrics = fonts._advances.cache_info().misses
blocks.kpis([{"label": "ARR", "value": "MWK 221,210,000"}])
print("metric reads", fonts._advances.cache_info().misses - metrics)
'''


def test_kernels_start_with_the_chart_fonts_already_found(server, tmp_path):
    """The fork server draws the charts once (`render.warm`), so no kernel searches the
    installed fonts again, nor reads the font metrics that cards and tables are fitted with,
    nor makes the empty figures its charts are drawn on; and that warm-up leaves no trace a
    kernel could see."""
    from valuelib.render.kernels import warm

    ex = run(notebook(tmp_path / "fonts.ipynb", DRAW_CHARTS), {"account_id": "ACC-F"})
    assert ex.ok, ex.error
    assert "misses 0" in outputs_text(ex) and "metric reads 0" in outputs_text(ex)
    assert f"prepared {warm.PREPARED_FIGURES} used 4" in outputs_text(ex)


def test_warm_ups_leave_matplotlib_and_valuelib_as_they_were():
    """What the fork server and the workers' preloading process draw and export to warm their
    caches, and the empty figures it makes, must leave nothing a review could notice: rcParams,
    pyplot, figure numbering (the ids inside every chart's SVG), valuelib's style flag and its
    locale caches."""
    code = (
        "import matplotlib as mpl, sys\n"
        "before = dict(mpl.rcParams)\n"
        "from valuelib.report import blocks, charts, fmt, i18n\n"
        "from valuelib.render.kernels import warm\n"
        "from valuelib.batch import worker\n"
        "from matplotlib import _pylab_helpers, font_manager as fm\n"
        "def caches():\n"
        "    return (i18n.translator.cache_info().currsize, i18n.resolve.cache_info().currsize,\n"
        "            fmt.resolve_locale.cache_info().currsize)\n"
        "cached = caches()\n"
        "warm.chart_caches()\n"
        "warm.prepared_figures()\n"
        "worker.warm_exporters()\n"
        "changed = [k for k, v in mpl.rcParams.items() if before.get(k) != v]\n"
        "print(changed, charts.is_styled(), next(blocks.reset_figure_ids()), caches() == cached,\n"
        "      _pylab_helpers.Gcf.figs == {}, 'matplotlib_inline' in sys.modules,\n"
        "      fm.fontManager._findfont_cached.cache_info().currsize > 0)\n"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "MPLBACKEND": "agg"}).stdout
    assert out.split() == ["[]", "False", "1", "True", "True", "False", "True"], out


#: In a process that has preloaded what a batch worker has: hold files open as a worker holds
#: its task pipes, fork the kernel fork server from this process, and list what a kernel has
#: open.
FORKED_SERVER_SCRIPT = '''
import json, os, sys, tempfile
from valuelib.batch import preload  # noqa: F401 - what the pool's workers are forked from
from valuelib.render.kernels import forkserver
from valuelib.batch import worker
from valuelib.render.execute import execute
secret = open(os.path.join(sys.argv[1], "worker-secret.txt"), "w")
r, w = os.pipe()
pipe = os.readlink(f"/proc/self/fd/{r}")
worker.warm_up(fork_server_from_self=True)
info = forkserver.get_server().wait_ready()
with tempfile.TemporaryDirectory() as cwd:
    ex = execute(sys.argv[2], {"account_id": "ACC-FD"}, cwd=cwd)
text = "".join(o.get("text", "") for c in ex.nb.cells for o in c.get("outputs", []))
print(json.dumps({"forked": info["forked_preloaded"], "error": str(ex.error or ""),
                  "pipe": pipe, "kernel_fds": text}))
'''

LIST_FDS = '''
import os
print(sorted(os.readlink(f"/proc/self/fd/{f}") for f in os.listdir("/proc/self/fd")
             if os.path.exists(f"/proc/self/fd/{f}")))
'''


def test_a_server_forked_from_a_worker_passes_none_of_its_files_to_kernels(tmp_path):
    import json
    import subprocess
    import sys

    nb_path = notebook(tmp_path / "fds.ipynb", LIST_FDS)
    done = subprocess.run([sys.executable, "-c", FORKED_SERVER_SCRIPT, str(tmp_path),
                           str(nb_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["forked"] is True and got["error"] == ""
    assert "kernel.log" in got["kernel_fds"], "the listing ran in the kernel"
    assert "worker-secret.txt" not in got["kernel_fds"]
    assert got["pipe"] not in got["kernel_fds"]


def _html_outputs(nb: Any) -> list[str]:
    return [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]


def test_a_batch_kernel_renders_what_a_fresh_kernel_renders(rendered, tmp_path):
    """A batch's kernel is forked from preloaded, warmed processes; what it displays must be
    exactly what the same notebook displays in a kernel started from nothing."""
    from support import E2E_ACCOUNTS, ROOT

    from valuelib.batch import params
    from valuelib.data import extract
    from valuelib.data.warehouse import Warehouse

    aid = E2E_ACCOUNTS[0]
    with Warehouse.open(str(rendered.db)) as wh:
        ex = extract.run(wh, tmp_path / "bundles", selector=aid, audience="customer")
    nb_path = ROOT / "notebooks" / "value_review.ipynb"
    defaults, overrides = params.load(ROOT / "params", set(params.notebook_parameters(nb_path)))
    parameters = {**params.for_account(defaults, overrides, aid), "account_id": aid,
                  "quarter": ex.quarter, "bundle": str(ex.bundles[aid]), "audience": "customer"}
    with tempfile.TemporaryDirectory() as cwd:
        fresh = execute(nb_path, parameters, cwd=cwd, kernel="fresh")
    assert fresh.ok, fresh.error
    batch = nbformat.read(rendered.file(aid, "value-review.ipynb"), as_version=4)
    assert _html_outputs(fresh.nb) == _html_outputs(batch)
    assert len(_html_outputs(batch)) > 20


def _execute_task(task):  # a pool runner: execute the task's notebook, return its text output
    from valuelib.batch import worker as w

    ready = forkserver.get_server().wait_ready()  # raises if the server could not start
    assert ready["forked_preloaded"], "the kernel fork server was forked from this worker"
    with tempfile.TemporaryDirectory() as cwd:
        ex = execute(task.notebook, dict(task.parameters), cwd=cwd)
    text = "".join(o.get("text", "") for c in (ex.nb.cells if ex.nb else [])
                   for o in c.get("outputs", []))
    return w.TaskResult(task.account_id, task.stem, ex.ok, error=str(ex.error or ""),
                        metrics={"text": text})


MULTIPROCESSING_IN_A_NOTEBOOK = '''
import multiprocessing as mp
me = mp.current_process()
print("process", me.name, me.daemon, mp.parent_process())
with mp.get_context("fork").Pool(2) as pool:
    print("pool", pool.map(abs, [-3, -4]))
'''


def test_a_batch_kernel_is_a_main_process_to_multiprocessing(tmp_path):
    """Kernels come from a fork server forked from a pool worker, but to multiprocessing a
    kernel must be what a kernel started from nothing is: the main process, not a daemonic
    worker of the batch (which may not have children)."""
    from valuelib.batch import pool
    from valuelib.batch import worker as w

    nb_path = notebook(tmp_path / "mp.ipynb", MULTIPROCESSING_IN_A_NOTEBOOK)
    task = w.Task("ACC-MP", "value-review", str(nb_path), {"account_id": "ACC-MP"}, b"{}",
                  ("html",))
    results = []
    pool.run([task], 1, results.append, runner=_execute_task)
    assert results and results[0].ok, results and results[0].error
    text = results[0].metrics["text"]
    assert "process MainProcess False None" in text
    assert "pool [3, 4]" in text


#: Cells that exercise every kind of output a kernel publishes.
OUTPUT_KINDS = [
    "print('one'); print('two')\nimport sys; print('to stderr', file=sys.stderr)\nprint('three')",
    "from IPython.display import HTML, Markdown, display\ndisplay(HTML('<b>bold</b>'))\n"
    "display(Markdown('*md*'), metadata={'k': 1})\n41 + 1",
    "h = display(HTML('<i>first</i>'), display_id='d1')",
    "h.update(HTML('<i>second</i>'))\nprint('after update')",
    "from IPython.display import clear_output\nprint('gone')\nclear_output()\nprint('kept')",
    "import warnings\nwarnings.warn('careful')",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(1, 1))\n"
    "ax.plot([1, 2])\nNone",
    "x = 5\nx",
    "_ = 'not shown';",
]


def _comparable(nb: Any) -> list[Any]:
    """Each code cell's execution count and outputs (PNG bytes and tracebacks aside)."""
    cells = []
    for c in nb.cells:
        if c.cell_type != "code" or "injected-parameters" in c.metadata.get("tags", []):
            continue
        outs = []
        for o in c.get("outputs", []):
            o = dict(o)
            if "data" in o:
                o["data"] = {k: (v if k != "image/png" else "<png>") for k, v in o["data"].items()}
            o.pop("traceback", None)
            if "text" in o:  # a warning names the cell's file, which holds the process id
                o["text"] = re.sub(r"ipykernel_\d+", "ipykernel_PID", o["text"])
            outs.append(o)
        cells.append((c.execution_count, outs))
    return cells


def test_a_shell_records_what_a_kernel_records(server, tmp_path):
    """Streams, displays, results, display updates, clear_output, warnings, an inline
    figure: the forked shell's executed notebook holds what the forked ipykernel's holds."""
    nb_path = notebook(tmp_path / "kinds.ipynb", *OUTPUT_KINDS)
    got = {k: run(nb_path, {"account_id": "K"}, kernel=k) for k in ("shell", "fork")}
    for k, ex in got.items():
        assert ex.ok, (k, ex.error)
    shell, fork = (_comparable(got[k].nb) for k in ("shell", "fork"))
    assert shell == fork
    assert got["shell"].nb.metadata["language_info"] == got["fork"].nb.metadata["language_info"]
    text = outputs_text(got["shell"])
    assert "one\ntwo\n" in text and "to stderr" in text and "kept" in text
    assert "gone" not in text
    assert any("image/png" in o.get("data", {}) for c in got["shell"].nb.cells
               for o in c.get("outputs", []))


def test_a_cell_tagged_raises_exception_does_not_stop_the_shell(server, tmp_path):
    """As nbclient does: an error in a cell tagged ``raises-exception`` is kept and the next
    cells run; papermill still reports the notebook as failed at that cell."""
    nb = nbformat.read(notebook(tmp_path / "r.ipynb", "1 / 0", "print('ran on')"), as_version=4)
    nb.cells[1].metadata["tags"] = ["raises-exception"]
    nbformat.write(nb, tmp_path / "r.ipynb")
    got = {k: run(tmp_path / "r.ipynb", {"account_id": "R"}, kernel=k) for k in ("shell", "fork")}
    for ex in got.values():
        assert not ex.ok and ex.error is not None and ex.error.ename == "ZeroDivisionError"
        assert "ran on" in outputs_text(ex)
    assert _comparable(got["shell"].nb) == _comparable(got["fork"].nb)


def test_a_notebook_can_ask_for_a_real_kernel(server, tmp_path):
    """``"valuereview": {"kernel": "ipykernel"}`` in a notebook's metadata runs it in a forked
    ipykernel; without it the batch's default is the forked shell."""
    path = notebook(tmp_path / "k.ipynb", "print(type(get_ipython()).__name__)")
    plain = run(path, {})
    nb = nbformat.read(path, as_version=4)
    nb.metadata["valuereview"] = {"kernel": "ipykernel"}
    nbformat.write(nb, path)
    asked = run(path, {})
    assert plain.ok and asked.ok, (plain.error, asked.error)
    assert "ZMQInteractiveShell" not in outputs_text(plain)
    assert outputs_text(asked).strip() == "ZMQInteractiveShell"
