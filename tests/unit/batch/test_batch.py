"""Batch behaviour: incremental re-renders, worker crashes, and Dask against the local pool."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys

import duckdb
import pytest
from support import E2E_ACCOUNTS, PORTFOLIO_ID, QuarterLayout, valuereview

from valuelib.batch import pool, worker
from valuelib.render import chromium

pytestmark = pytest.mark.slow

THREE = ["ACC-0001", "ACC-0003", "ACC-0005"]


def _manifest(out, audience="customer"):
    return json.loads(QuarterLayout(out, "2026Q3").manifest(audience).read_text())


def _summary(out):
    return _manifest(out)["last_run"]["summary"]


def test_incremental_renders_only_what_changed(demo_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(demo_db, db)
    out = tmp_path / "out"
    # HTML only: the test is about which documents are rendered or skipped, not their formats.
    args = ["render", "--db", str(db), "--out", str(out), "--accounts", ",".join(THREE),
            "--formats", "html"]
    first = valuereview(*args)
    assert first.code == 0, first.stderr
    assert _summary(out) == {"rendered": 4, "unchanged": 0, "failed": 0}

    again = valuereview(*args)
    assert again.code == 0
    assert _summary(out) == {"rendered": 0, "unchanged": 4, "failed": 0}

    con = duckdb.connect(str(db))
    con.execute("UPDATE nps_responses SET score = 0 WHERE account_id = 'ACC-0003'")
    con.close()
    changed = valuereview(*args)
    assert changed.code == 0
    statuses = {k: v["status"] for k, v in _manifest(out)["accounts"].items()}
    assert statuses == {"ACC-0001": "unchanged", "ACC-0003": "rendered",
                        "ACC-0005": "unchanged"}
    assert _manifest(out, PORTFOLIO_ID)["accounts"][PORTFOLIO_ID]["status"] == "rendered"

    forced = valuereview(*args, "--force", "--no-portfolio")
    assert forced.code == 0
    assert _summary(out)["rendered"] == 3


def _crash(task):  # a task function whose process dies mid-task for one account
    import os

    if task.account_id == "B":
        os._exit(9)
    return worker.TaskResult(task.account_id, task.stem, True)


def test_a_dead_worker_fails_only_its_task():
    tasks = [worker.Task(a, "value-review", "nb.ipynb", {}, b"{}", ("html",))
             for a in ("A", "B", "C", "D", "E")]
    results = {}
    pool.run(tasks, 2, lambda r: results.setdefault(r.account_id, r), runner=_crash,
             warm=False, max_tasks=2)
    assert sorted(results) == ["A", "B", "C", "D", "E"]
    assert not results["B"].ok and "worker process died (exit code 9)" in results["B"].error
    assert all(results[a].ok for a in ("A", "C", "D", "E"))


def _stall(task):  # a task function that hangs for account "B", its pid written down first
    import os
    import time
    from pathlib import Path

    if task.account_id == "B":
        Path(task.parameters["pid_file"]).write_text(str(os.getpid()))
        time.sleep(300)
    return worker.TaskResult(task.account_id, task.stem, True)


def test_a_task_past_the_account_timeout_fails_alone_and_its_worker_is_killed(tmp_path):
    import psutil

    pid_file = tmp_path / "b.pid"
    tasks = [worker.Task(a, "value-review", "nb.ipynb", {"pid_file": str(pid_file)}, b"{}",
                         ("html",)) for a in ("A", "B", "C", "D")]
    results = {}
    pool.run(tasks, 2, lambda r: results.setdefault(r.account_id, r), runner=_stall,
             warm=False, account_timeout=2)
    assert sorted(results) == ["A", "B", "C", "D"]
    assert not results["B"].ok
    assert results["B"].error == ("B ran past its 2 s deadline (--account-timeout) for "
                                  "executing and exporting; stopped")
    assert all(results[a].ok for a in ("A", "C", "D"))
    assert not psutil.pid_exists(int(pid_file.read_text()))


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dask_cluster_renders_the_same_documents(rendered, tmp_path):
    distributed = pytest.importorskip("distributed")
    accounts = E2E_ACCOUNTS[:2]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        out = tmp_path / "dask-out"
        run = valuereview("render", "--db", str(rendered.db), "--out", str(out),
                          "--accounts", ",".join(accounts), "--no-portfolio",
                          "--scheduler", cluster.scheduler_address)
    assert run.code == 0, run.stderr
    assert ("is plain TCP: account bundles and rendered documents travel in clear, and anyone "
            "who can reach the scheduler can run code on its workers") in run.stderr
    for aid in accounts:
        for name in ("value-review.html", "value-review.pdf", "metrics.json"):
            local = rendered.file(aid, name)
            remote = QuarterLayout(out, "2026Q3").path("customer", aid, name)
            assert _digest(remote) == _digest(local), f"{aid}/{name} differs from local"


def _report_origin(task):  # where a warmed pool worker and its kernel fork server came from
    import os
    import sys

    import psutil

    from valuelib.render.kernels import forkserver

    server = forkserver.get_server()
    ready = server.wait_ready()
    return worker.TaskResult(task.account_id, task.stem, True, metrics={
        "server_forked_preloaded": ready["forked_preloaded"],
        "server_parent": psutil.Process(server.pid).ppid() if server.pid else None,
        "server_has_pandas": "pandas" in ready["preloaded"],
        "worker_has_pandas": "pandas" in sys.modules,
        "worker_pid": os.getpid(),
        "nbconvert_loaded": "nbconvert.exporters" in sys.modules,
        "weasyprint_loaded": "weasyprint" in sys.modules,
        "env": os.environ.get("VR_TEST_BATCH_ENV"),
    })


def test_workers_are_forks_of_one_preloaded_process(monkeypatch):
    """Workers come from the batch's preloading process (`batch.preload`), which imported
    what workers need (the exporters warmed there; WeasyPrint only when it is the engine that
    prints), and take the batch's environment. Their kernel fork servers are forks of the
    batch's kernels' origin, which imported what kernels need: the workers did not."""
    from valuelib.render.chromium import resolve_engine

    pool.prestart()
    monkeypatch.setenv("VR_TEST_BATCH_ENV", "from the batch")
    tasks = [worker.Task(a, "value-review", "nb.ipynb", {}, b"{}", ("html",)) for a in "AB"]
    results = {}
    pool.run(tasks, 2, lambda r: results.setdefault(r.account_id, r), runner=_report_origin)
    assert pool._ORIGIN.pid is not None
    for r in results.values():
        assert r.ok, r.error
        assert r.metrics.pop("worker_pid") != pool._ORIGIN.pid
        assert r.metrics == {"server_forked_preloaded": True,
                             "server_parent": pool._ORIGIN.pid,
                             "server_has_pandas": True, "worker_has_pandas": False,
                             "nbconvert_loaded": True,
                             "weasyprint_loaded": resolve_engine("auto") == "weasyprint",
                             "env": "from the batch"}


def test_workers_started_after_the_origin_died_render_with_fork_servers_of_their_own():
    """A kernels' origin killed mid-batch fails no task: workers that already have a fork
    server keep it, and each worker started after it died starts a fork server of its own
    (a new interpreter that imports everything: slower, but the batch goes on)."""
    import signal
    import time

    pool.prestart()
    assert pool._ORIGIN.pid is not None
    results: dict[str, worker.TaskResult] = {}

    def finish(res: worker.TaskResult) -> None:
        if not results:  # the first result: kill the origin before any replacement starts
            os.kill(pool._ORIGIN.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while pool._ORIGIN.path is not None and time.monotonic() < deadline:
                time.sleep(0.01)
        results[res.account_id] = res

    tasks = [worker.Task(a, "value-review", "nb.ipynb", {}, b"{}", ("html",)) for a in "ABCD"]
    pool.run(tasks, 2, finish, runner=_report_origin, max_tasks=1)
    assert sorted(results) == ["A", "B", "C", "D"]
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    own = [r.metrics for r in results.values()
           if r.metrics["server_parent"] == r.metrics["worker_pid"]]
    assert own, "no worker started after the kill had a server of its own"
    assert all(m["server_forked_preloaded"] is False and m["server_has_pandas"] for m in own)
    pool.prestart()  # the next batch of this process has an origin again
    assert pool._ORIGIN.path is not None


def _print_with_a_house_browser(task):  # the browser a worker's first PDF is printed with
    import os
    import signal
    import time
    from pathlib import Path

    import psutil

    from valuelib.render import chromium

    browser = chromium.Browser(env=chromium.fonts_env())
    pdf, _ = browser.pdf("<!DOCTYPE html><html><title>t</title><p>Printed</p></html>")
    if task.account_id == "DIES":
        Path(os.environ["VR_TEST_BROWSER_PID"]).write_text(str(browser.pid))
        os._exit(9)
    handed = browser.pid, psutil.Process(browser.pid).ppid()
    # The handed browser dies: the next print sees it through the pidfd and starts its own.
    os.killpg(browser.pid, signal.SIGKILL)
    while browser.alive():
        time.sleep(0.01)
    again, _ = browser.pdf("<!DOCTYPE html><html><title>t</title><p>Again</p></html>")
    return worker.TaskResult(task.account_id, task.stem, True, metrics={
        "pid": handed[0], "parent": handed[1], "pdf": pdf[:5].decode(),
        "again": again[:5].decode(), "own_parent": psutil.Process(browser.pid).ppid(),
        "worker": os.getpid()})


def _chromium_children() -> set[int]:
    """This process's Chromium processes (another test here may keep a browser running)."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True) if "chrom" in p.name()}


@pytest.mark.skipif(chromium.executable() is None, reason="chromium is not installed")
def test_the_first_workers_print_with_browsers_the_batch_started_ahead(monkeypatch):
    """`prestart(browsers=N)` starts the browsers while the workers' process imports; each of
    the first workers is handed one and prints with it, and with a browser of its own once
    that one died. The batch reaps them all, and stops the one no worker took."""
    import os

    import psutil

    monkeypatch.setattr(pool, "PRESTART_WAIT", 60.0)  # a loaded machine starts them slowly
    before = _chromium_children()
    pool.prestart(browsers=3)
    tasks = [worker.Task(a, "value-review", "nb.ipynb", {}, b"{}", ("pdf",)) for a in "AB"]
    results = {}
    pool.run(tasks, 2, lambda r: results.setdefault(r.account_id, r),
             runner=_print_with_a_house_browser)
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    assert [r.metrics["pdf"] for r in results.values()] == ["%PDF-", "%PDF-"]
    # Started by this process (the batch), not by the workers, and one each.
    assert {r.metrics["parent"] for r in results.values()} == {os.getpid()}
    pids = {r.metrics["pid"] for r in results.values()}
    assert len(pids) == 2
    # Once it died, each worker printed with a browser of its own.
    for r in results.values():
        assert (r.metrics["again"], r.metrics["own_parent"]) == ("%PDF-", r.metrics["worker"])
    assert not [pid for pid in pids if psutil.pid_exists(pid)], "a browser was not reaped"
    assert _chromium_children() <= before, "a browser started ahead outlived the batch"


@pytest.mark.skipif(chromium.executable() is None, reason="chromium is not installed")
def test_a_browser_handed_to_a_worker_that_dies_goes_with_it(monkeypatch, tmp_path):
    """The browser stays the batch's child: a worker killed while it holds one cannot orphan
    it (nor a hung one), since the batch kills and reaps it with the worker."""
    import psutil

    monkeypatch.setattr(pool, "PRESTART_WAIT", 60.0)
    pid_file = tmp_path / "browser.pid"
    monkeypatch.setenv("VR_TEST_BROWSER_PID", str(pid_file))
    before = _chromium_children()
    pool.prestart(browsers=1)
    tasks = [worker.Task("DIES", "value-review", "nb.ipynb", {}, b"{}", ("pdf",))]
    results = {}
    pool.run(tasks, 1, lambda r: results.setdefault(r.account_id, r),
             runner=_print_with_a_house_browser)
    assert not results["DIES"].ok
    assert "worker process died (exit code 9)" in results["DIES"].error
    pid = int(pid_file.read_text())
    assert not psutil.pid_exists(pid), "the dead worker's browser is still there"
    assert _chromium_children() <= before


def _certificates(folder):
    """A throwaway CA and one certificate it signed for 127.0.0.1, as PEM files in `folder`:
    (ca, cert, key)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "valuereview test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return tuple(str(p) for p in paths)


def test_dask_over_tls_renders_the_same_documents(rendered, tmp_path):
    distributed = pytest.importorskip("distributed")
    ca, cert, key = _certificates(tmp_path)
    security = distributed.Security(
        require_encryption=True, tls_ca_file=ca, tls_scheduler_cert=cert, tls_scheduler_key=key,
        tls_worker_cert=cert, tls_worker_key=key, tls_client_cert=cert, tls_client_key=key)
    accounts = E2E_ACCOUNTS[:2]
    out = tmp_path / "tls-out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1", protocol="tls://",
                                  security=security) as cluster:
        assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
        # The CA from Dask's own configuration, the client's certificate from the options.
        run = valuereview("render", "--db", str(rendered.db), "--out", str(out),
                          "--accounts", ",".join(accounts), "--no-portfolio",
                          "--scheduler", cluster.scheduler_address,
                          "--tls-cert", cert, "--tls-key", key,
                          env={"DASK_DISTRIBUTED__COMM__TLS__CA_FILE": ca})
    assert run.code == 0, run.stderr
    assert "plain TCP" not in run.stderr
    for aid in accounts:
        for name in ("value-review.html", "value-review.pdf", "metrics.json"):
            local = rendered.file(aid, name)
            remote = QuarterLayout(out, "2026Q3").path("customer", aid, name)
            assert _digest(remote) == _digest(local), f"{aid}/{name} differs from local"


def test_dask_tls_without_certificates_is_a_bad_invocation(demo_db, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    args = ("render", "--db", str(demo_db), "--out", str(out), "--accounts", "ACC-0001",
            "--scheduler", "tls://127.0.0.1:8786")
    run = valuereview(*args)
    assert run.code == 2, run.stderr
    assert run.stderr.splitlines() == [
        "valuereview: error: --scheduler tls://127.0.0.1:8786 uses TLS but --tls-ca and "
        "--tls-cert are missing (give the option, or set Dask's distributed.comm.tls.ca-file "
        "and distributed.comm.tls.client.cert); nothing rendered"]
    ca, _, _ = _certificates(tmp_path)
    run = valuereview(*args, env={"DASK_DISTRIBUTED__COMM__TLS__CA_FILE": ca})
    assert run.code == 2 and "but --tls-cert is missing" in run.stderr, run.stderr
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_line_and_renders_nothing(demo_db, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(demo_db), "--out", str(out), "--accounts",
                      "ACC-0001,ACC-0002", "--scheduler", "tcp://127.0.0.1:1",
                      "--scheduler-timeout", "1")
    assert run.code == 2, run.stderr
    errors = [ln for ln in run.stderr.splitlines() if "error" in ln.lower()]
    assert errors == ["valuereview: error: cannot connect to the Dask scheduler at "
                      "tcp://127.0.0.1:1 within 1 s (Timed out trying to connect to "
                      "tcp://127.0.0.1:1 after 1 s); nothing rendered"], run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_a_dask_task_past_the_account_timeout_fails_alone(tmp_path):
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    import psutil

    from valuelib.batch import cluster as dask_runner

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers lack tests/
    pid_file = tmp_path / "b.pid"
    tasks = [worker.Task(a, "value-review", "nb.ipynb", {"pid_file": str(pid_file)},
                         a.encode(), ("html",)) for a in ("A", "B", "C")]
    results = {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        dask_runner.run(tasks, cluster.scheduler_address,
                        lambda r: results.setdefault(r.account_id, r), account_timeout=3,
                        runner=_stall)
    assert sorted(results) == ["A", "B", "C"]
    assert results["B"].error == ("B ran past its 3 s deadline (--account-timeout) for "
                                  "executing and exporting; stopped")
    assert results["A"].ok and results["C"].ok
    assert not psutil.pid_exists(int(pid_file.read_text()))  # its Dask worker was restarted
