"""The output tree: what may be shared sits apart from everything internal, audiences never
overwrite each other, no bundle is written under --out, and the quarter's manifest and index
accumulate across partial runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import duckdb
import pytest
from support import PORTFOLIO_ID, QuarterLayout, valuereview

pytestmark = pytest.mark.slow

Q = "2026Q3"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest(out: Path, audience: str = "customer") -> dict:
    return json.loads(QuarterLayout(out, Q).manifest(audience).read_text())


def _render(db: Path, out: Path, accounts: str, *more: str):
    run = valuereview("render", "--db", str(db), "--out", str(out), "--accounts", accounts,
                      *more)
    assert run.code == 0, run.stdout + run.stderr
    return run


@pytest.fixture(scope="module")
def both(tmp_path_factory, demo_db, rendered):
    """One --out rendered for customers, then for internal use, then for customers again;
    and, for comparison, the session's customer-only render (`rendered`: the same warehouse,
    these accounts among others)."""
    base = tmp_path_factory.mktemp("audiences")
    accounts = "ACC-0001,ACC-0002"
    mixed = base / "mixed"
    _render(demo_db, mixed, accounts)
    _render(demo_db, mixed, accounts, "--audience", "internal", "--no-portfolio")
    again = _render(demo_db, mixed, accounts)
    return mixed, rendered.out, again


def test_internal_render_never_replaces_a_customer_document(both):
    mixed, alone, again = both
    share = QuarterLayout(mixed, Q).share_dir
    names = [f"ACC-000{i}/value-review.{f}" for i in (1, 2) for f in ("html", "pdf")]
    assert sorted(_digests(share)) == names
    customer_only = _digests(QuarterLayout(alone, Q).share_dir)
    assert _digests(share) == {name: customer_only[name] for name in names}
    # The internal reviews exist, apart, with their own manifest and index.
    lay = QuarterLayout(mixed, Q)
    for aid in ("ACC-0001", "ACC-0002"):
        internal = lay.path("internal", aid, "value-review.html").read_text(encoding="utf-8")
        assert "data-vr-internal" in internal
        assert lay.path("internal", aid, "value-review.html").is_relative_to(lay.internal_dir)
    assert set(_manifest(mixed, "internal")["accounts"]) == {"ACC-0001", "ACC-0002"}
    assert lay.index("internal").is_file() and lay.index("customer").is_file()
    # Re-rendering the customers after the internal run found nothing to do.
    assert _manifest(mixed)["last_run"]["summary"] == {"rendered": 0, "unchanged": 3,
                                                       "failed": 0}
    assert "unchanged (skipped)" in again.stdout


def test_nothing_but_documents_in_the_shared_folder_and_no_bundle_anywhere(both):
    mixed, _, _ = both
    lay = QuarterLayout(mixed, Q)
    top = sorted(p.name for p in lay.root.iterdir())
    assert top == ["customer", "internal"]
    for aid_dir in lay.share_dir.iterdir():
        assert sorted(p.name for p in aid_dir.iterdir()) == ["value-review.html",
                                                             "value-review.pdf"]
    # No bundle (an account's raw rows) and no run artefact is written under --out.
    for path in mixed.rglob("*"):
        assert ".work" not in path.parts and "bundles" not in path.parts, path
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            assert "tables" not in data, f"{path} holds warehouse rows"
    # The executed notebooks name their bundle relatively: no temporary path is recorded.
    nb = lay.path("customer", "ACC-0001", "value-review.ipynb").read_text(encoding="utf-8")
    assert "vr-task-" not in nb and "/tmp" not in nb
    assert json.loads(nb)["metadata"]["papermill"]["parameters"]["bundle"] == "bundle.json"


def test_published_files_follow_the_umask(both):
    mixed, _, _ = both
    lay = QuarterLayout(mixed, Q)
    umask = os.umask(0o022)
    os.umask(umask)
    for path in (lay.path("customer", "ACC-0001", "value-review.pdf"), lay.index("customer")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_partial_runs_accumulate_in_the_manifest_and_the_index(demo_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(demo_db, db)
    out = tmp_path / "out"
    lay = QuarterLayout(out, Q)
    _render(db, out, "ACC-0001,ACC-0002", "--formats", "html", "--no-portfolio")
    first = _manifest(out)["accounts"]
    _render(db, out, "ACC-0003", "--formats", "html", "--no-portfolio")
    m = _manifest(out)
    assert set(m["accounts"]) == {"ACC-0001", "ACC-0002", "ACC-0003"}
    for aid in ("ACC-0001", "ACC-0002"):  # kept as they were: status, hashes, cache key, run
        assert m["accounts"][aid] == first[aid]
    index = lay.index("customer").read_text(encoding="utf-8")
    for aid in ("ACC-0001", "ACC-0002", "ACC-0003"):
        assert f'id="account-{aid}"' in index
    # 1 and 2 again: skipped, since their cache keys were kept.
    run = _render(db, out, "ACC-0001,ACC-0002", "--formats", "html", "--no-portfolio")
    assert _manifest(out)["last_run"]["summary"] == {"rendered": 0, "unchanged": 2,
                                                     "failed": 0}
    assert "rendering" not in run.stderr

    # An account that leaves the warehouse is marked, not dropped.
    con = duckdb.connect(str(db))
    for table in ("value_drivers", "value_measurements", "usage", "nps_responses",
                  "support_tickets", "online_reviews", "success_plan", "arr_history",
                  "accounts"):
        con.execute(f'DELETE FROM "{table}" WHERE account_id = ?', ["ACC-0003"])
    con.close()
    _render(db, out, "ACC-0001", "--formats", "html", "--no-portfolio")
    entry = _manifest(out)["accounts"]["ACC-0003"]
    assert entry["not_in_warehouse"] is True and entry["status"] == "rendered"
    index = lay.index("customer").read_text(encoding="utf-8")
    assert 'id="account-ACC-0003"' in index and "no longer in the warehouse" in index
    assert PORTFOLIO_ID not in _manifest(out)["accounts"]
