"""What a batch plans and sends: the code hash covers where each file is, and a task runs the
notebook the batch read, not whatever file sits at that path on the worker's machine."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from valuelib.batch import plan, worker


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_tree_hash_covers_each_files_path_not_only_its_name(tmp_path):
    """A module moved to another folder (same name, same bytes) changes the code hash."""
    before = _tree(tmp_path / "a", {"report/charts.py": b"x = 1\n", "model/health.py": b""})
    after = _tree(tmp_path / "b", {"render/charts.py": b"x = 1\n", "model/health.py": b""})
    same = _tree(tmp_path / "c", {"report/charts.py": b"x = 1\n", "model/health.py": b""})
    assert plan.tree_hash(before) != plan.tree_hash(after)
    assert plan.tree_hash(before) == plan.tree_hash(same)
    _tree(same, {"report/__pycache__/charts.pyc": b"\0", "notes.txt": b"x"})
    assert plan.tree_hash(before, "*.py") == plan.tree_hash(same, "*.py")
    assert plan.tree_hash(before) != plan.tree_hash(same)


def test_a_task_runs_the_notebook_bytes_the_batch_planned(tmp_path, monkeypatch):
    """The worker executes the notebook the task carries; the file at the task's path (another
    checkout's, on a Dask worker) is never read, and the executed notebook names the file."""
    from valuelib.render import execute

    planned = nbformat.writes(new_notebook(cells=[new_code_cell("planned = True")]))
    (tmp_path / "value_review.ipynb").write_text(
        nbformat.writes(new_notebook(cells=[new_code_cell("another_checkout = True")])))
    ran: list[tuple[str, str]] = []

    def fake_execute(notebook, params, **kw):
        ran.append((Path(notebook).name, Path(notebook).read_text()))
        return SimpleNamespace(ok=False, nb=None, seconds=0.0, error=None)

    monkeypatch.setattr(worker, "warm_up", lambda **kw: None)
    monkeypatch.setattr(execute, "execute", fake_execute)
    task = worker.Task("ACC-0001", "value-review", str(tmp_path / "value_review.ipynb"), {},
                       b"{}", ("html",), notebook_source=planned.encode())
    assert not worker.run(task).ok
    assert ran == [("value_review.ipynb", planned)]


def _task(aid: str, size: int, stem: str = plan.STEM) -> worker.Task:
    return worker.Task(aid, stem, "nb.ipynb", {}, b"x" * size, ("html",))


def test_running_order_is_the_portfolio_then_the_accounts_as_given():
    tasks = [_task("ACC-3", 10), _task("ACC-1", 30), _task("portfolio", 5, plan.PORTFOLIO_STEM),
             _task("ACC-2", 20)]
    assert [t.account_id for t in plan.running_order(tasks)] == [
        "portfolio", "ACC-3", "ACC-1", "ACC-2"]


def test_a_batch_hands_out_the_portfolio_review_first(demo_db, tmp_path, monkeypatch):
    """What the batch gives its pool: the portfolio review first (a batch then ends on short
    documents, not on the longest), then the accounts in order."""
    from valuelib.batch import run

    handed: list[worker.Task] = []

    def record(tasks, workers, finish, **_):
        handed.extend(tasks)

    monkeypatch.setattr(run.pool, "run", record)
    monkeypatch.setattr(run.pool, "prestart", lambda **_: None)
    run.render(run.Options(db=str(demo_db), out=tmp_path / "out", formats=("html",),
                           accounts="ACC-0001,ACC-0002,ACC-0003,ACC-0004,ACC-0005"))
    ids = [t.account_id for t in handed]
    assert ids[0] == "portfolio"
    assert len(ids) >= 5 and ids[1:] == sorted(ids[1:])
