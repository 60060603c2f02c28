"""CPU seconds per document of the PDF stage, WeasyPrint against Chromium, on the same HTML.

``python -m benchmarks.pdf_engines DIR [--repeat R]`` prints each engine's median over every
``value-review.html`` under DIR (a `valuereview render` output), R times each, after one
document to warm up (reported too: for Chromium it includes starting the browser). Every
process counts: this one's CPU time (`time.process_time`) and, for
Chromium, its whole process tree's (user + system, with the children each process has
reaped, measured after a short pause so the renderer's work is in).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from valuelib.render.export import Exporters
from valuelib.render.export_chromium import ChromiumPDFWriter

#: Seconds to let the browser's processes finish after a document before reading their CPU.
SETTLE = 0.3


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process and its descendants so far (0 without a process)."""
    if pid is None:
        return 0.0
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def measure(engine: str, docs: list[str], repeat: int
            ) -> tuple[list[float], list[float], tuple[float, float]]:
    """CPU and wall seconds of each document printed by `engine` (after a warm-up), and of
    the warm-up: a new writer's first document, with the browser's start for Chromium."""
    browser = None
    if engine == "chromium":
        writer = ChromiumPDFWriter()
        browser = writer.browser
        print_pdf: Callable[[str], bytes] = writer.write
    else:
        exporters = Exporters()
        print_pdf = exporters.pdf
    pid: Callable[[], int | None] = lambda: browser.pid if browser else None  # noqa: E731

    def timed(html: str) -> tuple[float, float]:
        """CPU (this process and the browser's tree) and wall seconds of one document."""
        before, t0 = _tree_cpu(pid()) + time.process_time(), time.perf_counter()
        print_pdf(html)
        took = time.perf_counter() - t0
        if browser:
            time.sleep(SETTLE)
        return _tree_cpu(pid()) + time.process_time() - before, took

    first = timed(docs[0])  # no browser yet: its start is in
    cpu, wall = [], []
    for _ in range(repeat):
        for html in docs:
            c, w = timed(html)
            cpu.append(c)
            wall.append(w)
    if browser:
        browser.close()
    return cpu, wall, first


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="a render's output folder")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    docs = [p.read_text(encoding="utf-8") for p in sorted(args.dir.rglob("value-review.html"))]
    print(f"{len(docs)} documents, {args.repeat} times each; load average "
          f"{psutil.getloadavg()[0]:.1f}")
    print("| engine | CPU s/doc median | min | max | wall s/doc median "
          "| first document: CPU s, wall s (a browser's start included) |")
    print("|---|---|---|---|---|---|")
    for engine in ("weasyprint", "chromium"):
        cpu, wall, first = measure(engine, docs, args.repeat)
        print(f"| {engine} | {statistics.median(cpu):.2f} | {min(cpu):.2f} | {max(cpu):.2f} "
              f"| {statistics.median(wall):.2f} | {first[0]:.2f}, {first[1]:.2f} |")


if __name__ == "__main__":
    main()
