"""CPU of saving the value review's charts with `valuelib.report.memo` off, on for ticks only,
and on for ticks and text layouts, in one process.

The eight warm-up charts (`valuelib.render.kernels.warm`, constant frames, no account's data)
are drawn through `blocks.figure` once per setting per round, the settings taking turns, so
a machine that speeds up or slows down during the run weighs on all three alike. Reported per
setting: the fastest and the median round's process CPU seconds, the median of each round's
seconds over the same round's "off" (the drift cancels out of it), and, from one save of each
chart with the memo on, how many tick requests and text layouts it answered. Usage::

    python -m benchmarks.chart_memo --rounds 15
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.chart_memo", description=__doc__)
    ap.add_argument("--rounds", type=int, default=15, help="rounds of each setting (15)")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        print("--rounds must be at least 1", file=sys.stderr)
        return 2

    import matplotlib.pyplot as plt
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    from valuelib.render.kernels import warm
    from valuelib.report import blocks, charts, memo

    charts.apply_style()
    memo.install()
    ticks, layout = Axis.__dict__["_update_ticks"], Text.__dict__["_get_layout"]
    settings = {"off": (ticks.__wrapped__, layout.__wrapped__),
                "ticks": (ticks, layout.__wrapped__),
                "ticks and text layouts": (ticks, layout)}
    samples = warm._sample_charts()

    def save_all() -> None:
        for draw, kwargs in samples:
            blocks.figure(draw(ax=plt.figure(layout="constrained").add_subplot(), **kwargs))

    save_all()  # fonts found, first figure drawn
    before = {k: (c.hits, c.misses) for k, c in memo.STATS.items()}
    save_all()
    answered = {k: (c.hits - before[k][0], c.hits + c.misses - sum(before[k]))
                for k, c in memo.STATS.items()}
    seconds: dict[str, list[float]] = {k: [] for k in settings}
    try:
        for _ in range(args.rounds):
            for name, (update_ticks, get_layout) in settings.items():
                Axis._update_ticks, Text._get_layout = update_ticks, get_layout
                gc.collect()
                start = time.process_time()
                save_all()
                seconds[name].append(time.process_time() - start)
    finally:
        Axis._update_ticks, Text._get_layout = ticks, layout
    print(f"{len(samples)} charts, {args.rounds} rounds; CPU seconds per round of all of them:")
    off = seconds["off"]
    for name, values in seconds.items():
        ratio = statistics.median(v / o for v, o in zip(values, off, strict=True))
        print(f"  memo {name:24} fastest {min(values):.3f}  median "
              f"{statistics.median(values):.3f}  median of round / off {ratio:.3f}")
    for kind, (hits, asked) in answered.items():
        print(f"  one save of each: {hits} of {asked} {kind} requests answered from the memo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
