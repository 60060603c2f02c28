"""Benchmark `valuereview render` against a naive papermill loop and an in-process floor.

This is the "Benchmark protocol" of docs/metrics.md (issue 4, item 6): one run, on one
machine, with the project's template and notebook, over the same deterministic demo accounts
(``valuereview demo-data --seed 7``), in a scratch folder under ``benchmarks/work/``.

Phases (each timed by wall clock, each with the peak memory of its process tree):

A naive
    For each account, one after another: the ``papermill`` CLI on
    ``notebooks/value_review.ipynb`` (``-p account_id/quarter/bundle/audience`` and
    ``-f params/defaults.yaml``, plus ``-f params/accounts/<id>.yaml`` where one exists), then
    ``jupyter nbconvert --to html --no-input`` with nbconvert's default template, then the
    ``weasyprint`` CLI on that HTML. This is what a user would write without this project.
    It is slow (a new kernel and three interpreters per account), so ``--naive-sample K``
    runs only the first K accounts and extrapolates accounts per minute from them; the output
    says so when it does.
B floor
    As many warm Python processes as C has workers. Each imports what the notebook imports,
    builds one :class:`valuelib.render.export.Exporters` and prints one tiny PDF before the
    clock starts; then, per account, it injects the parameters with papermill's own
    ``parameterize_notebook``, runs the code cells with ``exec`` in a fresh dict namespace
    (no kernel; ``display`` output collected through IPython's display formatter) and exports
    HTML and PDF with the same exporters. The processes take accounts from one shared queue.
    It is the cost of the work itself, with no isolation and no orchestration.
C valuereview
    ``valuereview render --db ... --out <fresh folder> --accounts <the N ids> --no-portfolio``:
    HTML and PDF, default workers (``--workers`` only when given here), cold cache. It
    includes the command's own extract. The portfolio review is excluded: it is not
    per-account work, and A and B do not render it, so C and D stay like for like.
D no change
    The same command again on the same output folder: every account is unchanged.
P portfolio (``--portfolio-accounts N``, run on its own)
    A billing-only warehouse (``valuelib.data.demo.billing_only``: accounts and ``arr_history``
    only) of N accounts with a row for each of the last M months for every account (dense,
    N × M rows; start months spread over the M months, so about M / 3 start-quarter cohorts),
    then ``valuereview render --accounts <first id>``, HTML and PDF, cold: the portfolio
    review of all N accounts plus one account's review, so the time is the portfolio's. The
    row records the command's wall seconds, the portfolio's own execute / HTML / PDF seconds
    from its manifest, and a short profile: the same extract, notebook and export once more in
    this process under cProfile (no kernel), its stages and the functions with the most own
    time.

Memory: every ~0.2 s the resident set sizes (RSS) of all processes the phase started (the
CLIs, the render command with its workers, kernels and browsers, B's processes) are summed;
the phase's peak is reported in MB. Summed RSS counts pages shared between processes (forked
kernels, a browser's processes) more than once, so it overstates rather than understates.
The same samples also sum the proportional set sizes (PSS: each shared page divided among the
processes that share it), which is what the phase really holds. ``peak_rss_mb`` and
``peak_pss_mb`` are C's. PSS is read every fifth sample (~1 s): the kernel walks each process's
page tables to count it (``/proc/PID/smaps_rollup``), about 0.15 s for a render's dozen
processes, which sampled every 0.2 s took a quarter of a core from the phase it measured
(more from C, which has more processes, than from B).

PDF engine: ``--pdf-engine`` (default ``auto``: Chromium when one is installed, else
WeasyPrint, as ``valuereview render`` resolves it) is the engine of B and C, and is named in
the notes; A keeps the ``weasyprint`` CLI, as the naive loop is defined.

Output: a table, a row appended to ``benchmarks/results.md`` (date, commit, machine, notes),
and, as the last printed line, one JSON object (``speedup_vs_naive``, ``overhead_vs_floor``,
``nochange_seconds``, ``peak_rss_mb``, ``accounts``, per-phase seconds and accounts/minute).
Exit status 1 if any account failed in any phase (the row is still recorded, with the
failures in its notes, and the scratch folder is kept), 2 if the set-up itself failed.

Accounts: a demo warehouse of N accounts holds a few that churned before the quarter, so the
warehouse is grown (same seed) until at least N accounts are active in the latest complete
quarter, and the first N active accounts (by id) are rendered by every phase. Bundles are
extracted once with ``valuelib.data.extract.run`` and feed A and B; C extracts its own (the same
bytes) as part of the command.

Usage::

    python -m benchmarks.bench [options]          # or: python benchmarks/bench.py, make bench

Options:

--accounts N        accounts to render (default 40; ``make bench-scale`` uses 1000)
--workers W         processes for B, and ``--workers W`` for C (default: os.cpu_count() for
                    B and C's own default, which is the same)
--naive-sample K    run A on the first K accounts only and extrapolate (default: all N)
--skip-naive        skip A (no speed-up is reported)
--skip-floor        skip B (no overhead is reported)
--scale             C and D only, results row marked "scale" (what ``make bench-scale`` runs)
--portfolio-accounts N
                    instead of A-D, phase P: the portfolio review of N accounts (see below),
                    results row marked "portfolio" (``make bench-scale`` runs it with 10000)
--portfolio-months M
                    months of ARR of every account in phase P (default 72)
--keep              keep the scratch folder ``benchmarks/work/run-<time>/``
--pdf-engine E      auto (default), chromium or weasyprint: the PDF engine of B and C
--note TEXT         free text for the notes column of the results row
--no-record         print only; do not append to benchmarks/results.md
"""

from __future__ import annotations

import argparse
import ast
import builtins
import collections
import contextlib
import copy
import datetime as dt
import io
import itertools
import json
import math
import multiprocessing
import os
import platform
import queue
import shutil
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python benchmarks/bench.py` from anywhere
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results.md"
WORK = ROOT / "benchmarks" / "work"
NOTEBOOK = ROOT / "notebooks" / "value_review.ipynb"
PARAMS_DIR = ROOT / "params"
SEED = 7
AUDIENCE = "customer"
SAMPLE_SECONDS = 0.2
#: PSS is summed every this many samples (see the module docstring: it is costly to read).
PSS_EVERY = 5
#: Highest 1-minute load average seen while a phase ran (others' work on the machine shows
#: up here: it is recorded in the notes, since it slows every phase).
MAX_LOAD = 0.0
#: A subprocess that runs longer than this is killed and counted as a failure.
STEP_TIMEOUT = 1800

RESULTS_HEADER = """# Benchmark results

Appended by `make bench` (40 accounts) and `make bench-scale` (1,000 accounts, C and D only;
then the portfolio of 10,000 accounts with 72 months of ARR each),
i.e. `python -m benchmarks.bench`; the protocol is "Benchmark protocol" in
`docs/metrics.md`, the targets are in issues 4 and 13. One row per run. Absolute times depend on
the machine and on what else runs on it; ratios from one run do not.

Columns:

- **kind**: `bench` (A, B, C, D), `scale` (C and D only) or `portfolio` (P: the portfolio
  review of a billing-only warehouse, `--portfolio-accounts N`; its C s is the render's wall
  seconds and its notes hold the portfolio's own seconds and a short profile).
- **accounts**: demo accounts (seed 7) rendered by every phase, HTML + PDF, customer audience.
- **workers**: processes of B, and C's `--workers` (default: the machine's cores).
- **A/min, B/min, C/min**: accounts per minute of A *naive* (papermill CLI, then
  `jupyter nbconvert --to html --no-input`, then the `weasyprint` CLI, per account, in
  sequence; extrapolated from a sample when the notes say so), B *floor* (warm processes
  running the notebook's code cells with `exec`, no kernel, then the same exporters) and
  C *valuereview* (`valuereview render --no-portfolio`, cold cache).
- **C s**: C's wall seconds. **D s**: the same command again with nothing changed.
- **C/A**: C's speed-up over A (`speedup_vs_naive`, target >= 12).
- **C/B**: C seconds / B seconds (`overhead_vs_floor`, target <= 1.2).
- **peak MB A/B/C/D**: peak summed RSS of each phase's process tree (C's is `peak_rss_mb`);
  from `d980ea7` on, the notes also give C's peak summed PSS (`peak_pss_mb`), which counts
  a page shared by several processes once.
- **notes**: sampling of A, the 1-minute load average at the start and its maximum during
  the phases (other work on the machine slows every phase), the PDF engine of B and C
  (from `d980ea7` on; WeasyPrint before), failures, free text.

The portfolio review is left out of C and D: it is not per-account work, and A and B do not
render it. Options of `benchmarks/bench.py`: `--accounts N`, `--workers W`,
`--naive-sample K` (A on the first K accounts, extrapolated), `--skip-naive`, `--skip-floor`,
`--scale`, `--portfolio-accounts N`, `--portfolio-months M`, `--pdf-engine E`, `--keep` (keep
`benchmarks/work/run-*`), `--note TEXT`, `--no-record`;
`make bench ARGS="--naive-sample 10"` passes them on.

"""
TABLE_HEAD = (
    "| date | commit | machine | kind | accounts | workers | A/min | B/min | C/min | C s "
    "| C/A | C/B | D s | peak MB A/B/C/D | notes |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


# --------------------------------------------------------------------------- measuring


class TreePeak:
    """Peak summed RSS of the processes this process starts while the context is open.

    Descendants that already existed on entry (for example multiprocessing's resource
    tracker, left over from an earlier phase) are not counted.
    """

    def __init__(self, interval: float = SAMPLE_SECONDS) -> None:
        self._me = psutil.Process()
        self._interval = interval
        self._before: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self.peak_bytes = 0
        self.peak_pss_bytes = 0

    def _sample(self, with_pss: bool) -> tuple[int, int]:
        """Summed RSS and (if `with_pss`, else 0) summed PSS of the phase's processes now."""
        rss = pss = 0
        try:
            children = self._me.children(recursive=True)
        except psutil.Error:
            return 0, 0
        for proc in children:
            if proc.pid in self._before:
                continue
            with contextlib.suppress(psutil.Error):
                if with_pss:
                    full = proc.memory_full_info()
                    rss += full.rss
                    pss += getattr(full, "pss", full.rss)
                else:
                    rss += proc.memory_info().rss
        return rss, pss

    def _loop(self) -> None:
        global MAX_LOAD
        for n in itertools.count():
            rss, pss = self._sample(with_pss=n % PSS_EVERY == 0)
            self.peak_bytes = max(self.peak_bytes, rss)
            self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
            MAX_LOAD = max(MAX_LOAD, os.getloadavg()[0])
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> TreePeak:
        self._before = {p.pid for p in self._me.children(recursive=True)}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20

    @property
    def peak_pss_mb(self) -> float:
        return self.peak_pss_bytes / 2**20


@dataclass
class Phase:
    """One phase's measurement."""

    key: str  # naive | floor | render | nochange
    label: str
    seconds: float  # wall seconds of what was measured
    measured: int  # accounts measured
    total: int  # accounts of the run
    peak_rss_mb: float
    failures: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    peak_pss_mb: float | None = None

    @property
    def extrapolated(self) -> bool:
        return self.measured != self.total

    @property
    def per_minute(self) -> float | None:
        if self.measured == 0 or self.seconds <= 0:
            return None
        return self.measured / self.seconds * 60

    @property
    def full_seconds(self) -> float:
        """Seconds for all accounts: measured, or extrapolated from the sample."""
        if not self.extrapolated or self.measured == 0:
            return self.seconds
        return self.seconds / self.measured * self.total


# --------------------------------------------------------------------------- set-up


@dataclass
class Setup:
    """The demo warehouse, the chosen accounts and their bundles and parameters."""

    db: Path
    warehouse_accounts: int
    quarter: str
    ids: list[str]
    bundles: dict[str, Path]
    params: dict[str, dict[str, Any]]  # full notebook parameters per account
    extract_seconds: float


def venv_bin() -> Path:
    """Where the CLIs (papermill, jupyter, weasyprint, valuereview) of this interpreter live."""
    return Path(sys.prefix) / "bin"


def _run(cmd: list[str], log: Path, cwd: Path | None = None) -> int:
    """Run `cmd` with its output appended to `log`; returns the exit status (-9 on timeout)."""
    with log.open("ab") as fh:
        fh.write(("$ " + " ".join(cmd) + "\n").encode())
        fh.flush()
        try:
            return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd,
                                  timeout=STEP_TIMEOUT, check=False).returncode
        except subprocess.TimeoutExpired:
            fh.write(f"timed out after {STEP_TIMEOUT} s\n".encode())
            return -9


def prepare(work: Path, n: int) -> Setup:
    """Build the demo warehouse with at least `n` active accounts and extract their bundles."""
    from valuelib.batch import params
    from valuelib.data import extract
    from valuelib.data.warehouse import Warehouse

    db = work / "warehouse.duckdb"
    size = n
    for _ in range(10):
        db.unlink(missing_ok=True)
        rc = _run([str(venv_bin() / "valuereview"), "demo-data", "--accounts", str(size),
                   "--seed", str(SEED), "--db", str(db)], work / "setup.log")
        if rc != 0:
            raise RuntimeError(f"valuereview demo-data failed (exit {rc}); see {work}/setup.log")
        t0 = time.perf_counter()
        with Warehouse.open(str(db)) as wh:
            ex = extract.run(wh, work / "bundles", audience=AUDIENCE)
        extract_seconds = time.perf_counter() - t0
        active = len(ex.bundles)
        if active >= n:
            break
        size = max(size + 1, math.ceil(size * n / max(active, 1)))
    else:
        raise RuntimeError(f"could not get {n} active demo accounts")
    ids = sorted(ex.bundles)[:n]
    allowed = set(params.notebook_parameters(NOTEBOOK))
    defaults, overrides = params.load(PARAMS_DIR, allowed)
    per_account = {
        aid: {**params.for_account(defaults, overrides, aid), "account_id": aid,
              "quarter": ex.quarter, "bundle": str(ex.bundles[aid]), "audience": AUDIENCE}
        for aid in ids
    }
    return Setup(db, size, ex.quarter, ids, {a: ex.bundles[a] for a in ids}, per_account,
                 extract_seconds)


# --------------------------------------------------------------------------- A naive


def naive_commands(setup: Setup, aid: str, out: Path) -> list[list[str]]:
    """The three commands a user would chain for one account, without this project."""
    b = venv_bin()
    papermill = [str(b / "papermill"), str(NOTEBOOK), str(out / "value-review.ipynb"),
                 "-p", "account_id", aid, "-p", "quarter", setup.quarter,
                 "-p", "bundle", str(setup.bundles[aid]), "-p", "audience", AUDIENCE,
                 "-f", str(PARAMS_DIR / "defaults.yaml")]
    override = PARAMS_DIR / "accounts" / f"{aid}.yaml"
    if override.is_file():
        papermill += ["-f", str(override)]
    nbconvert = [str(b / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                 str(out / "value-review.ipynb")]
    weasyprint = [str(b / "weasyprint"), str(out / "value-review.html"),
                  str(out / "value-review.pdf")]
    return [papermill, nbconvert, weasyprint]


def phase_naive(setup: Setup, work: Path, sample: int) -> Phase:
    """A: papermill, nbconvert and weasyprint CLIs per account, in sequence."""
    ids = setup.ids[:sample]
    failures: list[str] = []
    root = work / "naive"
    with TreePeak() as peak:
        t0 = time.perf_counter()
        for i, aid in enumerate(ids, 1):
            out = root / aid
            out.mkdir(parents=True)
            log = out / "commands.log"
            t = time.perf_counter()
            for cmd in naive_commands(setup, aid, out):
                rc = _run(cmd, log, cwd=out)
                if rc != 0:
                    failures.append(f"{aid}: {Path(cmd[0]).name} exit {rc} (see {log})")
                    break
            _progress(f"A naive {i}/{len(ids)} {aid} {time.perf_counter() - t:.1f} s")
        seconds = time.perf_counter() - t0
    return Phase("naive", "A naive (papermill CLI loop)", seconds, len(ids), len(setup.ids),
                 peak.peak_mb, failures,
                 peak_pss_mb=peak.peak_pss_mb)


# --------------------------------------------------------------------------- B floor


def _collector_class() -> type:
    """An IPython DisplayPublisher that appends each display to a list of notebook outputs."""
    import nbformat
    from IPython.core.displaypub import DisplayPublisher

    class Collector(DisplayPublisher):
        outputs: list[Any] = []

        def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None,
                    source: Any = None, *, transient: Any = None, update: bool = False,
                    **kwargs: Any) -> None:
            self.outputs.append(nbformat.v4.new_output("display_data", data=data,
                                                       metadata=metadata or {}))

        def clear_output(self, wait: bool = False) -> None:
            self.outputs.clear()

    return Collector


class FloorRunner:
    """One warm process's notebook runner: code cells via ``exec``, no kernel, no isolation."""

    def __init__(self, notebook: Path, engine: str = "weasyprint") -> None:
        import nbformat
        from IPython.core.inputtransformer2 import TransformerManager
        from IPython.core.interactiveshell import InteractiveShell
        from papermill.iorw import load_notebook_node

        from valuelib.render.export import Exporters

        self._nbformat = nbformat
        self.path = str(notebook)
        self.engine = engine
        self.notebook = load_notebook_node(self.path)  # papermill's reader (adds empty tags)
        self.shell = InteractiveShell.instance()
        self.collector = _collector_class()(parent=self.shell, shell=self.shell)
        self.shell.display_pub = self.collector
        self.transformer = TransformerManager()
        self.exporters = Exporters()
        self._warm_up()

    def _warm_up(self) -> None:
        """Import what the notebook imports, and warm the HTML template and WeasyPrint."""
        for cell in self.notebook.cells:
            if cell.cell_type != "code":
                continue
            tree = ast.parse(self.transformer.transform_cell(cell.source))
            imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
            if imports:
                exec(compile(ast.Module(imports, []), "<warm-up>", "exec"), {})  # noqa: S102
        nb = self._nbformat.v4.new_notebook()
        nb.cells.append(self._nbformat.v4.new_markdown_cell("warm up"))
        # An executed code cell: the exporters refuse a notebook no cell of which has run.
        nb.cells.append(self._nbformat.v4.new_code_cell("", execution_count=1))
        self.exporters.pdf(self.exporters.html(nb), engine=self.engine)

    def execute(self, parameters: dict[str, Any]) -> tuple[Any, str | None]:
        """The notebook executed with `parameters` (papermill's injected cell); error or None."""
        from papermill.execute import prepare_notebook_metadata
        from papermill.parameterize import parameterize_notebook

        nb = parameterize_notebook(copy.deepcopy(self.notebook), parameters)
        nb = prepare_notebook_metadata(nb, self.path, "executed.ipynb")
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            count += 1
            cell.execution_count = count
            cell.outputs = []
            error = self._run_cell(cell, count, namespace)
            if error:
                return nb, f"cell {count}: {error}"
        return nb, None

    def _run_cell(self, cell: Any, count: int, namespace: dict[str, Any]) -> str | None:
        new_output = self._nbformat.v4.new_output
        tree = ast.parse(self.transformer.transform_cell(cell.source))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        stdout, stderr = io.StringIO(), io.StringIO()
        self.collector.outputs = cell.outputs
        error = None
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                exec(compile(tree, f"<cell {count}>", "exec"), namespace)  # noqa: S102
                if last is not None:
                    value = eval(compile(last, f"<cell {count}>", "eval"), namespace)  # noqa: S307
                    if value is not None:
                        data, md = self.shell.display_formatter.format(value)
                        cell.outputs.append(new_output("execute_result", data=data, metadata=md,
                                                       execution_count=count))
        except Exception as exc:  # noqa: BLE001 - reported as the account's failure
            error = f"{type(exc).__name__}: {exc}"
            cell.outputs.append(new_output("error", ename=type(exc).__name__, evalue=str(exc),
                                           traceback=traceback.format_exc().splitlines()))
        for name, buf in (("stdout", stdout), ("stderr", stderr)):
            if buf.getvalue():
                cell.outputs.append(new_output("stream", name=name, text=buf.getvalue()))
        return error

    def render(self, aid: str, parameters: dict[str, Any], out: Path) -> dict[str, Any]:
        """Execute and export one account; returns its timings, or its error."""
        t0 = time.perf_counter()
        nb, error = self.execute(parameters)
        timings = {"execute": time.perf_counter() - t0}
        if error:
            return {"account_id": aid, "ok": False, "error": error, "timings": timings}
        try:
            t = time.perf_counter()
            html = self.exporters.html(nb, audience=parameters.get("audience"))
            timings["html"] = time.perf_counter() - t
            t = time.perf_counter()
            pdf = self.exporters.pdf(html, engine=self.engine)
            timings["pdf"] = time.perf_counter() - t
            out.mkdir(parents=True, exist_ok=True)
            (out / "value-review.html").write_text(html, encoding="utf-8")
            (out / "value-review.pdf").write_bytes(pdf)
            (out / "value-review.ipynb").write_text(self._nbformat.writes(nb), encoding="utf-8")
        except Exception as exc:  # noqa: BLE001 - reported as the account's failure
            return {"account_id": aid, "ok": False, "error": f"export: {exc!r}",
                    "timings": timings}
        return {"account_id": aid, "ok": True, "error": None, "timings": timings,
                "seconds": time.perf_counter() - t0}


def _floor_worker(notebook: str, parameters: dict[str, dict[str, Any]], out_dir: str,
                  tasks: Any, results: Any, barrier: Any, engine: str) -> None:
    """B's process: warm up, wait for the start, then render accounts from `tasks`."""
    try:
        runner = FloorRunner(Path(notebook), engine)
    except BaseException:
        results.put({"account_id": None, "ok": False,
                     "error": "warm-up failed: " + traceback.format_exc()})
        barrier.abort()
        raise
    barrier.wait()
    while (aid := tasks.get()) is not None:
        try:
            results.put(runner.render(aid, parameters[aid], Path(out_dir) / aid))
        except BaseException as exc:
            results.put({"account_id": aid, "ok": False, "error": repr(exc)})


def phase_floor(setup: Setup, work: Path, workers: int, engine: str) -> Phase:
    """B: warm processes executing the notebook's code in-process, then the same exporters."""
    ctx = multiprocessing.get_context("spawn")
    n = max(1, min(workers, len(setup.ids)))
    tasks, results = ctx.Queue(), ctx.Queue()
    for aid in setup.ids:
        tasks.put(aid)
    for _ in range(n):
        tasks.put(None)
    barrier = ctx.Barrier(n + 1)
    out_dir = work / "floor"
    failures: list[str] = []
    done: list[dict[str, Any]] = []
    with TreePeak() as peak:
        t_warm = time.perf_counter()
        procs = [ctx.Process(target=_floor_worker, name=f"floor-{i}",
                             args=(str(NOTEBOOK), setup.params, str(out_dir), tasks, results,
                                   barrier, engine))
                 for i in range(n)]
        for p in procs:
            p.start()
        try:
            barrier.wait(timeout=600)
        except threading.BrokenBarrierError as exc:
            errors = []
            with contextlib.suppress(queue.Empty):
                while True:
                    errors.append(results.get(timeout=1)["error"])
            for p in procs:
                p.kill()
            message = "B floor: a process failed to warm up:\n" + "\n".join(errors)
            raise RuntimeError(message) from exc
        warm_seconds = time.perf_counter() - t_warm
        t0 = time.perf_counter()
        while len(done) < len(setup.ids):
            try:
                res = results.get(timeout=5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    failures.append(f"{len(setup.ids) - len(done)} accounts lost: "
                                    "B's processes died")
                    break
                continue
            done.append(res)
            if not res["ok"]:
                failures.append(f"{res['account_id']}: {res['error']}")
            _progress(f"B floor {len(done)}/{len(setup.ids)} {res['account_id']}")
        seconds = time.perf_counter() - t0
        for p in procs:
            p.join(timeout=60)
    info = {"processes": n, "warm_up_seconds": round(warm_seconds, 2),
            **_mean_timings([r.get("timings", {}) for r in done if r["ok"]])}
    return Phase("floor", "B floor (warm, no kernel)", seconds, len(setup.ids), len(setup.ids),
                 peak.peak_mb, failures, info,
                 peak_pss_mb=peak.peak_pss_mb)


def median_run(runs: list[dict[str, Phase]]) -> tuple[int, str]:
    """The index of the run (B and C of one repeat) whose C seconds are the median (the lower
    of the two middle ones for an even count), and a note naming every run's seconds and any
    other run that failed; no note for one run. B and C are kept together, since the
    machine's speed drifts between repeats."""
    if len(runs) == 1:
        return 0, ""
    order = sorted(range(len(runs)), key=lambda i: runs[i]["render"].seconds)
    chosen = order[(len(order) - 1) // 2]
    seconds = {k: " / ".join(f"{r[k].seconds:.1f}" for r in runs)
               for k in ("floor", "render") if k in runs[0]}
    named = ", ".join(f"{k} {v} s" for k, v in seconds.items())
    failed = [f"run {i + 1} {k} FAILED" for i, r in enumerate(runs) for k, p in r.items()
              if p.failures and i != chosen]
    return chosen, "; ".join([f"{len(runs)} alternating runs of B and C ({named}); "
                              f"recorded: run {chosen + 1}, the median C", *failed])


def _mean_timings(timings: list[dict[str, float]]) -> dict[str, float]:
    """Mean seconds per account of each step (execute, html, pdf)."""
    out: dict[str, float] = {}
    for step in ("execute", "html", "pdf"):
        values = [t[step] for t in timings if step in t]
        if values:
            out[f"mean_{step}_s"] = round(sum(values) / len(values), 3)
    return out


# --------------------------------------------------------------------------- C and D


def render_command(setup: Setup, out: Path, workers: int | None, engine: str) -> list[str]:
    """`valuereview render` for exactly the benchmark's accounts, without the portfolio."""
    cmd = [str(venv_bin() / "valuereview"), "render", "--db", str(setup.db), "--out", str(out),
           "--accounts", ",".join(setup.ids), "--no-portfolio", "--pdf-engine", engine]
    if workers:
        cmd += ["--workers", str(workers)]
    return cmd


def phase_render(setup: Setup, work: Path, workers: int | None, key: str, engine: str
                 ) -> Phase:
    """C (cold, fresh output folder) or D (the same command again)."""
    out = work / "render"
    log = work / f"{key}.log"
    expect = "rendered" if key == "render" else "unchanged"
    from valuelib.batch.layout import QuarterLayout

    manifest_path = QuarterLayout(out, setup.quarter).manifest(AUDIENCE)
    before = _read_json(manifest_path).get("accounts", {})
    keys = {aid: e.get("cache_key") for aid, e in before.items()}
    with TreePeak() as peak:
        t0 = time.perf_counter()
        rc = _run(render_command(setup, out, workers, engine), log, cwd=ROOT)
        seconds = time.perf_counter() - t0
    failures: list[str] = []
    if rc != 0:
        failures.append(f"valuereview render exit {rc} (see {log})")
    manifest = _read_json(manifest_path)
    entries = manifest.get("accounts", {})
    info: dict[str, Any] = {"summary": manifest.get("last_run", {}).get("summary", {})}
    wrong = [aid for aid in setup.ids if entries.get(aid, {}).get("status") != expect]
    if wrong:
        why = ""
        if key == "nochange" and any(entries.get(a, {}).get("cache_key") != keys.get(a)
                                     for a in wrong):
            why = ("; their cache keys changed since C: valuelib, the notebook, the template "
                   "or params were edited during the run")
        failures.append(f"{len(wrong)} accounts not {expect} "
                        f"(e.g. {', '.join(wrong[:3])}){why}")
    if key == "render":
        info.update(_mean_timings([entries[a].get("timings", {}) for a in setup.ids
                                   if a in entries]))
        info.update(_retried_prints(log))
    label = ("C valuereview render (cold)" if key == "render"
             else "D valuereview render (no change)")
    return Phase(key, label, seconds, len(setup.ids), len(setup.ids), peak.peak_mb, failures,
                 info, peak_pss_mb=peak.peak_pss_mb)


def _retried_prints(log: Path) -> dict[str, Any]:
    """How many Chromium prints the render tried again with a new browser, and why (the
    browser's fault, as the workers' warnings name it: one line per print)."""
    from valuelib.render.export_chromium import RETRYING

    faults: collections.Counter[str] = collections.Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.endswith(RETRYING):
            faults[line.split(": ", 1)[-1].split(" (", 1)[0]] += 1
    return {"prints_retried": sum(faults.values()), "retry_faults": dict(faults)}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- reporting


def _progress(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def git_commit() -> str:
    """Short hash of HEAD, with "-dirty" when tracked files differ from it."""
    def git(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True,
                              check=False)

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "unknown"
    dirty = git("diff", "--quiet", "HEAD", "--").returncode != 0
    return head.stdout.strip() + ("-dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """Host name, CPU model, cores and RAM."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1)}


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def summarise(phases: dict[str, Phase], setup: Setup, workers: int, kind: str,
              load: float, note: str, started: dt.datetime) -> dict[str, Any]:
    """The JSON result (the last printed line)."""
    a, b = phases.get("naive"), phases.get("floor")
    c, d = phases.get("render"), phases.get("nochange")
    speedup = a.full_seconds / c.seconds if a and c and c.seconds else None
    overhead = c.seconds / b.seconds if b and c and b.seconds else None
    notes = []
    if a and a.extrapolated:
        notes.append(f"A sampled {a.measured} of {a.total} accounts, extrapolated")
    notes.append(f"load avg {load:.1f} at start, max {MAX_LOAD:.1f} during the run, "
                 f"on {os.cpu_count()} cores")
    if c and c.peak_pss_mb is not None:
        notes.append(f"C peak PSS {c.peak_pss_mb:.0f} MB (summed RSS {c.peak_rss_mb:.0f} MB)")
    for p in phases.values():
        if p.failures:
            notes.append(f"{p.key}: {len(p.failures)} FAILED")
    if c and c.info.get("prints_retried"):
        faults = ", ".join(f"{n}× {fault}" for fault, n in c.info["retry_faults"].items())
        notes.append(f"C: Chromium prints tried again by a new browser: {faults}")
    if note:
        notes.append(note)

    def r(x: float | None, nd: int = 2) -> float | None:
        return None if x is None else round(x, nd)

    return {
        "date": started.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "kind": kind,
        "accounts": len(setup.ids),
        "warehouse_accounts": setup.warehouse_accounts,
        "quarter": setup.quarter,
        "workers": workers,
        "speedup_vs_naive": r(speedup),
        "overhead_vs_floor": r(overhead),
        "nochange_seconds": r(d.seconds if d else None),
        "peak_rss_mb": r(c.peak_rss_mb if c else None, 0),
        "peak_pss_mb": r(c.peak_pss_mb if c else None, 0),
        "naive_seconds": r(a.seconds if a else None),
        "naive_accounts_measured": a.measured if a else None,
        "naive_extrapolated": a.extrapolated if a else None,
        "naive_seconds_all_accounts": r(a.full_seconds if a else None),
        "naive_per_minute": r(a.per_minute if a else None),
        "floor_seconds": r(b.seconds if b else None),
        "floor_per_minute": r(b.per_minute if b else None),
        "render_seconds": r(c.seconds if c else None),
        "render_per_minute": r(c.per_minute if c else None),
        "peak_rss_mb_by_phase": {k: r(p.peak_rss_mb, 0) for k, p in phases.items()},
        "peak_pss_mb_by_phase": {k: r(p.peak_pss_mb, 0) for k, p in phases.items()},
        "phase_details": {k: p.info for k, p in phases.items() if p.info},
        "failures": {k: p.failures for k, p in phases.items() if p.failures},
        "extract_seconds": r(setup.extract_seconds),
        "notes": "; ".join(notes),
    }


def print_table(phases: dict[str, Phase], result: dict[str, Any]) -> None:
    """The human-readable summary."""
    m = result["machine"]
    print()
    print(f"valuereview benchmark ({result['kind']}): {result['accounts']} accounts, quarter "
          f"{result['quarter']}, HTML + PDF, {AUDIENCE} audience, {result['workers']} workers")
    print(f"machine: {m['host']}, {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; "
          f"commit {result['commit']}")
    print()
    print(f"{'phase':<36} {'seconds':>9} {'acc/min':>9} {'peak MB':>9}  notes")
    for p in phases.values():
        notes = []
        if p.extrapolated:
            notes.append(f"{p.measured} of {p.total} measured; all {p.total}: "
                         f"~{p.full_seconds:.0f} s (extrapolated)")
        if p.failures:
            notes.append(f"{len(p.failures)} FAILED")
        rate = None if p.key == "nochange" else p.per_minute
        print(f"{p.label:<36} {p.seconds:>9.1f} {_fmt(rate, '.1f'):>9} "
              f"{p.peak_rss_mb:>9.0f}  {'; '.join(notes)}")
    print()
    print(f"C speed-up over A (speedup_vs_naive):  {_fmt(result['speedup_vs_naive'], '.1f', 'x')}"
          "   (issue 4 target >= 12)")
    print(f"C / B (overhead_vs_floor):             {_fmt(result['overhead_vs_floor'], '.2f')}"
          "   (target <= 1.2)")
    print(f"D no-change seconds:                   {_fmt(result['nochange_seconds'], '.2f', ' s')}"
          "   (target <= 1 s at 40 accounts, <= 5 s at 1,000)")
    print(f"C peak memory (peak_rss_mb):           {_fmt(result['peak_rss_mb'], '.0f', ' MB')}"
          "   (target <= 3 GB at 1,000 accounts)")
    print(f"C peak PSS (peak_pss_mb):              {_fmt(result['peak_pss_mb'], '.0f', ' MB')}"
          "   (shared pages counted once)")
    for key, info in result["phase_details"].items():
        shown = {k: v for k, v in info.items() if k != "summary"}
        if shown:
            print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    print(f"  bundles extracted once for A and B in {result['extract_seconds']} s "
          "(C and D extract their own, inside their time)")
    for key, failures in result["failures"].items():
        for f in failures[:10]:
            print(f"  FAILED {key}: {f}")
    print(f"notes: {result['notes']}")


def append_row(result: dict[str, Any], phases: dict[str, Phase]) -> None:
    """Append the run to benchmarks/results.md (header written first if the file is new)."""
    if not RESULTS.exists():
        RESULTS.write_text(RESULTS_HEADER + TABLE_HEAD, encoding="utf-8")
    m = result["machine"]

    def cell(x: float | None, spec: str) -> str:
        return "-" if x is None else f"{x:{spec}}"

    peaks = "/".join(cell(phases[k].peak_rss_mb, ".0f") if k in phases else "-"
                     for k in ("naive", "floor", "render", "nochange"))
    row = [
        result["date"].replace("T", " ")[:16],
        f"`{result['commit']}`",
        f"{m['host']}, {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB",
        result["kind"],
        str(result["accounts"]),
        str(result["workers"]),
        cell(result["naive_per_minute"], ".1f"),
        cell(result["floor_per_minute"], ".1f"),
        cell(result["render_per_minute"], ".1f"),
        cell(result["render_seconds"], ".1f"),
        cell(result["speedup_vs_naive"], ".1f") + ("x" if result["speedup_vs_naive"] else ""),
        cell(result["overhead_vs_floor"], ".2f"),
        cell(result["nochange_seconds"], ".2f"),
        peaks,
        result["notes"].replace("|", "/"),
    ]
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("| " + " | ".join(row) + " |\n")


# --------------------------------------------------------------------------- P portfolio


PORTFOLIO_NOTEBOOK = ROOT / "notebooks" / "portfolio_review.ipynb"
#: The stages of the portfolio profile: (label, file suffix, function name) of cProfile entries.
PROFILE_STAGES = (
    ("extract", "valuelib/data/extract.py", "run"),
    ("bundle load", "valuelib/data/bundle.py", "load"),
    ("model", "valuelib/model/portfolio.py", "build"),
    ("charts", "valuelib/report/blocks.py", "figure"),
    ("tables", "valuelib/report/blocks.py", "table"),
    ("HTML", "valuelib/render/export.py", "html"),
    ("PDF", "valuelib/render/export.py", "pdf"),
)


def prepare_portfolio(work: Path, n: int, months: int) -> tuple[Path, list[str], int]:
    """The billing-only warehouse of phase P: its path, account ids and ARR rows."""
    from valuelib.data import demo
    from valuelib.data.warehouse import Warehouse

    db = work / "portfolio.duckdb"
    tables = demo.billing_only(n, months=months, dense=True)
    with Warehouse.open(str(db), read_only=False) as wh:
        demo.write(wh, tables)
    return db, [str(a) for a in tables["accounts"]["account_id"]], len(tables["arr_history"])


def portfolio_profile(db: Path, account_id: str, work: Path, engine: str) -> dict[str, Any]:
    """Extract, run the portfolio notebook (exec, no kernel) and export it under cProfile:
    seconds per stage and the functions with the most own time."""
    import cProfile
    import pstats

    from valuelib.data import extract
    from valuelib.data.warehouse import Warehouse

    runner = FloorRunner(PORTFOLIO_NOTEBOOK, engine)  # imports and warms up outside the profile
    import scipy.optimize  # noqa: F401 - the batch preloads it; so does this profile

    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    with Warehouse.open(str(db)) as wh:
        ex = extract.run(wh, None, selector=account_id, audience=AUDIENCE)
    bundle = work / "portfolio-bundle.json"
    assert ex.portfolio_data is not None
    bundle.write_bytes(ex.portfolio_data)
    nb, error = runner.execute({"bundle": str(bundle), "quarter": ex.quarter})
    if error is None:
        runner.exporters.pdf(runner.exporters.html(nb), engine=engine)
    profile.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(profile).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    stages: dict[str, float] = {}
    for label, suffix, name in PROFILE_STAGES:
        stages[label] = round(sum(v[3] for k, v in stats.items()
                                  if k[0].endswith(suffix) and k[2] == name), 2)
    own = sorted(stats.items(), key=lambda kv: -kv[1][2])[:5]
    top = [(f"{Path(k[0]).name}:{k[2]}" if k[0] != "~" else k[2], round(v[2], 2))
           for k, v in own]
    return {"seconds": round(total, 2), "stages": stages, "top_own": top, "error": error}


def phase_portfolio(work: Path, n: int, months: int, workers: int | None, engine: str
                    ) -> tuple[Phase, Setup]:
    """P: the CLI's cold render of the portfolio of N accounts (and one account)."""
    t = time.perf_counter()
    db, ids, rows = prepare_portfolio(work, n, months)
    first = ids[0]
    built = time.perf_counter() - t
    _progress(f"P warehouse: {n} accounts, {rows} ARR rows in {built:.1f} s")
    out = work / "out-portfolio"
    cmd = [str(venv_bin() / "valuereview"), "render", "--db", str(db), "--out", str(out),
           "--accounts", first, "--formats", "html,pdf", "--pdf-engine", engine]
    if workers:
        cmd += ["--workers", str(workers)]
    failures: list[str] = []
    with TreePeak() as peak:
        t0 = time.perf_counter()
        code = _run(cmd, work / "portfolio.log")
        seconds = time.perf_counter() - t0
    if code != 0:
        failures.append(f"render exited {code} (see {work / 'portfolio.log'})")
    timings: dict[str, Any] = {}
    quarter = "-"
    for path in out.glob("*/internal/manifest-portfolio.json"):
        quarter = path.parent.parent.name
        entry = _read_json(path).get("accounts", {}).get("portfolio", {})
        timings = entry.get("timings", {})
        if entry.get("status") == "failed":
            failures.append(f"portfolio failed: {entry.get('error')}")
    _progress(f"P render {seconds:.1f} s (portfolio {timings}); profiling")
    profile = portfolio_profile(db, first, work, engine)
    if profile["error"]:
        failures.append(f"profile run: {profile['error']}")
    info = {"months": months, "arr_rows": rows, "portfolio_timings": timings,
            "profile": profile}
    phase = Phase("portfolio", "P portfolio (valuereview render, cold)", seconds, n, n,
                  peak.peak_mb, failures, info,
                 peak_pss_mb=peak.peak_pss_mb)
    return phase, Setup(db, n, quarter, ids, {}, {}, built)


def portfolio_note(info: dict[str, Any]) -> str:
    """The results row's description of phase P."""
    t = info["portfolio_timings"]
    p = info["profile"]
    own = ", ".join(f"{name} {sec:.2f}" for name, sec in p["top_own"])
    stages = ", ".join(f"{k} {v:.2f}" for k, v in p["stages"].items())
    return (f"billing-only warehouse, {info['months']} months of ARR for every account "
            f"({info['arr_rows']:,} rows); C s is `valuereview render --accounts <one id>` "
            f"(the portfolio of every account plus one account's review), cold; the portfolio "
            f"itself: execute {t.get('execute', '-')} s, HTML {t.get('html', '-')} s, PDF "
            f"{t.get('pdf', '-')} s; profile (cProfile, one process, no kernel, "
            f"{p['seconds']:.1f} s): {stages}; most own time: {own}")


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Benchmark valuereview render against a naive papermill loop (A) and an "
                    "in-process floor (B); see the module docstring.")
    p.add_argument("--accounts", type=int, default=40, help="accounts to render (40)")
    p.add_argument("--workers", type=int, default=None,
                   help="B's processes and C's --workers (default: os.cpu_count())")
    p.add_argument("--naive-sample", type=int, default=None, metavar="K",
                   help="run A on the first K accounts only and extrapolate (default: all)")
    p.add_argument("--skip-naive", action="store_true", help="skip A")
    p.add_argument("--skip-floor", action="store_true", help="skip B")
    p.add_argument("--scale", action="store_true",
                   help="C and D only; the results row is marked scale")
    p.add_argument("--portfolio-accounts", type=int, default=None, metavar="N",
                   help="phase P only: the portfolio review of a billing-only warehouse of "
                        "N accounts (results row marked portfolio)")
    p.add_argument("--portfolio-months", type=int, default=72, metavar="M",
                   help="months of ARR of every account in phase P (72)")
    p.add_argument("--pdf-engine", default="auto", choices=("auto", "chromium", "weasyprint"),
                   help="the PDF engine of B and C (auto: chromium when installed)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run B and C N times, alternating, and record the run of median C "
                        "seconds with the B beside it (A and D run once; default 1)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--note", default="", help="free text for the results row's notes")
    p.add_argument("--no-record", action="store_true",
                   help="do not append to benchmarks/results.md")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.accounts < 1:
        print("--accounts must be at least 1", file=sys.stderr)
        return 2
    if args.naive_sample is not None and args.naive_sample < 1:
        print("--naive-sample must be at least 1", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2
    skip_naive = args.skip_naive or args.scale
    skip_floor = args.skip_floor or args.scale
    kind = "scale" if args.scale else "bench"
    workers = args.workers or os.cpu_count() or 1
    started = dt.datetime.now().astimezone()
    load = os.getloadavg()[0]
    work = WORK / f"run-{started:%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    print(f"scratch folder {work}", file=sys.stderr)

    from valuelib.render.chromium import resolve_engine

    engine = resolve_engine(args.pdf_engine)
    note = "; ".join(x for x in (f"PDF engine {engine} (B and C)", args.note) if x)
    if args.portfolio_accounts is not None:
        return main_portfolio(args, work, started, load, engine)
    try:
        setup = prepare(work, args.accounts)
    except Exception as exc:  # noqa: BLE001 - reported, scratch kept
        print(f"set-up failed: {exc}", file=sys.stderr)
        return 2
    print(f"{len(setup.ids)} accounts active in {setup.quarter} (warehouse of "
          f"{setup.warehouse_accounts}); bundles in {setup.extract_seconds:.1f} s",
          file=sys.stderr)

    phases: dict[str, Phase] = {}
    if not skip_naive:
        sample = min(args.naive_sample or len(setup.ids), len(setup.ids))
        print(f"A naive: {sample} accounts", file=sys.stderr)
        phases["naive"] = phase_naive(setup, work, sample)
    # Each repeat in a folder of its own: C's output folder starts empty (cold) every time.
    folders = [work] if args.repeat == 1 else [work / f"repeat-{i + 1}"
                                               for i in range(args.repeat)]
    runs: list[dict[str, Phase]] = []
    for here in folders:
        here.mkdir(exist_ok=True)
        run: dict[str, Phase] = {}
        if not skip_floor:
            print(f"B floor: {workers} processes", file=sys.stderr)
            try:
                run["floor"] = phase_floor(setup, here, workers, engine)
            except RuntimeError as exc:
                print(str(exc), file=sys.stderr)
                return 2
        print("C valuereview render (cold)", file=sys.stderr)
        run["render"] = phase_render(setup, here, args.workers, "render", engine)
        runs.append(run)
    chosen, repeats_note = median_run(runs)
    phases.update(runs[chosen])
    if repeats_note:
        note = "; ".join((repeats_note, note))
    print("D valuereview render (no change)", file=sys.stderr)
    phases["nochange"] = phase_render(setup, folders[chosen], args.workers, "nochange", engine)

    result = summarise(phases, setup, workers, kind, load, note, started)
    print_table(phases, result)
    if not args.no_record:
        append_row(result, phases)
        print(f"appended to {RESULTS.relative_to(ROOT)}")
    failed = any(p.failures for r in [phases, *runs] for p in r.values())
    if args.keep or failed:
        print(f"scratch folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, sort_keys=True))
    return 1 if failed else 0


def main_portfolio(args: argparse.Namespace, work: Path, started: dt.datetime,
                   load: float, engine: str) -> int:
    """Phase P on its own: measure, print, record."""
    n, months = args.portfolio_accounts, args.portfolio_months
    if n < 1 or months < 1:
        print("--portfolio-accounts and --portfolio-months must be at least 1", file=sys.stderr)
        return 2
    print(f"P portfolio: {n} accounts, {months} months of ARR each", file=sys.stderr)
    try:
        phase, setup = phase_portfolio(work, n, months, args.workers, engine)
    except Exception as exc:  # noqa: BLE001 - reported, scratch kept
        print(f"set-up failed: {exc}", file=sys.stderr)
        return 2
    workers = args.workers or os.cpu_count() or 1
    note = "; ".join(x for x in (portfolio_note(phase.info), f"PDF engine {engine}", args.note)
                     if x)
    result = summarise({"render": phase}, setup, workers, "portfolio", load, note, started)
    result["render_per_minute"] = None  # one document, not per-account work
    print(f"P portfolio: {phase.seconds:.1f} s for {n} accounts; {result['notes']}")
    if not args.no_record:
        append_row(result, {"render": phase})
        print(f"appended to {RESULTS.relative_to(ROOT)}")
    if args.keep or phase.failures:
        print(f"scratch folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, sort_keys=True, default=str))
    return 1 if phase.failures else 0


if __name__ == "__main__":
    sys.exit(main())
