"""Faults: a notebook that raises, a kernel that dies, a cell that hangs, Ctrl-C, a killed worker.

Each scenario starts from good outputs rendered with the real notebook and checks, through the
command as a user runs it, that no good report is lost or half-written, that the failure is
named with its cell and reason, and that a plain re-run finishes the job. The faults come from
a copy of the project's notebooks with one cell inserted (`--notebooks`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
from support import ROOT, VALUEREVIEW, QuarterLayout, pdf_pages, valuereview

from valuelib.batch import pool, worker

ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0003", "ACC-0004", "ACC-0005", "ACC-0006"]
RAISES, DIES, HANGS = "ACC-0002", "ACC-0003", "ACC-0004"
CELL_TIMEOUT = 10  # seconds; the real notebook's slowest cell takes well under one
FAULT_CELL = 2  # where the fault cell goes: after the bundle is loaded, before the cover
PREPARED_BY = "Fault drill team"  # in every document rendered after the baseline
ERROR_NOTEBOOK = "value-review.error.ipynb"


def _common(db: Path, out: Path, *more: str) -> list[str]:
    return [
        "render",
        "--db",
        str(db),
        "--out",
        str(out),
        "--accounts",
        ",".join(ACCOUNTS),
        "--workers",
        "2",
        "--no-portfolio",
        *more,
    ]


def _digests(quarter_dir: Path) -> dict[str, str]:
    """sha256 of every file under a quarter's folder: an account's files (documents and run
    records) as ``<account_id>/<name>``, anything else by its relative path."""
    digests = {}
    for p in sorted(quarter_dir.rglob("*")):
        if not p.is_file():
            continue
        parts = p.relative_to(quarter_dir).parts
        per_account = parts[0] == "customer" or parts[:2] == ("internal", "records")
        key = "/".join(parts[-2:] if per_account else parts)
        digests[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return digests


def _file(quarter_dir: Path, account_id: str, name: str) -> Path:
    """Where the batch puts one of a customer review's files."""
    return QuarterLayout(quarter_dir.parent, quarter_dir.name).path("customer", account_id, name)


def _manifest(out: Path) -> dict:
    """The customer manifest, with its last run's summary (and interruption) on top."""
    m = json.loads(QuarterLayout(out, "2026Q3").manifest("customer").read_text())
    run = m["last_run"]
    return {**m, "summary": run["summary"],
            **({"interrupted": run["interrupted"]} if "interrupted" in run else {})}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, demo_db) -> Path:
    """Good HTML and PDF reviews of ACCOUNTS from the real notebook, rendered once, copied."""
    out = tmp_path_factory.mktemp("baseline")
    run = valuereview(*_common(demo_db, out))
    assert run.code == 0, run.stderr
    assert _manifest(out)["summary"]["rendered"] == len(ACCOUNTS)
    return out


@pytest.fixture
def previous(baseline, tmp_path) -> tuple[Path, dict[str, str]]:
    """A copy of the baseline outputs for one test, and the digest of every file in it."""
    out = tmp_path / "out"
    shutil.copytree(baseline, out)
    return out, _digests(out / "2026Q3")


def _notebooks(folder: Path, source: str) -> Path:
    """The project's notebooks, with `source` as a new code cell of value_review.ipynb."""
    folder.mkdir(parents=True)
    nb = nbformat.read(ROOT / "notebooks" / "value_review.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "fault-injection"
    nb.cells.insert(FAULT_CELL, cell)
    nbformat.write(nb, folder / "value_review.ipynb")
    shutil.copy(ROOT / "notebooks" / "portfolio_review.ipynb", folder)
    return folder


def _params(folder: Path) -> Path:
    """The project's params with another `prepared_by`, so new documents differ from old."""
    shutil.copytree(ROOT / "params", folder)
    defaults = folder / "defaults.yaml"
    kept = [ln for ln in defaults.read_text().splitlines() if not ln.startswith("prepared_by:")]
    defaults.write_text("\n".join([*kept, f'prepared_by: "{PREPARED_BY}"']) + "\n")
    return folder


# 1. A notebook that raises, a kernel that dies, a cell that hangs ------------------------------

FAULTS = f"""\
# Test fault injection (tests/e2e/test_faults.py)
import os
import time

if account_id == "{RAISES}":
    raise RuntimeError("injected failure for {RAISES}")
if account_id == "{DIES}":
    os._exit(1)
if account_id == "{HANGS}":
    time.sleep(60)
"""

REASONS = {
    RAISES: ("RuntimeError", "injected failure for ACC-0002"),
    DIES: ("DeadKernelError", "the kernel died while running this cell (exit code 1)"),
    HANGS: ("CellTimeoutError", f"the cell ran longer than the {CELL_TIMEOUT} s cell timeout"),
}


@pytest.mark.slow
def test_failing_accounts_keep_their_reports_and_the_rest_render(demo_db, previous, tmp_path):
    out, before = previous
    notebooks = _notebooks(tmp_path / "notebooks", FAULTS)
    run = valuereview(
        *_common(
            demo_db,
            out,
            "--formats",
            "html",
            "--notebooks",
            str(notebooks),
            "--cell-timeout",
            str(CELL_TIMEOUT),
        )
    )
    assert run.code == 1, run.stdout + run.stderr

    manifest = _manifest(out)
    assert manifest["summary"] == {"rendered": 3, "unchanged": 0, "failed": 3}
    assert "interrupted" not in manifest
    assert re.search(r"│ failed\s*│\s*3 │", run.stdout), run.stdout  # the summary table
    after = _digests(out / "2026Q3")
    quarter = out / "2026Q3"
    for aid, (ename, reason) in REASONS.items():
        # Named on the command line with the cell and the reason, and in the manifest.
        line = next(ln for ln in run.stderr.splitlines() if ln.startswith(f"FAILED {aid}:"))
        assert f"cell {FAULT_CELL} (# Test fault injection" in line
        assert f"{ename}: {reason}" in line
        entry = manifest["accounts"][aid]
        assert entry["status"] == "failed"
        assert entry["error"]["cell"] == FAULT_CELL
        assert f"{ename}: {reason}" in entry["error"]["message"]
        assert entry["error"]["notebook"] == ERROR_NOTEBOOK
        # The previous good report is untouched, byte for byte, and still the one listed.
        old = {k: v for k, v in before.items() if k.startswith(f"{aid}/")}
        assert len(old) == 4  # html, pdf, executed notebook, metrics.json
        assert {k: after[k] for k in old} == old
        assert entry["outputs"] == {k.split("/", 1)[1]: v for k, v in old.items()}
        # The executed notebook is kept beside it with the failing cell marked.
        nb = nbformat.read(_file(quarter, aid, ERROR_NOTEBOOK), as_version=4)
        markers = [c for c in nb.cells if "papermill-error-cell-tag" in c.metadata.get("tags", [])]
        assert markers and "An Exception was encountered" in "".join(markers[0].source)
        failing = next(c for c in nb.cells if c.get("id") == "fault-injection")
        errors = [o for o in failing.outputs if o.output_type == "error"]
        assert errors and errors[0].ename == ename and reason in errors[0].evalue
        assert failing.metadata.papermill.exception is True

    for aid in set(ACCOUNTS) - set(REASONS):
        entry = manifest["accounts"][aid]
        assert entry["status"] == "rendered" and entry["error"] is None
        assert not (_file(quarter, aid, ERROR_NOTEBOOK)).exists()
        assert after[f"{aid}/value-review.ipynb"] != before[f"{aid}/value-review.ipynb"]
        executed = nbformat.read(_file(quarter, aid, "value-review.ipynb"), as_version=4)
        assert any(c.get("id") == "fault-injection" for c in executed.cells)
        assert entry["outputs"]["value-review.html"] == after[f"{aid}/value-review.html"]


# 2. Interrupted batches: Ctrl-C, and SIGKILL of a worker ---------------------------------------

HOLD = """\
# Test hook (tests/e2e/test_faults.py): an account whose hold file exists waits here, its kernel's
# pid written down, until the test removes the file (or the batch is stopped).
import os
import pathlib
import time

_hold = pathlib.Path({holds!r}) / account_id
if _hold.exists():
    (pathlib.Path({holds!r}) / f"{{account_id}}.pid").write_text(str(os.getpid()))
    while _hold.exists():
        time.sleep(0.1)
"""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """An empty TMPDIR for the command, to see what it leaves there. Short on purpose: kernels'
    Unix socket paths are under it and may not exceed 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="vrf-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Batch:
    """`valuereview render` running in its own session, as from a terminal, its stderr read
    line by line."""

    def __init__(self, args: list[str], scratch: Path) -> None:
        env = {**os.environ, "TMPDIR": str(scratch)}
        env.pop("VALUEREVIEW_DB", None)
        self.proc = subprocess.Popen(
            [*VALUEREVIEW, *args],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.stdout = ""
        self._err = threading.Thread(target=self._read, daemon=True)
        self._err.start()
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._out.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def _read_out(self) -> None:
        self.stdout = self.proc.stdout.read()

    def finished(self, status: str) -> list[str]:
        """Accounts the progress lines report with `status` (rendered, failed) so far."""
        return [ln.split()[1] for ln in list(self.lines) if ln.split()[:1] == [status]]

    def wait(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        self._err.join(timeout=10)
        self._out.join(timeout=10)
        return code

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _until(condition, what: str, batch: Batch, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert batch.proc.poll() is None, f"the batch ended before {what}:\n{batch.stderr}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{batch.stderr}"
        time.sleep(0.05)


def _pid(holds: Path, aid: str) -> int | None:
    try:
        return int((holds / f"{aid}.pid").read_text())
    except (OSError, ValueError):
        return None


def _gone(pid: int, timeout: float = 10) -> bool:
    """Whether process `pid` ends within `timeout` (a zombie has ended); killed if not."""
    deadline = time.monotonic() + timeout
    try:
        proc = psutil.Process(pid)
        while proc.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                proc.kill()
                return False
            time.sleep(0.05)
    except psutil.NoSuchProcess:
        pass
    return True


def _check_files(quarter: Path, before: dict[str, str], new: set[str]) -> None:
    """Every file is the old version or a complete new one: accounts in `new` have new
    documents, every other account its old files byte for byte; nothing temporary is left."""
    leftovers = [str(p) for p in quarter.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    after = _digests(quarter)
    for aid in ACCOUNTS:
        old = {k: v for k, v in before.items() if k.startswith(f"{aid}/")}
        now = {k: v for k, v in after.items() if k.startswith(f"{aid}/")}
        if aid not in new:
            assert now == old, f"{aid}: files changed although it never finished"
            continue
        assert set(now) >= set(old) - {f"{aid}/{ERROR_NOTEBOOK}"}
        html = (_file(quarter, aid, "value-review.html")).read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>") and PREPARED_BY in html, f"{aid}: HTML"
        json.loads((_file(quarter, aid, "metrics.json")).read_text(encoding="utf-8"))
        nbformat.read(_file(quarter, aid, "value-review.ipynb"), as_version=4)
        pdf = _file(quarter, aid, "value-review.pdf")
        if pdf.exists():  # old or new, it must be whole
            assert pdf.read_bytes().rstrip().endswith(b"%%EOF"), f"{aid}: PDF"
            assert any(page.strip() for page in pdf_pages(pdf)), f"{aid}: PDF text"


@pytest.mark.slow
def test_ctrl_c_keeps_what_finished_and_a_rerun_finishes(demo_db, previous, tmp_path, scratch):
    out, before = previous
    holds = tmp_path / "holds"
    holds.mkdir()
    held = ["ACC-0003", "ACC-0004"]
    for aid in held:
        (holds / aid).touch()
    notebooks = _notebooks(tmp_path / "notebooks", HOLD.format(holds=str(holds)))
    args = _common(
        demo_db, out, "--notebooks", str(notebooks), "--params", str(_params(tmp_path / "params"))
    )

    batch = Batch(args, scratch)
    try:
        # Two accounts done, both workers busy with a held account, two more waiting.
        _until(
            lambda: len(batch.finished("rendered")) == 2 and all(_pid(holds, a) for a in held),
            "two accounts and two held",
            batch,
        )
        os.killpg(batch.proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        t0 = time.monotonic()
        code = batch.wait(timeout=60)
    finally:
        batch.kill()
    assert code == 130, batch.stderr
    assert time.monotonic() - t0 < 20, "the batch did not stop promptly"
    done = batch.finished("rendered")
    assert sorted(done) == ["ACC-0001", "ACC-0002"]
    assert (
        "valuereview: interrupted: 2 of 6 document(s) done (2 rendered, 0 failed); the 4 "
        "not finished keep their previous outputs. Run the same command again to finish."
    ) in batch.stderr
    assert "Traceback" not in batch.stderr, batch.stderr
    assert "not finished (interrupted)" in batch.stdout
    for aid in held:  # the held kernels were stopped with the batch, not left waiting
        assert _gone(_pid(holds, aid)), f"{aid}'s kernel outlived the batch"
    assert not list(scratch.iterdir()), "temporary files left in TMPDIR"

    quarter = out / "2026Q3"
    _check_files(quarter, before, new=set(done))
    manifest = _manifest(out)
    assert manifest["interrupted"] == {"pending": ["ACC-0003", "ACC-0004", "ACC-0005", "ACC-0006"]}
    assert manifest["summary"] == {"rendered": 2, "unchanged": 0, "failed": 0}
    after = _digests(quarter)
    for aid in ACCOUNTS:  # the manifest describes the files on disk, old or new
        outputs = manifest["accounts"][aid]["outputs"]
        assert outputs == {
            k.split("/", 1)[1]: v for k, v in after.items() if k.startswith(f"{aid}/")
        }

    for aid in held:
        (holds / aid).unlink()
    again = valuereview(*args)
    assert again.code == 0, again.stderr
    manifest = _manifest(out)
    assert "interrupted" not in manifest
    statuses = {aid: e["status"] for aid, e in manifest["accounts"].items()}
    assert statuses == {
        "ACC-0001": "unchanged",
        "ACC-0002": "unchanged",
        "ACC-0003": "rendered",
        "ACC-0004": "rendered",
        "ACC-0005": "rendered",
        "ACC-0006": "rendered",
    }
    _check_files(quarter, before, new=set(ACCOUNTS))


def _holding(db: Path, out: Path, tmp_path: Path, held: str) -> tuple[Path, list[str]]:
    """The folder of hold files, with `held` holding, and the HTML-only render arguments
    whose notebook waits while an account's hold file exists (HOLD)."""
    holds = tmp_path / "holds"
    holds.mkdir()
    (holds / held).touch()
    notebooks = _notebooks(tmp_path / "notebooks", HOLD.format(holds=str(holds)))
    return holds, _common(db, out, "--formats", "html", "--notebooks", str(notebooks),
                          "--params", str(_params(tmp_path / "params")))


def _held_kernel(holds: Path, held: str, batch: Batch) -> psutil.Process:
    """The kernel process of `held` once it waits at its hold (HOLD)."""
    _until(lambda: _pid(holds, held), f"{held}'s kernel", batch)
    return psutil.Process(_pid(holds, held))


def _worker_of(kernel: psutil.Process, batch: Batch) -> psutil.Process:
    """The pool worker running `kernel`: the process of the batch that holds a pidfd for it
    (its session with the kernel). Not an ancestor: the kernel is a fork of the worker's fork
    server, which the batch's kernels' origin forked."""
    for proc in psutil.Process(batch.proc.pid).children(recursive=True):
        fds = Path(f"/proc/{proc.pid}/fd")
        try:
            names = [fd.name for fd in fds.iterdir()
                     if os.readlink(fd) == "anon_inode:[pidfd]"]
        except OSError:  # gone, or a descriptor closed meanwhile: try the next process
            continue
        for name in names:
            with contextlib.suppress(OSError):
                info = Path(f"/proc/{proc.pid}/fdinfo/{name}").read_text()
                if f"Pid:\t{kernel.pid}\n" in info:
                    return proc
    raise AssertionError(f"no process of the batch watches kernel {kernel.pid}")


@pytest.mark.slow
def test_a_killed_worker_fails_its_account_only_and_a_rerun_finishes(
    demo_db, previous, tmp_path, scratch
):
    out, before = previous
    victim = "ACC-0003"
    holds, args = _holding(demo_db, out, tmp_path, victim)

    batch = Batch(args, scratch)
    try:
        kernel = _held_kernel(holds, victim, batch)
        owner = _worker_of(kernel, batch)
        owner.send_signal(signal.SIGKILL)
        code = batch.wait(timeout=120)
    finally:
        batch.kill()
    assert code == 1, batch.stderr
    assert f"FAILED {victim}: worker process died (exit code -9) while rendering" in batch.stderr
    assert "Traceback" not in batch.stderr, batch.stderr
    assert _gone(kernel.pid), "the killed worker's kernel outlived the batch"
    assert not list(scratch.iterdir()), "the killed worker's temporary files were left behind"

    quarter = out / "2026Q3"
    rest = set(ACCOUNTS) - {victim}
    _check_files(quarter, before, new=rest)
    manifest = _manifest(out)
    assert manifest["summary"] == {"rendered": 5, "unchanged": 0, "failed": 1}
    entry = manifest["accounts"][victim]
    assert entry["status"] == "failed"
    assert entry["error"]["message"].startswith("worker process died (exit code -9)")
    assert entry["outputs"] == {
        k.split("/", 1)[1]: v for k, v in before.items() if k.startswith(f"{victim}/")
    }

    (holds / victim).unlink()
    again = valuereview(*args)
    assert again.code == 0, again.stderr
    statuses = {aid: e["status"] for aid, e in _manifest(out)["accounts"].items()}
    assert statuses == {aid: "rendered" if aid == victim else "unchanged" for aid in ACCOUNTS}
    _check_files(quarter, before, new=set(ACCOUNTS))


# The pool on its own: stopping it, and Ctrl-C reaching its workers --------------------------


def _held(task: worker.Task) -> worker.TaskResult:
    """A pool runner: leaves a file in its temporary folder, then, if the task names a hold
    file, writes its pid beside it and waits while it exists; a task that names another's
    hold file as `after` first waits (up to a minute) until that task has started."""
    Path(tempfile.mkdtemp(prefix="task-"), "bundle.json").write_text("{}")
    after = task.parameters.get("after")
    deadline = time.monotonic() + 60
    while after and not Path(f"{after}.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    hold = task.parameters.get("hold")
    if hold:
        Path(f"{hold}.pid").write_text(str(os.getpid()))
        while Path(hold).exists():
            time.sleep(0.05)
    return worker.TaskResult(task.account_id, task.stem, True)


def _task(account_id: str, hold: Path | None = None, after: Path | None = None) -> worker.Task:
    parameters = {"hold": str(hold)} if hold else {}
    if after:
        parameters["after"] = str(after)
    return worker.Task(account_id, "value-review", "nb.ipynb", parameters, b"{}", ("html",))


def _wait_for_pid(hold: Path, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while not (pid := _pid(hold.parent, hold.name)):
        assert time.monotonic() < deadline, "the held task never started"
        time.sleep(0.05)
    return pid


def test_stopping_the_pool_abandons_tasks_in_flight(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    # The folders a process keeps for its whole life (removed at exit) exist before the check,
    # as they do when another test came first: the preloading process's, the kernels'
    # origin's, multiprocessing's.
    pool.prestart()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the pool's folder goes
    hold = tmp_path / "B"
    hold.touch()
    results: list[worker.TaskResult] = []
    stopped: list[float] = []  # when the pool was first told to stop

    def stop() -> bool:
        if not stopped and results and _pid(tmp_path, "B") is not None:  # A done, B running
            stopped.append(time.monotonic())
        return bool(stopped)

    # A ends only once B runs (on the other worker), so the pool is told to stop before it
    # could hand C to A's worker, however the two workers' starts fall.
    pool.run([_task("A", after=hold), _task("B", hold), _task("C")], 2, results.append,
             runner=_held, warm=False, stop=stop)
    # B's worker was not waited for (timed from the stop, not from the pool's start-up, which a
    # loaded machine slows)
    assert time.monotonic() - stopped[0] < pool.STOP_GRACE_SECONDS / 2
    assert [r.account_id for r in results] == ["A"]  # B abandoned, C never started
    assert _gone(_wait_for_pid(hold), timeout=1), "the worker running B outlived the pool"
    assert hold.exists()  # B was stopped, not let go
    assert not list(temp.iterdir()), "the workers' temporary files were left behind"


def test_pool_workers_leave_ctrl_c_to_the_parent(tmp_path):
    hold = tmp_path / "A"
    hold.touch()

    def ctrl_c() -> None:  # as a terminal does: SIGINT to the worker too, mid-task
        os.kill(_wait_for_pid(hold), signal.SIGINT)
        time.sleep(0.5)
        hold.unlink()

    thread = threading.Thread(target=ctrl_c)
    thread.start()
    results: list[worker.TaskResult] = []
    pool.run([_task("A", hold)], 1, results.append, runner=_held, warm=False)
    thread.join()
    assert len(results) == 1 and results[0].ok, results[0].error


def test_render_help_documents_the_notebooks_folder():
    run = valuereview("render", "--help")
    assert run.code == 0 and "--notebooks DIR" in run.stdout


def test_a_missing_notebooks_folder_is_a_bad_invocation(tmp_path):
    run = valuereview(
        "render", "--notebooks", str(tmp_path / "none"), "--db", str(tmp_path / "w.duckdb")
    )
    assert run.code == 2
    assert "--notebooks" in run.stderr and "value_review.ipynb" in run.stderr


@pytest.mark.slow
def test_killing_the_workers_preloading_process_loses_no_account(
    demo_db, previous, tmp_path, scratch
):
    """Workers are forks of one preloading process (`valuelib.batch.preload`), which also
    reports their exit to the batch. If it is killed mid-batch, the workers go on and every
    account is still rendered."""
    out, before = previous
    holds, args = _holding(demo_db, out, tmp_path, "ACC-0003")
    batch = Batch(args, scratch)
    try:
        chain = _held_kernel(holds, "ACC-0003", batch).parents()
        preloader = next(p for p in chain if p.ppid() == batch.proc.pid)
        preloader.send_signal(signal.SIGKILL)
        assert _gone(preloader.pid)
        time.sleep(1.5)  # time for the batch to (wrongly) count its workers as dead
        (holds / "ACC-0003").unlink()
        code = batch.wait(timeout=180)
    finally:
        batch.kill()
    assert code == 0, batch.stderr
    assert "FAILED" not in batch.stderr and "Traceback" not in batch.stderr, batch.stderr
    assert _manifest(out)["summary"] == {"rendered": 6, "unchanged": 0, "failed": 0}
    _check_files(out / "2026Q3", before, new=set(ACCOUNTS))


# 3. The account deadline: execute plus export ----------------------------------------------------

SLOW_EXPORT, SLOW_CELLS = "ACC-0002", "ACC-0005"
ACCOUNT_TIMEOUT = 20  # seconds; a real account takes a few
SLOW_EXPORT_CELL = f"""\
# Test hook (tests/e2e/test_faults.py): an output whose PDF layout takes minutes, made in a moment.
from IPython.display import HTML, display

if account_id == "{SLOW_EXPORT}":
    display(HTML("<table>" + "".join(f"<tr><td>row {{i}}</td></tr>" for i in range(30000))
                 + "</table>"))
"""
SLOW_CELL = """\
# Test hook (tests/e2e/test_faults.py): each cell within the cell timeout, together past
# the deadline.
import os
import pathlib
import time

if account_id == "{account}":
    pathlib.Path({pid_file!r}).write_text(str(os.getpid()))
    time.sleep({seconds})
"""


@pytest.mark.slow
def test_an_account_past_its_deadline_fails_alone_and_keeps_its_reports(
    demo_db, previous, tmp_path
):
    out, before = previous
    pid_file = tmp_path / "kernel.pid"
    notebooks = _notebooks(tmp_path / "notebooks", SLOW_EXPORT_CELL)
    nb = nbformat.read(notebooks / "value_review.ipynb", as_version=4)
    sleeper = SLOW_CELL.format(account=SLOW_CELLS, pid_file=str(pid_file),
                               seconds=CELL_TIMEOUT * 0.7)
    for _ in range(4):  # 4 x 7 s: no cell reaches the cell timeout, the account the deadline
        nb.cells.insert(FAULT_CELL + 1, nbformat.v4.new_code_cell(sleeper))
    nbformat.write(nb, notebooks / "value_review.ipynb")
    run = valuereview(*_common(
        demo_db, out, "--notebooks", str(notebooks), "--params", str(_params(tmp_path / "p")),
        "--cell-timeout", str(CELL_TIMEOUT), "--account-timeout", str(ACCOUNT_TIMEOUT)))
    assert run.code == 1, run.stdout + run.stderr

    manifest = _manifest(out)
    assert manifest["summary"] == {"rendered": 4, "unchanged": 0, "failed": 2}
    for aid in (SLOW_EXPORT, SLOW_CELLS):
        reason = (f"{aid} ran past its {ACCOUNT_TIMEOUT} s deadline (--account-timeout) for "
                  "executing and exporting; stopped")
        assert f"FAILED {aid}: {reason}" in run.stderr.splitlines()
        entry = manifest["accounts"][aid]
        assert entry["status"] == "failed" and entry["error"]["message"] == reason
        old = {k: v for k, v in before.items() if k.startswith(f"{aid}/")}
        assert entry["outputs"] == {k.split("/", 1)[1]: v for k, v in old.items()}
    assert "Traceback" not in run.stderr, run.stderr
    # The stuck kernel went with its worker.
    assert _gone(int(pid_file.read_text())), f"{SLOW_CELLS}'s kernel outlived its deadline"
    # The two keep their previous files byte for byte; the other four are new and whole.
    others = set(ACCOUNTS) - {SLOW_EXPORT, SLOW_CELLS}
    _check_files(out / "2026Q3", before, new=others)
    for aid in others:
        assert manifest["accounts"][aid]["status"] == "rendered"


@pytest.mark.parametrize("option", ["--account-timeout", "--print-timeout"])
@pytest.mark.parametrize("seconds", ["0", "-5"])
def test_a_timeout_of_zero_or_less_is_a_bad_invocation(tmp_path, option, seconds):
    run = valuereview("render", "--out", str(tmp_path / "out"), f"{option}={seconds}")
    assert run.code == 2
    assert run.stderr.splitlines() == [f"valuereview: error: {option} must be more "
                                       "than 0 seconds"]
    assert not (tmp_path / "out").exists()
