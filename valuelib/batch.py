"""Render a quarter: decide which accounts need work, run them in parallel, write atomically.

Each account's cache key hashes its bundle, the notebook, the template, valuelib's source and
its parameters; an account whose key and outputs are unchanged is skipped. Failures are
isolated: a failed account keeps its last good outputs, its executed notebook is saved beside
them as `value-review.error.ipynb`, and the batch goes on. `manifest.json` and `index.html`
are rewritten at the end.

Ctrl-C (SIGINT) stops a local batch cleanly: no account starts after it, accounts in flight
are abandoned with their previous outputs untouched, and the manifest and index are written
for what finished (accounts not reached keep their previous entries), so that a re-run skips
the finished accounts as unchanged and renders the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import valuelib

from . import contract, extract, params, pool, schema
from .bundle import sha256, write_atomic
from .render import worker
from .warehouse import Warehouse, project_root

NOTEBOOK = "value_review.ipynb"
PORTFOLIO_NOTEBOOK = "portfolio_review.ipynb"
FORMATS = ("html", "pdf")
PORTFOLIO_ID = "portfolio"


@dataclass
class Options:
    """What `valuereview render` was asked to do."""

    quarter: str | None = None
    accounts: str = "all"
    audience: str = "customer"
    formats: tuple[str, ...] = FORMATS
    workers: int | None = None
    scheduler: str | None = None
    db: str | None = None
    out: Path = Path("output")
    force: bool = False
    cell_timeout: float | None = 300
    root: Path = field(default_factory=project_root)
    notebooks: Path | None = None
    params_dir: Path | None = None
    portfolio: bool = True
    locale: str | None = None  # --locale: the language and formats of every document and index
    max_tasks_per_worker: int = pool.DEFAULT_MAX_TASKS
    worker_memory_mb: float = pool.DEFAULT_MAX_RSS_MB


@dataclass
class Outcome:
    """One account's (or the portfolio's) result in this run."""

    account_id: str
    status: str  # rendered | unchanged | failed
    seconds: float = 0.0
    error: str | None = None
    cell: int | None = None
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    quarter: str
    out_dir: Path
    outcomes: list[Outcome]
    seconds: float
    skipped_inactive: dict[str, str]
    interrupted: bool = False
    #: Accounts left unfinished by an interrupt (their previous outputs are untouched).
    pending: list[str] = field(default_factory=list)
    #: Their previous manifest entries, kept in the manifest and the index.
    kept: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def _tree_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.name).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def code_hash(root: Path, notebook: Path) -> str:
    """Hash of what shapes every document: notebook, template and valuelib source."""
    template = list((root / "templates").rglob("*"))
    source = list(Path(valuelib.__file__).parent.rglob("*.py"))
    h = hashlib.sha256()
    h.update(valuelib.__version__.encode())
    h.update(notebook.read_bytes())
    h.update(_tree_hash(template).encode())
    h.update(_tree_hash(source).encode())
    return h.hexdigest()


def cache_key(bundle_hash: str, code: str, parameters: dict[str, Any],
              formats: tuple[str, ...]) -> str:
    payload = json.dumps({"bundle": bundle_hash, "code": code, "params": parameters,
                          "formats": sorted(formats)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _outputs_present(account_dir: Path, names: list[str]) -> bool:
    return all((account_dir / n).is_file() for n in names)


def _file_names(stem: str, formats: tuple[str, ...]) -> list[str]:
    names = [f"{stem}.{fmt}" for fmt in formats] + [f"{stem}.ipynb"]
    return names + (["metrics.json"] if stem == "value-review" else [])


def _write_outputs(target: Path, files: dict[str, bytes]) -> dict[str, str]:
    """Write each file atomically; returns name → sha256."""
    hashes = {}
    for name, data in files.items():
        write_atomic(target / name, data)
        hashes[name] = sha256(data)
    return hashes


def _headline(metrics_json: dict[str, Any] | None) -> dict[str, str]:
    if not metrics_json:
        return {}
    figs = metrics_json.get("figures", {})
    keys = ("value_quarter", "roi_multiple", "utilisation", "nps")
    return {figs[k]["label"]: figs[k]["display"] for k in keys if k in figs}


def render(opts: Options, progress: Callable[[Outcome], None] | None = None,
           on_plan: Callable[[int], None] | None = None) -> Result:
    """Render the quarter per `opts`; see module docstring. Raises on a bad contract/selection."""
    t0 = time.perf_counter()
    root = opts.root
    nb_dir = opts.notebooks or root / "notebooks"
    notebook = nb_dir / NOTEBOOK
    portfolio_nb = nb_dir / PORTFOLIO_NOTEBOOK
    params_dir = opts.params_dir or root / "params"
    allowed = params.notebook_parameters(notebook)  # names and defaults: keys and types
    defaults, overrides = params.load(params_dir, allowed)
    portfolio_params = (
        params.load_file(params_dir / "portfolio.yaml",
                         params.notebook_parameters(portfolio_nb))
        if opts.portfolio else {}
    )

    with Warehouse.open(opts.db) as wh:
        contract.require(wh)
        # A per-account file must name an account of the warehouse (selected or not).
        params.check_account_files(params_dir, wh.read_table("accounts", ["account_id"])
                                   ["account_id"].tolist())
        quarter, _ = extract.resolve_quarter(wh, opts.quarter)
        out_dir = (opts.out / quarter).resolve()
        if not opts.scheduler and (opts.force or not (out_dir / "manifest.json").exists()):
            # Every account will be rendered: let the workers' preloading process import
            # while the warehouse is read (a re-run may have nothing to do, so it waits).
            pool.prestart()
        work = out_dir / ".work"
        ex = extract.run(wh, work / "bundles", quarter=quarter, selector=opts.accounts,
                         audience=opts.audience, portfolio=opts.portfolio)

    manifest_path = out_dir / "manifest.json"
    old = _load_manifest(manifest_path).get("accounts", {})
    code = code_hash(root, notebook)
    tasks: list[worker.Task] = []
    outcomes: dict[str, Outcome] = {}
    entries: dict[str, dict[str, Any]] = {}
    for aid, bundle_path in ex.bundles.items():
        if not schema.ACCOUNT_ID_RE.match(aid):  # contract.require refuses these already
            raise ValueError(f"account id {aid!r} is not safe as a file name")
        p = params.for_account(defaults, overrides, aid)
        if opts.locale:
            p["locale"] = opts.locale
        key = cache_key(ex.hashes[aid], code, {**p, "audience": opts.audience}, opts.formats)
        account_dir = out_dir / aid
        prev = old.get(aid, {})
        entry = {"account_id": aid, **ex.names[aid], "cache_key": key,
                 "bundle_sha256": ex.hashes[aid], "audience": opts.audience}
        entries[aid] = entry
        if (not opts.force and prev.get("cache_key") == key and prev.get("status") != "failed"
                and _outputs_present(account_dir, _file_names("value-review", opts.formats))):
            outcomes[aid] = Outcome(aid, "unchanged", entry={**prev, "status": "unchanged"})
            continue
        parameters = {**p, "account_id": aid, "quarter": quarter,
                      "bundle": str(bundle_path), "audience": opts.audience}
        tasks.append(worker.Task(aid, "value-review", str(notebook), parameters,
                                 bundle_path.read_bytes(), opts.formats, opts.cell_timeout))

    if opts.portfolio and opts.locale:
        portfolio_params = {**portfolio_params, "locale": opts.locale}
    if opts.portfolio:
        pkey = cache_key(ex.portfolio_hash, code_hash(root, portfolio_nb), portfolio_params,
                         opts.formats)
        prev = old.get(PORTFOLIO_ID, {})
        entries[PORTFOLIO_ID] = {"account_id": PORTFOLIO_ID, "cache_key": pkey,
                                 "bundle_sha256": ex.portfolio_hash}
        names = [f"portfolio-review.{fmt}" for fmt in opts.formats]
        if (not opts.force and prev.get("cache_key") == pkey and prev.get("status") != "failed"
                and _outputs_present(out_dir, names)):
            outcomes[PORTFOLIO_ID] = Outcome(PORTFOLIO_ID, "unchanged",
                                             entry={**prev, "status": "unchanged"})
        else:
            tasks.append(worker.Task(PORTFOLIO_ID, "portfolio-review", str(portfolio_nb),
                                     {**portfolio_params, "quarter": quarter,
                                      "bundle": str(ex.portfolio)},
                                     ex.portfolio.read_bytes(), opts.formats, opts.cell_timeout))

    if on_plan:
        on_plan(len(tasks))
    for outcome in outcomes.values():
        if progress:
            progress(outcome)

    def finish(res: worker.TaskResult) -> None:
        aid = res.account_id
        target = out_dir if aid == PORTFOLIO_ID else out_dir / aid
        entry = entries[aid]
        timings = {k: round(v, 3) for k, v in res.timings.items()}
        if res.ok:
            files = res.files
            hashes = _write_outputs(target, files)
            (target / f"{res.stem}.error.ipynb").unlink(missing_ok=True)
            entry.update(status="rendered", outputs=hashes, timings=timings, error=None,
                         headline=_headline(res.metrics), rendered_at=_now())
            outcome = Outcome(aid, "rendered", res.seconds, entry=entry)
        else:
            kept = {}
            if res.failed_notebook is not None:
                kept = _write_outputs(target, {f"{res.stem}.error.ipynb": res.failed_notebook})
            prev = old.get(aid, {})
            entry.update(status="failed", timings=timings,
                         error={"message": res.error, "cell": res.cell,
                                "notebook": next(iter(kept), None)},
                         outputs=prev.get("outputs", {}), headline=prev.get("headline", {}),
                         cache_key=None, failed_at=_now())
            outcome = Outcome(aid, "failed", res.seconds, res.error, res.cell, entry=entry)
        outcomes[aid] = outcome
        if progress:
            progress(outcome)

    interrupted = _run_tasks(tasks, opts, finish)

    pending = sorted(t.account_id for t in tasks if t.account_id not in outcomes)
    kept = [Outcome(aid, old[aid].get("status", "rendered"),
                    error=(old[aid].get("error") or {}).get("message"), entry=old[aid])
            for aid in pending if old.get(aid, {}).get("status")]
    result = Result(quarter, out_dir, [outcomes[k] for k in sorted(outcomes)],
                    time.perf_counter() - t0, ex.skipped, interrupted, pending, kept)
    _write_manifest(manifest_path, result, opts, ex)
    index = out_dir / "index.html"
    # Nothing rendered, nothing failed, same documents: the index already lists them all.
    if tasks or not index.is_file() or set(old) != set(entries):
        write_atomic(index, _index(result, opts).encode("utf-8"))
    return result


def _run_tasks(tasks: list[worker.Task], opts: Options,
               finish: Callable[[worker.TaskResult], None]) -> bool:
    """Run tasks on a local process pool (or Dask when a scheduler is given); True if a
    Ctrl-C stopped the run before every task finished."""
    if not tasks:
        return False
    try:
        if opts.scheduler:
            from . import dask_runner

            dask_runner.run(tasks, opts.scheduler, finish)
            return False
        workers = max(1, min(opts.workers or os.cpu_count() or 1, len(tasks)))
        with _StopOnInterrupt() as interrupt:
            pool.run(tasks, workers, finish, max_tasks=opts.max_tasks_per_worker,
                     max_rss_mb=opts.worker_memory_mb, stop=interrupt.requested)
        return interrupt.requested()
    except KeyboardInterrupt:  # a second Ctrl-C, or one on the Dask path
        return True


class _StopOnInterrupt:
    """While the pool runs, a first SIGINT only asks it to stop, so that no result being written
    is cut in half; a second one raises KeyboardInterrupt as usual."""

    def __init__(self) -> None:
        self._requested = False
        self._previous: Any = None
        self._installed = False

    def requested(self) -> bool:
        return self._requested

    def _handle(self, signum: int, frame: Any) -> None:
        if self._requested:
            raise KeyboardInterrupt
        self._requested = True

    def __enter__(self) -> _StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_manifest(path: Path, result: Result, opts: Options, ex: extract.Extract) -> None:
    data = {
        "quarter": result.quarter,
        "as_of": ex.as_of.isoformat(),
        "audience": opts.audience,
        "formats": list(opts.formats),
        "valuelib_version": valuelib.__version__,
        "generated_at": _now(),
        "summary": {s: result.count(s) for s in ("rendered", "unchanged", "failed")},
        "not_reviewed": result.skipped_inactive,
        "accounts": {o.account_id: o.entry for o in result.outcomes + result.kept},
    }
    if result.interrupted:
        data["interrupted"] = {"pending": result.pending}
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str).encode())


def _index(result: Result, opts: Options) -> str:
    entries = []
    portfolio = None
    for o in sorted(result.outcomes + result.kept, key=lambda o: o.account_id):
        e = dict(o.entry)
        e["status"] = o.status
        e["formats"] = list(opts.formats)
        if o.status == "failed":
            e["error"] = o.error
            e["keeps_previous"] = bool(e.get("outputs"))
        if o.account_id == PORTFOLIO_ID:
            portfolio = e
        else:
            entries.append(e)
    from .render.index_page import render_index  # nbconvert's Jinja set-up: only when needed

    return render_index(quarter=result.quarter, generated_at=_now(), entries=entries,
                        portfolio=portfolio, locale=opts.locale)


def summary_rows(result: Result) -> list[tuple[str, str]]:
    """Rows of the end-of-run summary table."""
    rows = [
        ("rendered", str(result.count("rendered"))),
        ("unchanged (skipped)", str(result.count("unchanged"))),
        ("failed", str(result.count("failed"))),
        ("not active in quarter", str(len(result.skipped_inactive))),
        ("time", f"{result.seconds:.1f} s"),
        ("output", str(result.out_dir)),
    ]
    if result.interrupted:
        rows.insert(3, ("not finished (interrupted)", str(len(result.pending))))
    return rows


__all__ = ["Options", "Outcome", "Result", "render", "summary_rows"]
