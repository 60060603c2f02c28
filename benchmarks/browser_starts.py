"""How often a new Chromium dies at its first document, and what its start costs.

``python -m benchmarks.browser_starts HTML [--starts N] [--processes P] [--start-page ...]``
starts a browser N times in each of P processes at once (as a batch's workers start theirs),
prints the review HTML in each through `ChromiumPDFWriter` (its page, the print and the
header print) and stops it. A browser that exits or hangs is recorded with the last
DevTools call it was sent and its exit status (a signal number for a crash), read before
the browser is killed; the writer then prints the document again with a new browser, which
is counted among the browsers started.

``--start-page`` chooses what the browser opens by itself at its start
(`chromium.Browser.start_page`): ``about:blank`` (a page of its own, which the code does not
use), or ``none`` (``--no-startup-window``, no page until the code makes one). Per start it
reports the CPU seconds of the browser's process tree and of this process (the start and
the first document), and the wall seconds. Usage::

    valuereview render --accounts ACC-0001 --out OUT
    python -m benchmarks.browser_starts OUT/2026Q3/customer/ACC-0001/value-review.html \\
        --starts 150 --processes 2 --start-page none
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.pdf_engines import _tree_cpu
from valuelib.render import chromium
from valuelib.render.chromium import fonts_env
from valuelib.render.export_chromium import ChromiumPDFWriter

#: ``--start-page`` choices: what follows the browser's flags on its command line.
START_PAGES: dict[str, tuple[str, ...]] = {
    "about:blank": ("about:blank",),
    "none": ("--no-startup-window",),
}

#: Seconds a browser whose print failed is given to exit by itself before it is killed.
EXIT_WAIT = 2.0

_last_call: list[str] = ["(none)"]


def _record_calls() -> None:
    """Remember the last DevTools method this process sent (for the record of a crash)."""
    send = chromium._Pipe.send

    def recording(self: Any, method: str, *args: Any, **kwargs: Any) -> int:
        _last_call[0] = method
        return send(self, method, *args, **kwargs)

    chromium._Pipe.send = recording  # type: ignore[method-assign]


class _Watched(chromium.Browser):
    """A browser that records each fault: the last DevTools call sent before it, and the
    exit status if the browser had exited by itself (else it hung and was killed)."""

    def __init__(self, start_page: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_page = start_page
        self.faults: list[dict[str, str]] = []
        self._status = ""
        self._printing = False

    def pdf(self, html: str, **kwargs: Any) -> tuple[bytes, list[str]]:
        self._status = ""
        self._printing = True
        try:
            return super().pdf(html, **kwargs)
        except chromium.BrowserError as exc:
            unread = ("killed (it hung)" if isinstance(exc, chromium.BrowserHung) else
                      "closed its pipe, still running" if isinstance(exc, chromium.BrowserExited)
                      else f"killed ({exc})")
            self.faults.append({"call": _last_call[0], "error": type(exc).__name__,
                                "status": self._status or unread})
            raise
        finally:
            self._printing = False

    def close(self) -> None:
        if self.pid is not None and os.getpid() == self._owner:
            # A print that failed closes the browser: a crashing one may have closed its pipe
            # a moment before it exits, so it gets EXIT_WAIT seconds to say how it ended.
            end = time.monotonic() + (EXIT_WAIT if self._printing else 0)
            while True:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    pid = status = 0
                    break
                if pid or time.monotonic() >= end:
                    break
                time.sleep(0.02)
            if pid:  # it exited by itself, before our kill
                self._status = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                                else f"exit {os.WEXITSTATUS(status)}")
        super().close()  # kills the rest of its process group; its wait finds it reaped


def _starts(args: tuple[Path, int, tuple[str, ...]]) -> dict[str, Any]:
    """One process's run: `n` browsers started, each printing `html` once."""
    html_path, n, start_page = args
    _record_calls()
    html = html_path.read_text(encoding="utf-8")
    cpu: list[float] = []
    wall: list[float] = []
    faults: list[dict[str, Any]] = []
    failed = 0
    for _ in range(n):
        browser = _Watched(start_page, env=fonts_env())
        writer = ChromiumPDFWriter(browser)
        own, t0 = time.process_time(), time.perf_counter()
        try:
            writer.write(html)
        except chromium.BrowserError:
            failed += 1
        took = time.perf_counter() - t0
        tree = _tree_cpu(browser.pid)
        cpu.append(tree + time.process_time() - own)
        wall.append(took)
        writer.close()
        faults += browser.faults
    # This pool process ends with os._exit, which runs no clean-up: remove its font folder,
    # and forget it, should the pool hand this process another run.
    shutil.rmtree(Path(fonts_env()["FONTCONFIG_FILE"]).parent, ignore_errors=True)
    fonts_env.cache_clear()
    return {"cpu": cpu, "wall": wall, "faults": faults, "failed": failed}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="a review's value-review.html")
    ap.add_argument("--starts", type=int, default=60, help="browsers started per process")
    ap.add_argument("--processes", type=int, default=2, help="processes starting at once")
    ap.add_argument("--start-page", choices=sorted(START_PAGES), default="none",
                    help="what a new browser opens by itself (default: none, as the code does)")
    args = ap.parse_args(argv)
    jobs = [(args.html, args.starts, START_PAGES[args.start_page])] * args.processes
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        runs = pool.map(_starts, jobs)
    took = time.perf_counter() - t0
    cpu = [c for r in runs for c in r["cpu"]]
    wall = [w for r in runs for w in r["wall"]]
    faults = [f for r in runs for f in r["faults"]]
    starts = len(cpu) + len(faults)  # a fault's retry started one browser more
    print(f"start page {args.start_page!r}: {len(cpu)} documents, {starts} browsers in "
          f"{args.processes} processes, {took:.0f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"browsers that exited or hung at their first document: {len(faults)} "
          f"({100 * len(faults) / starts:.1f}%); documents failed after the retry: "
          f"{sum(r['failed'] for r in runs)}")
    for (call, status), k in Counter((f["call"], f["status"]) for f in faults).most_common():
        print(f"  {k} x {status} after {call}")
    print(f"per start and first document: CPU median {statistics.median(cpu):.2f} s "
          f"(min {min(cpu):.2f}, max {max(cpu):.2f}), wall median {statistics.median(wall):.2f} s")


if __name__ == "__main__":
    main()
