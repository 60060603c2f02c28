"""A re-run with nothing changed: it renders nothing, starts no worker or kernel and reads no
output; a deleted or edited output has its document rendered again, a touched one does not.
With the run's fingerprint recorded it reads no warehouse either, and anything the fingerprint
covers, changed, renders again what it changes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from valuelib import cli
from valuelib.batch import fingerprint, pool, worker
from valuelib.batch import run as batch
from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout
from valuelib.data import demo
from valuelib.data.warehouse import Warehouse
from valuelib.project import resources
from valuelib.render import chromium

ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0003"]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "w.duckdb"
    with Warehouse.open(str(path), read_only=False) as wh:
        demo.write(wh, demo.generate(accounts=12, seed=3))
    return path


@pytest.fixture
def signals():
    """`cli.main` installs its own SIGINT and SIGTERM handlers: put pytest's back after."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


class FakePool:
    """Stands in for the worker pool: records the documents it is asked for and returns
    small files that name them."""

    def __init__(self) -> None:
        self.rendered: list[str] = []

    def run(self, tasks, workers, finish, **kw):  # noqa: ANN001 - pool.run's signature
        for t in tasks:
            self.rendered.append(t.account_id)
            files = {f"{t.stem}.{f}": f"{t.account_id} {f}\n".encode() for f in t.formats}
            files[f"{t.stem}.ipynb"] = b"{}"
            if t.stem == "value-review":
                files["metrics.json"] = b"{}"
            finish(worker.TaskResult(t.account_id, t.stem, True, files=files, metrics={}))


def _no_workers(*a, **kw):
    raise AssertionError("a run with nothing to render started the worker pool")


def _args(db: Path, out: Path) -> list[str]:
    return ["render", "--db", str(db), "--out", str(out), "--accounts", ",".join(ACCOUNTS),
            "--workers", "2"]


def _statuses(out: Path) -> dict[str, str]:
    manifest = json.loads(QuarterLayout(out, "2026Q3").manifest("customer").read_text())
    return {aid: e["status"] for aid, e in manifest["accounts"].items()}


def test_nothing_changed_renders_nothing_and_reads_no_output(db, tmp_path, monkeypatch,
                                                              signals, capsys):
    out = tmp_path / "out"
    fake = FakePool()
    monkeypatch.setattr(pool, "run", fake.run)
    monkeypatch.setattr(pool, "prestart", lambda browsers=0: None)
    assert cli.main(_args(db, out)) == 0
    assert sorted(fake.rendered) == [*ACCOUNTS, PORTFOLIO_ID]

    monkeypatch.setattr(pool, "run", _no_workers)
    monkeypatch.setattr(pool, "prestart", _no_workers)  # the kernels' preloading process

    def no_reading(data):  # noqa: ANN001
        raise AssertionError("an output was read on a run with nothing to do")

    monkeypatch.setattr(batch, "sha256", no_reading)
    capsys.readouterr()
    assert cli.main(_args(db, out)) == 0
    assert _statuses(out) == dict.fromkeys(ACCOUNTS, "unchanged")
    assert "rendering" not in capsys.readouterr().err


def test_a_deleted_or_edited_output_is_rendered_again_a_touched_one_is_not(db, tmp_path,
                                                                         monkeypatch):
    out = tmp_path / "out"
    fake = FakePool()
    monkeypatch.setattr(pool, "run", fake.run)
    monkeypatch.setattr(pool, "prestart", lambda browsers=0: None)
    opts = batch.Options(db=str(db), out=out, accounts=",".join(ACCOUNTS), portfolio=False)
    batch.render(opts)
    lay = QuarterLayout(out.resolve(), "2026Q3")

    deleted = lay.path("customer", "ACC-0001", "value-review.pdf")
    deleted.unlink()
    edited = lay.path("customer", "ACC-0002", "value-review.html")
    text = edited.read_bytes()
    edited.write_bytes(text.replace(b"html", b"HTML"))  # same size, other bytes
    st = edited.stat()
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    touched = lay.path("customer", "ACC-0003", "metrics.json")
    os.utime(touched, ns=(0, touched.stat().st_mtime_ns + 1_000_000_000))

    fake.rendered.clear()
    batch.render(opts)
    assert sorted(fake.rendered) == ["ACC-0001", "ACC-0002"]
    assert deleted.read_bytes() == b"ACC-0001 pdf\n" and edited.read_bytes() == text
    assert _statuses(out) == {"ACC-0001": "rendered", "ACC-0002": "rendered",
                              "ACC-0003": "unchanged"}
    # The touched file's new time is recorded: the next run reads none of it again.
    monkeypatch.setattr(pool, "run", _no_workers)
    monkeypatch.setattr(batch, "sha256", _no_workers)
    batch.render(opts)
    assert _statuses(out) == dict.fromkeys(ACCOUNTS, "unchanged")


# ------------------------------------------------------------------ the run's fingerprint
# A re-run whose fingerprint (valuelib.batch.fingerprint) is the one the manifest recorded is
# answered from the manifest (run._replay); anything the fingerprint covers, changed, renders
# again what it changes.

ACC = ACCOUNTS[0]


@pytest.fixture
def fake(monkeypatch) -> FakePool:
    pool_ = FakePool()
    monkeypatch.setattr(pool, "run", pool_.run)
    monkeypatch.setattr(pool, "prestart", lambda browsers=0: None)
    return pool_


@pytest.fixture
def own_db(db, tmp_path) -> Path:
    """A copy of the module's warehouse that a test may change."""
    path = tmp_path / "own.duckdb"
    path.write_bytes(db.read_bytes())
    return path


def _opts(db: Path, out: Path, **kw) -> batch.Options:
    return batch.Options(**{"db": str(db), "out": out, "accounts": ",".join(ACCOUNTS),
                            "portfolio": False, **kw})


def _no_full_run(*a, **kw):
    raise AssertionError("a re-run with nothing changed read the warehouse")


def _rendered_after(fake: FakePool, opts: batch.Options) -> list[str]:
    """Render with `opts` and return what the pool was asked for."""
    fake.rendered.clear()
    batch.render(opts)
    return sorted(fake.rendered)


def _set_nps(db: Path, account: str, *, checkpoint: bool, score: str = "0") -> None:
    """Set `account`'s NPS scores to `score` (an SQL expression): written into the file, or
    (`checkpoint` False) left in the write-ahead log beside it, the file's bytes as they were."""
    con = duckdb.connect(str(db))
    if not checkpoint:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.execute("SET checkpoint_threshold = '1GB'")
    con.execute(f"UPDATE nps_responses SET score = {score} WHERE account_id = ?", [account])
    con.close()


def test_an_unchanged_rerun_reads_no_warehouse_and_writes_what_a_full_run_writes(
        own_db, tmp_path, fake, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    out = tmp_path / "out"
    opts = _opts(own_db, out, portfolio=True)
    assert _rendered_after(fake, opts) == [*ACCOUNTS, PORTFOLIO_ID]
    lay = QuarterLayout(out.resolve(), "2026Q3")
    manifests = [lay.manifest("customer"), lay.manifest(PORTFOLIO_ID)]

    # The full path on a run with nothing to do, for comparison.
    with monkeypatch.context() as m:
        m.setattr(batch, "_replay", lambda *a, **kw: None)
        full = batch.render(opts)
    written = [p.read_bytes() for p in manifests]
    index_mtime = lay.index("customer").stat().st_mtime_ns

    monkeypatch.setattr(batch, "_render", _no_full_run)
    monkeypatch.setattr(pool, "run", _no_workers)
    fast = batch.render(opts)
    assert [p.read_bytes() for p in manifests] == written
    assert lay.index("customer").stat().st_mtime_ns == index_mtime
    assert [(o.account_id, o.status, o.entry) for o in fast.outcomes] == \
        [(o.account_id, o.status, o.entry) for o in full.outcomes]
    assert (fast.skipped_inactive, fast.quarter, fast.layout) == \
        (full.skipped_inactive, full.quarter, full.layout)
    assert batch.summary_rows(fast)[:4] == batch.summary_rows(full)[:4]
    assert _statuses(out) == dict.fromkeys(ACCOUNTS, "unchanged")
    recorded = json.loads(written[0])["last_run"]["fingerprint"]
    assert sorted(recorded["keys"]) == sorted([*ACCOUNTS, PORTFOLIO_ID])


def test_the_command_answers_an_unchanged_rerun_without_pandas(db, tmp_path, fake, signals,
                                                              capsys):
    out = tmp_path / "out"
    args = _args(db, out)
    assert cli.main(args) == 0
    capsys.readouterr()
    script = ("import json, sys\nfrom valuelib import cli\n"
              f"code = cli.main({args!r})\n"
              "print(json.dumps({'code': code, 'loaded': sorted(m for m in "
              "('pandas', 'numpy', 'duckdb', 'sqlalchemy') if m in sys.modules)}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    *table, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"code": 0, "loaded": []}
    assert "unchanged (skipped)" in "\n".join(table) and "rendering" not in done.stderr
    rows = dict(line.strip("│ ").split("│")[:2] for line in table if line.count("│") == 3)
    assert {k.strip(): v.strip() for k, v in rows.items()}["unchanged (skipped)"] == "4"
    assert _statuses(out) == dict.fromkeys(ACCOUNTS, "unchanged")


def test_forced_runs_never_take_the_fast_path(db, tmp_path, fake):
    opts = _opts(db, tmp_path / "out")
    batch.render(opts)
    assert _rendered_after(fake, batch.Options(**{**vars(opts), "force": True})) == ACCOUNTS


def test_a_write_ahead_log_beside_the_warehouse_renders_its_changes(own_db, tmp_path, fake):
    opts = _opts(own_db, tmp_path / "out")
    batch.render(opts)
    before = own_db.read_bytes()
    _set_nps(own_db, ACC, checkpoint=False)
    assert own_db.read_bytes() == before  # the change is only in the log
    assert own_db.with_name(own_db.name + ".wal").is_file()
    assert _rendered_after(fake, opts) == [ACC]


def test_a_warehouse_changed_with_the_same_size_and_time_is_read_again(own_db, tmp_path,
                                                                        fake):
    other = tmp_path / "other.duckdb"
    shutil.copy(own_db, other)
    _set_nps(own_db, ACC, checkpoint=True, score="10 - score")  # the same rows rewritten
    _set_nps(other, ACC, checkpoint=True)
    opts = _opts(own_db, tmp_path / "out")
    batch.render(opts)
    st = own_db.stat()
    own_db.write_bytes(other.read_bytes())
    os.utime(own_db, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (own_db.stat().st_size, own_db.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert _rendered_after(fake, opts) == [ACC]


def test_an_edited_params_file_renders_its_account(db, tmp_path, fake):
    params_dir = tmp_path / "params"
    shutil.copytree(Path(resources.folder("params")), params_dir)
    opts = _opts(db, tmp_path / "out", params_dir=params_dir)
    batch.render(opts)
    (params_dir / "accounts" / f"{ACC}.yaml").write_text('prepared_for: "the board"\n',
                                                         encoding="utf-8")
    assert _rendered_after(fake, opts) == [ACC]
    assert _rendered_after(fake, opts) == []


def test_an_edited_notebook_renders_every_account(db, tmp_path, fake):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(Path(resources.folder("notebooks")), notebooks)
    opts = _opts(db, tmp_path / "out", notebooks=notebooks)
    batch.render(opts)
    nb = notebooks / "value_review.ipynb"
    nb.write_bytes(nb.read_bytes().replace(b'"cells": [', b'"cells": [\n  ', 1))
    assert _rendered_after(fake, opts) == ACCOUNTS


def test_a_deleted_output_is_rendered_again(db, tmp_path, fake):
    out = tmp_path / "out"
    opts = _opts(db, out)
    batch.render(opts)
    QuarterLayout(out.resolve(), "2026Q3").path("customer", ACC, "metrics.json").unlink()
    assert _rendered_after(fake, opts) == [ACC]


def test_another_locale_or_browser_renders_every_account(db, tmp_path, fake, monkeypatch):
    opts = _opts(db, tmp_path / "out")
    batch.render(opts)
    assert _rendered_after(fake, batch.Options(**{**vars(opts), "locale": "ka-GE"})) == \
        ACCOUNTS
    assert _rendered_after(fake, opts) == ACCOUNTS  # back to each account's own locale
    monkeypatch.setattr(batch.fingerprint.plan, "browser_version", lambda: "Chromium 999 test")
    assert _rendered_after(fake, batch.Options(**{**vars(opts), "pdf_engine": "chromium"})) \
        == ACCOUNTS


def test_after_a_failed_account_the_rerun_renders_it_again(db, tmp_path, fake, monkeypatch):
    out = tmp_path / "out"
    opts = _opts(db, out)
    ok = fake.run

    def failing(tasks, workers, finish, **kw):  # noqa: ANN001 - pool.run's signature
        for t in tasks:
            if t.account_id == ACC:
                fake.rendered.append(ACC)
                finish(worker.TaskResult(ACC, t.stem, False, error="boom"))
        ok([t for t in tasks if t.account_id != ACC], workers, finish, **kw)

    monkeypatch.setattr(pool, "run", failing)
    batch.render(opts)
    assert "fingerprint" not in json.loads(
        QuarterLayout(out.resolve(), "2026Q3").manifest("customer").read_text())["last_run"]
    monkeypatch.setattr(pool, "run", ok)
    assert _rendered_after(fake, opts) == [ACC]
    assert _rendered_after(fake, opts) == []


def test_inputs_changed_while_a_run_reads_them_leave_no_fingerprint(db, tmp_path, fake,
                                                                    monkeypatch):
    """A params file edited after the fingerprint was taken and before the run read it: the
    documents are of the new file, so the old file's fingerprint must not be recorded, or
    putting the old file back would find them unchanged."""
    params_dir = tmp_path / "params"
    shutil.copytree(Path(resources.folder("params")), params_dir)
    opts = _opts(db, tmp_path / "out", params_dir=params_dir)
    own = params_dir / "accounts" / f"{ACC}.yaml"
    compute = fingerprint.compute

    def then_edit(*a, **kw):  # noqa: ANN002, ANN003
        fp = compute(*a, **kw)
        own.write_text('prepared_for: "the board"\n', encoding="utf-8")
        return fp

    with monkeypatch.context() as m:
        m.setattr(fingerprint, "compute", then_edit)
        assert _rendered_after(fake, opts) == ACCOUNTS
    own.unlink()  # the file as the fingerprint saw it
    assert _rendered_after(fake, opts) == [ACC]


def test_another_library_installed_reads_the_warehouse_again(db, tmp_path, fake, monkeypatch):
    """The bundles are read with libraries no key names (DuckDB, NumPy): after an upgrade
    the keys are computed again, from the warehouse."""
    opts = _opts(db, tmp_path / "out")
    batch.render(opts)
    full = batch._render
    taken = []

    def counted(*a, **kw):  # noqa: ANN002, ANN003
        taken.append(1)
        return full(*a, **kw)

    monkeypatch.setattr(batch, "_render", counted)
    batch.render(opts)
    assert taken == []
    installed = fingerprint.installed()
    assert any("duckdb-" in n for names in installed["distributions"].values() for n in names)
    upgraded = {**installed, "distributions": {"elsewhere": ["duckdb-0.dist-info"]}}
    monkeypatch.setattr(fingerprint, "installed", lambda: upgraded)
    assert _rendered_after(fake, opts) == [] and taken == [1]


@pytest.mark.skipif(chromium.executable() is None,
                    reason="the browsers started ahead are Chromium's")
def test_browsers_are_started_ahead_only_once_the_warehouse_is_read(db, tmp_path, monkeypatch):
    """The workers' preloading process starts before the warehouse is read; their browsers
    only after it: a selection the warehouse does not have starts none, and a good one asks
    for them once its bundles are read (the cores are busy with both until then)."""
    from valuelib.data import extract

    calls: list[object] = []
    read = extract.run
    monkeypatch.setattr(extract, "run",
                        lambda *a, **kw: calls.append("extract") or read(*a, **kw))
    monkeypatch.setattr(pool, "prestart", lambda browsers=0: calls.append(browsers))
    monkeypatch.setattr(pool, "run", FakePool().run)
    bad = batch.Options(db=str(db), out=tmp_path / "bad", accounts="ACC-9999",
                        portfolio=False, pdf_engine="chromium")
    with pytest.raises(Exception, match="ACC-9999"):
        batch.render(bad)
    assert calls == [0, "extract"]
    calls.clear()
    batch.render(batch.Options(db=str(db), out=tmp_path / "good", accounts=",".join(ACCOUNTS),
                               portfolio=False, pdf_engine="chromium", workers=2))
    assert calls == [0, "extract", 2]
