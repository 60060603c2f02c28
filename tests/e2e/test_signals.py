"""SIGINT (a terminal's Ctrl-C, sent to the whole process group) and SIGTERM (what `timeout`,
systemd and CI runners send to the command) behave the same at any moment of a batch: nothing
starts after them, what finished is recorded, the command exits 130 or 143, and running it
again finishes the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from support import VALUEREVIEW, QuarterLayout, valuereview

pytestmark = pytest.mark.slow

ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0003", "ACC-0004"]
#: Worker processes: one, so that documents finish one at a time and a signal can come between
#: two; an early signal comes before any worker starts, so there one per core (two) only makes
#: the re-run that finishes the job quicker.
ONE_AT_A_TIME, EARLY = "1", "2"


def _args(db: Path, out: Path, workers: str, *more: str) -> list[str]:
    return ["render", "--db", str(db), "--out", str(out), "--accounts", ",".join(ACCOUNTS),
            "--formats", "html", "--no-portfolio", "--workers", workers, *more]


class _Command:
    """The CLI in its own process group, its stderr read line by line as it comes."""

    def __init__(self, args: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "VALUEREVIEW_DB"}
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([*VALUEREVIEW, *args], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def catches(self, sig: int) -> bool:
        """Whether the command has installed its own handler for `sig` (the kernel's record of
        the process: /proc/PID/status, SigCgt), i.e. its first moment of its own."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return False
        mask = next(int(ln.split()[1], 16) for ln in status.splitlines()
                    if ln.startswith("SigCgt:"))
        return bool(mask >> (sig - 1) & 1)

    def send(self, sig: int) -> None:
        if sig == signal.SIGINT:  # a terminal signals the whole foreground group
            os.killpg(self.proc.pid, sig)
        else:  # timeout(1), systemd's main-process mode: the command itself
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 120) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            self._reader.join(timeout=5)
        return code

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)


def _rendered(cmd: _Command) -> list[str]:
    return [ln.split()[1] for ln in cmd.lines if ln.strip().startswith("rendered ")]


def _finish_and_check(db: Path, out: Path, workers: str, done: list[str]) -> None:
    """The files on disk are whole; a re-run renders exactly what was not done."""
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    layout = QuarterLayout(out, "2026Q3")
    if layout.manifest("customer").exists():
        m = json.loads(layout.manifest("customer").read_text())
        recorded = {a for a, e in m["accounts"].items() if e["status"] == "rendered"}
        assert recorded == set(done), (recorded, done)
    again = valuereview(*_args(db, out, workers))
    assert again.code == 0, again.stderr
    m = json.loads(layout.manifest("customer").read_text())
    statuses = {a: e["status"] for a, e in m["accounts"].items()}
    assert statuses == {a: "unchanged" if a in done else "rendered" for a in ACCOUNTS}


@pytest.mark.parametrize("sig, delay", [
    # The command's first moment: as soon as its handler is installed, before its imports.
    (signal.SIGINT, 0.0),
    (signal.SIGTERM, 0.0),
    (signal.SIGINT, 2.5),    # while the preloading process imports, before any document
    (signal.SIGTERM, 2.5),
])
def test_an_early_signal_renders_nothing_and_exits_128_plus_signal(demo_db, tmp_path, sig,
                                                                   delay):
    out = tmp_path / "out"
    cmd = _Command(_args(demo_db, out, EARLY))
    # Python catches SIGINT itself from its start; SIGTERM only once the command's own
    # handlers (both at once) are in place.
    deadline = time.monotonic() + 60
    while not cmd.catches(signal.SIGTERM) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert cmd.catches(signal.SIGTERM), "the command never installed its signal handlers"
    time.sleep(delay)
    cmd.send(sig)
    code = cmd.wait()
    assert code == 128 + sig, cmd.stderr
    assert "Traceback" not in cmd.stderr, cmd.stderr
    assert "interrupted" in cmd.stderr
    done = _rendered(cmd)
    assert len(done) < len(ACCOUNTS), "the signal was ignored: every account was rendered"
    _finish_and_check(demo_db, out, EARLY, done)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_first_document_keeps_it_and_starts_nothing(demo_db, tmp_path,
                                                                       sig):
    out = tmp_path / "out"
    cmd = _Command(_args(demo_db, out, ONE_AT_A_TIME, "--force"))
    deadline = time.monotonic() + 240
    while not _rendered(cmd) and cmd.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _rendered(cmd), cmd.stderr
    cmd.send(sig)
    code = cmd.wait()
    assert code == 128 + sig, cmd.stderr
    assert "Traceback" not in cmd.stderr, cmd.stderr
    done = _rendered(cmd)
    assert 1 <= len(done) < len(ACCOUNTS)
    # After a forced run, the message says how to finish without rendering everything again.
    assert "Run the same command without --force to finish" in cmd.stderr, cmd.stderr
    _finish_and_check(demo_db, out, ONE_AT_A_TIME, done)
