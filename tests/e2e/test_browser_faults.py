"""A Chromium that dies or hangs, through `valuereview render --pdf-engine chromium`: once, it
is replaced and the account prints; twice in a row, the account it was printing fails alone,
named with the reason, its earlier reports stay as they were, the other accounts print with a
new browser. A browser the batch started ahead for its worker that hangs is dropped, and the
worker prints with its own. No browser process is left.

The faulty browser is a stand-in named by ``VALUEREVIEW_CHROMIUM``: the first times a worker,
or the batch itself, starts it (a marker file for each counts them) it exits at once, or hangs
in a process that ignores its DevTools pipe; every later start is the real Chromium.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import psutil
import pytest
from support import QuarterLayout, pdf_pages, valuereview

from valuelib.render import chromium, export_chromium

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(chromium.executable() is None,
                                 reason="chromium is not installed")]

ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0003"]
#: How long the hanging stand-in sleeps: a number no other process on the machine uses.
HANG_SECONDS = "4321"
#: The faulty runs' --print-timeout: a hang is given up after a third of it (4 s), the retry
#: has the rest. A good account's first print, with its browser's start, takes 2-4 s here.
PRINT_TIMEOUT = "12"


def _stand_in(folder: Path, *, worker: list[str] = (),
              batch: list[str] = ("die",)) -> tuple[Path, Path, Path]:
    """A browser executable whose first starts fail, one for each fault in turn ("die": exit
    at once; "hang": never answer): `worker`'s when a render worker starts it (for its
    prints), `batch`'s when the batch's own process does (it starts the first workers'
    browsers ahead, `pool.prestart`: by default that one dies, so the worker starts its own).
    Returns the executable and the two marker files listing the faults still to come."""
    markers = folder / "faults-worker", folder / "faults-batch"
    for marker, faults in zip(markers, (worker, batch), strict=True):
        marker.write_text("".join(f"{fault}\n" for fault in faults), encoding="utf-8")
    script = folder / "chromium-faulty"
    # A worker is a fork of the batch's preloading process, multiprocessing's fork server.
    by_worker = "tr '\\0' ' ' < /proc/$PPID/cmdline | grep -q multiprocessing.forkserver"
    # `--version` (asked once per run, for the cache key) is answered by the real browser.
    script.write_text(
        "#!/bin/sh\n"
        f"if {by_worker}; then marker='{markers[0]}'; else marker='{markers[1]}'; fi\n"
        "if [ \"$1\" != --version ] && [ -s \"$marker\" ]; then\n"
        "  fault=$(head -n 1 \"$marker\"); sed -i 1d \"$marker\"\n"
        f"  [ \"$fault\" = hang ] && exec sleep {HANG_SECONDS}\n"
        "  exit 3\n"
        "fi\n"
        f"exec '{chromium.executable()}' \"$@\"\n", encoding="utf-8")
    script.chmod(0o755)
    return script, *markers


def _render(db: Path, out: Path, browser: Path | None = None, *more: str):
    env = {chromium.ENV_EXECUTABLE: str(browser)} if browser else None
    return valuereview("render", "--db", str(db), "--out", str(out), "--no-portfolio",
                       "--accounts", ",".join(ACCOUNTS), "--workers", "1",
                       "--pdf-engine", "chromium", *more, env=env)


def _hangers() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.info["cmdline"] == ["sleep", HANG_SECONDS]:
            found.append(proc)
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first(demo_db, tmp_path_factory):
    """Good reports of the three accounts, printed by the real Chromium."""
    out = tmp_path_factory.mktemp("browser-faults")
    run = _render(demo_db, out)
    assert run.code == 0, run.stdout + run.stderr
    quarter = next(p.name for p in out.iterdir() if p.is_dir())
    layout = QuarterLayout(out, quarter)
    # The engine asked for is the one the manifest names (test_pdf_engines.py checks
    # weasyprint and the default, auto).
    manifest = json.loads(layout.manifest("customer").read_text(encoding="utf-8"))
    assert manifest["last_run"]["pdf_engine"] == "chromium"
    return out, layout


def test_a_browser_that_hangs_once_is_replaced_and_the_account_prints(demo_db, first,
                                                                       tmp_path):
    out, layout = first
    before = {a: _digest(layout.path("customer", a, "value-review.pdf")) for a in ACCOUNTS}
    browser, marker, ahead = _stand_in(tmp_path, worker=["hang"])
    run = _render(demo_db, out, browser, "--force", "--print-timeout", PRINT_TIMEOUT)
    assert run.code == 0, run.stdout + run.stderr
    assert marker.read_text(encoding="utf-8") == ahead.read_text(encoding="utf-8") == ""
    # The operator is told, naming the document (its title).
    page = layout.path("customer", ACCOUNTS[0], "value-review.html").read_text(encoding="utf-8")
    title = html.unescape(re.search(r"<title>(.*?)</title>", page).group(1))
    assert ("Chromium failed to print the document: the browser did not answer in time "
            f"({title!r}); printing it again with a new browser") in run.stderr.splitlines()
    entries = json.loads(layout.manifest("customer").read_text(encoding="utf-8"))["accounts"]
    assert [entries[a]["status"] for a in ACCOUNTS] == ["rendered"] * 3
    for account in ACCOUNTS:  # printed anew by the real browser: the same bytes
        assert _digest(layout.path("customer", account, "value-review.pdf")) == before[account]
    assert not _hangers(), "a hung browser was left running"


def test_a_browser_that_fails_twice_fails_its_account_alone(demo_db, first, tmp_path):
    out, layout = first
    reason = ("Chromium failed to print the document: the browser did not answer in time "
              f"(tried 2 times, each with a new browser; limit {PRINT_TIMEOUT} s, --print-timeout)")
    before = {a: _digest(layout.path("customer", a, "value-review.pdf"))
              for a in ACCOUNTS}
    # The print exits (a crash: tried again at once, with the rest of the limit), and its retry
    # hangs (exits twice are the unit tests').
    faults = ["die", "hang"]
    assert len(faults) == export_chromium.PRINT_RETRIES + 1
    browser, marker, ahead = _stand_in(tmp_path, worker=faults)
    # --force: every account renders again, so the browser's first document is ACC-0001's.
    run = _render(demo_db, out, browser, "--force", "--print-timeout", PRINT_TIMEOUT)
    assert run.code == 1, run.stdout + run.stderr
    # every fault was used
    assert marker.read_text(encoding="utf-8") == ahead.read_text(encoding="utf-8") == ""
    failed = ACCOUNTS[0]
    assert f"FAILED {failed}" in run.stderr + run.stdout
    assert reason in run.stderr + run.stdout
    manifest = layout.manifest("customer")
    entries = json.loads(manifest.read_text(encoding="utf-8"))["accounts"]
    assert entries[failed]["status"] == "failed"
    assert reason in entries[failed]["error"]["message"]
    assert [entries[a]["status"] for a in ACCOUNTS[1:]] == ["rendered", "rendered"]
    # The failed account keeps its last good report, byte for byte; the others printed anew
    # (same inputs: the same bytes) with the real browser that replaced the faulty one.
    for account in ACCOUNTS:
        pdf = layout.path("customer", account, "value-review.pdf")
        assert _digest(pdf) == before[account], account
        assert len(pdf_pages(pdf)) >= 5
    assert not _hangers(), "a hung browser was left running"
    for proc in psutil.process_iter(["cmdline"]):
        assert str(browser) not in " ".join(proc.info["cmdline"] or [])


def test_a_browser_started_ahead_that_hangs_is_dropped_and_its_worker_prints(demo_db, first,
                                                                             tmp_path):
    """The browser the batch starts ahead for its worker (`pool.prestart`) hangs: the worker
    is not kept waiting for it past `pool.PRESTART_WAIT`, starts its own and prints every
    account; the hung one is killed when the batch ends."""
    out, layout = first
    before = {a: _digest(layout.path("customer", a, "value-review.pdf")) for a in ACCOUNTS}
    browser, marker, ahead = _stand_in(tmp_path, worker=[], batch=["hang"])
    run = _render(demo_db, out, browser, "--force")
    assert run.code == 0, run.stdout + run.stderr
    assert ahead.read_text(encoding="utf-8") == ""  # the batch's start took the fault
    assert "printing it again" not in run.stderr  # no print of a worker's failed
    entries = json.loads(layout.manifest("customer").read_text(encoding="utf-8"))["accounts"]
    assert [entries[a]["status"] for a in ACCOUNTS] == ["rendered"] * 3
    for account in ACCOUNTS:
        assert _digest(layout.path("customer", account, "value-review.pdf")) == before[account]
    assert not _hangers(), "the hung browser started ahead was left running"
