"""A re-run with nothing changed: it renders nothing, starts no worker or kernel and reads no
output; a deleted or edited output has its document rendered again, a touched one does not."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from valuelib import cli
from valuelib.batch import pool, worker
from valuelib.batch import run as batch
from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout
from valuelib.data import demo
from valuelib.data.warehouse import Warehouse

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
    monkeypatch.setattr(pool, "prestart", lambda: None)
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
    monkeypatch.setattr(pool, "prestart", lambda: None)
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
