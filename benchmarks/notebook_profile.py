"""CPU time of the value review notebook's own code, per account, by stage.

The notebook's cells run with ``exec`` in one warm process (`benchmarks.bench.FloorRunner`:
imports done, HTML and PDF exporters warmed), as in the batch's preloaded kernels. One account
is rendered first to warm what a kernel's first review fills (font cache, first figure), then
each measured account is executed (no export) and its process CPU time
(`time.process_time`) taken. Stages are timed by wrapping the functions the notebook calls:

- extract: loading the account's bundle (``valuelib.data.bundle.load``);
- model: ``valuelib.model.account.build``;
- one stage per chart: the chart function plus its ``blocks.figure`` (the SVG);
- tables: ``blocks.table`` with the frame given to it already built (present.*_table is
  "other");
- narrative: ``valuelib.report.narrative``'s functions;
- other: everything else (cards, notes, headings, i18n; and the runner's own parameter
  injection and cell transforms, as a kernel has them).

Then the same accounts under cProfile (twice: whole, then by stage), printing the functions
with the most cumulative and own time, per stage. On a busy machine CPU time is inflated too:
``--repeat 3`` keeps each account's fastest run. Usage::

    valuereview demo-data --db /tmp/wh.duckdb --accounts 40
    python -m benchmarks.notebook_profile --db /tmp/wh.duckdb --accounts 10 --freeze --repeat 3

``--freeze`` does what the fork-server kernels do after their preload (``gc.freeze()``);
``--prepared`` gives every run the empty chart figures (and their spare ticks) the fork server
makes before it forks a review's kernel, made outside the timed run;
``--dump DIR`` writes each account's displayed HTML, to compare outputs byte for byte.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "value_review.ipynb"
PARAMS_DIR = ROOT / "params"

#: The value review's chart functions (`valuelib.report.charts`), each its own stage.
CHARTS = ("driver_progress", "cumulative_value", "adoption_trend", "feature_adoption",
          "score_trend", "support_trend", "arr_history")


class StageClock:
    """Process CPU seconds per stage of one notebook run, from wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[str] = []
        self._figures: dict[int, str] = {}
        self._profiles: dict[str, cProfile.Profile] | None = None

    def reset(self) -> None:
        self.seconds.clear()
        self._figures.clear()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as `name`; a stage inside another counts only for the outer one."""
        if self._stack:
            yield
            return
        self._stack.append(name)
        prof = self._profiles.setdefault(name, cProfile.Profile()) if self._profiles is not None \
            else None
        t0 = time.process_time()
        if prof is not None:
            prof.enable()
        try:
            yield
        finally:
            if prof is not None:
                prof.disable()
            self.seconds[name] += time.process_time() - t0
            self._stack.pop()

    def wrap(self, owner: Any, attr: str, name: str | Callable[..., str]) -> None:
        """Replace ``owner.attr`` by a version timed as stage `name` (or name(*args, **kw))."""
        fn = getattr(owner, attr)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stage = name(*args, **kwargs) if callable(name) else name
            with self.stage(stage):
                result = fn(*args, **kwargs)
            if attr in CHARTS:
                fig = getattr(result, "figure", None)
                self._figures[id(fig)] = stage
            return result

        setattr(owner, attr, timed)

    def install(self) -> None:
        """Wrap the functions the notebook calls (see the module docstring)."""
        from valuelib.data import bundle
        from valuelib.model import account as model
        from valuelib.report import blocks, charts, narrative

        self.wrap(bundle, "load", "extract")
        self.wrap(model, "build", "model")
        counts: dict[str, int] = defaultdict(int)

        def chart_name(chart: str) -> Callable[..., str]:
            def name(*_a: Any, **kw: Any) -> str:
                title = str(kw.get("title") or "")
                # score_trend is drawn twice (NPS, CSAT): tell them apart by title.
                tag = f"[{title.split()[0]}]" if chart == "score_trend" and title else ""
                counts[chart] += 1
                return f"chart {chart}{tag}"
            return name

        for chart in CHARTS:
            self.wrap(charts, chart, chart_name(chart))

        figure = blocks.figure

        @functools.wraps(figure)
        def timed_figure(fig_or_ax: Any, **kwargs: Any) -> Any:
            fig = getattr(fig_or_ax, "figure", fig_or_ax)
            with self.stage(self._figures.get(id(fig), "chart (other)")):
                return figure(fig_or_ax, **kwargs)

        blocks.figure = timed_figure
        self.wrap(blocks, "table", "tables")
        for attr in dir(narrative):
            fn = getattr(narrative, attr)
            if callable(fn) and not attr.startswith("_") and getattr(fn, "__module__", "") \
                    == narrative.__name__:
                self.wrap(narrative, attr, "narrative")


def _setup(db: str, n: int, audience: str, work: Path) -> tuple[list[str], dict[str, dict]]:
    """The first `n` + 1 active accounts' bundles and notebook parameters (first: warm-up)."""
    from valuelib.batch import params
    from valuelib.data import extract
    from valuelib.data.warehouse import Warehouse

    with Warehouse.open(db) as wh:
        ex = extract.run(wh, work, audience=audience, portfolio=False)
    ids = sorted(ex.bundles)[: n + 1]
    if len(ids) < n + 1:
        raise SystemExit(f"only {len(ids)} active accounts in {db}; need {n + 1}")
    allowed = set(params.notebook_parameters(NOTEBOOK))
    defaults, overrides = params.load(PARAMS_DIR, allowed)
    per = {aid: {**params.for_account(defaults, overrides, aid), "account_id": aid,
                 "quarter": ex.quarter, "bundle": str(ex.bundles[aid]), "audience": audience}
           for aid in ids}
    return ids, per


def _dump(nb: Any, path: Path) -> None:
    """The notebook's displayed HTML, in order, one output a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    html = [out["data"]["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
            if "text/html" in out.get("data", {})]
    path.write_text("\n".join(html), encoding="utf-8")


def _print_profile(prof: cProfile.Profile, title: str, top: int, runs: int) -> None:
    for key, label in (("cumulative", "cumulative"), ("tottime", "own")):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats(key).print_stats(top)
        lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
        start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
        print(f"\n--- {title}: top {top} by {label} time (seconds summed over {runs} runs)")
        for ln in lines[start: start + top + 1]:
            print("  " + ln[:150])


def main(argv: list[str] | None = None) -> int:
    """Warm up on one account, then time `--accounts` accounts; print medians and profiles."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="the warehouse (valuereview demo-data --db)")
    ap.add_argument("--accounts", type=int, default=10, help="accounts measured (default 10)")
    ap.add_argument("--audience", default="customer", choices=("customer", "internal"))
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each account R times and keep its fastest run (a busy machine "
                         "inflates CPU time too; default 1)")
    ap.add_argument("--top", type=int, default=12, help="functions listed per profile")
    ap.add_argument("--freeze", action="store_true",
                    help="gc.freeze() after the warm-up, as the fork-server kernels do")
    ap.add_argument("--prepared", action="store_true",
                    help="before each run, make the chart figures the fork server makes "
                         "ahead for a kernel (charts.style.prepare_figures), untimed")
    ap.add_argument("--dump", type=Path, default=None,
                    help="write each account's displayed HTML to DIR/<id>.html (to compare "
                         "outputs byte for byte before and after a change)")
    ap.add_argument("--no-profile", action="store_true", help="timings only, no cProfile pass")
    args = ap.parse_args(argv)

    import tempfile

    from benchmarks.bench import FloorRunner

    work = Path(tempfile.mkdtemp(prefix="nbprofile-"))
    ids, per = _setup(args.db, args.accounts, args.audience, work)
    runner = FloorRunner(NOTEBOOK)
    clock = StageClock()
    clock.install()

    # Warm-up: a whole review once, as a kernel's first account.
    runner.render(ids[0], per[ids[0]], work / "warm")
    if args.freeze:
        # As the fork server does after its preload: what exists now is never collected.
        gc.collect()
        gc.freeze()

    def prepare() -> None:
        """As the fork server before it forks a review's kernel: its empty chart figures, made
        the way it makes them; the last run's unused ones are dropped (a kernel is new)."""
        if args.prepared:
            from valuelib.render.kernels import warm
            from valuelib.report.charts import style

            style._prepared.clear()
            warm.prepared_figures()

    totals: list[float] = []
    stages: dict[str, list[float]] = defaultdict(list)
    for aid in ids[1:]:
        best: tuple[float, dict[str, float]] | None = None
        for _ in range(args.repeat):
            clock.reset()
            prepare()
            t0 = time.process_time()
            nb, error = runner.execute(per[aid])
            took = time.process_time() - t0
            if error:
                print(f"{aid}: {error}", file=sys.stderr)
                return 1
            if best is None or took < best[0]:
                best = (took, dict(clock.seconds))
        assert best is not None
        if args.dump is not None:
            _dump(nb, args.dump / f"{aid}.html")
        totals.append(best[0])
        for name, sec in best[1].items():
            stages[name].append(sec)
        stages["other"].append(best[0] - sum(best[1].values()))

    load = os.getloadavg()
    print(f"notebook {NOTEBOOK.name}, audience {args.audience}, {len(totals)} accounts "
          f"({ids[1]}..{ids[-1]}), warm-up {ids[0]}"
          f"{', prepared figures' if args.prepared else ''}; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    kept = "" if args.repeat == 1 else f" (each the fastest of {args.repeat} runs)"
    print(f"CPU seconds per account{kept}: median {statistics.median(totals):.3f}, "
          f"min {min(totals):.3f}, max {max(totals):.3f}")
    print("per account: " + " ".join(f"{t:.3f}" for t in totals))
    print("by stage (median over the accounts where it ran; n = accounts):")
    for name, secs in sorted(stages.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {name:32s} {statistics.median(secs):7.3f}  n={len(secs)}")

    if not args.no_profile:
        # Two more passes: one profile can run at a time (the whole, then per stage).
        whole = cProfile.Profile()
        for aid in ids[1:]:
            prepare()
            whole.enable()
            runner.execute(per[aid])
            whole.disable()
        clock._profiles = {}
        for aid in ids[1:]:
            prepare()
            runner.execute(per[aid])
        runs = len(ids) - 1
        _print_profile(whole, "whole notebook", args.top, runs)
        for name, prof in sorted(clock._profiles.items()):
            _print_profile(prof, name, args.top, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
