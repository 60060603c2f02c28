"""Render a quarter: decide which accounts need work, run them in parallel, write atomically.

Each account's cache key hashes its bundle, the notebook, the template, valuelib's source, the
bundled fonts, the versions of the libraries that render it, the PDF engine, the message
catalog of its language, its parameters and the --locale override; an account whose key and
outputs are unchanged is skipped. Failures are
isolated: a failed account keeps its last good outputs, its executed notebook is saved beside
them as `value-review.error.ipynb`, and the batch goes on. `manifest.json` and `index.html`
are rewritten at the end.

Ctrl-C (SIGINT) or SIGTERM, at any moment, stops a batch cleanly (`valuelib.batch.interrupt`): no
account starts after it, accounts in flight are abandoned with their previous outputs
untouched, and the manifest and index are written for what finished (accounts not reached
keep their previous entries), so that a re-run skips the finished accounts as unchanged and
renders the rest.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuelib.batch import fingerprint, manifest, plan, pool, worker
from valuelib.batch.interrupt import Interrupted, StopOnSignals
from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout
from valuelib.batch.manifest import Outcome, Result
from valuelib.data import schema
from valuelib.data.files import sha256, write_atomic
from valuelib.data.location import project_root
from valuelib.render import PDF_ENGINE_DEFAULT
from valuelib.render.chromium import PRINT_TIMEOUT


@dataclass
class Options:
    """What `valuereview render` was asked to do."""

    quarter: str | None = None
    accounts: str = "all"
    audience: str = "customer"
    formats: tuple[str, ...] = plan.FORMATS
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
    allow_incomplete_quarter: bool = False
    locale: str | None = None  # --locale: the language and formats of every document and index
    max_tasks_per_worker: int = pool.DEFAULT_MAX_TASKS
    worker_memory_mb: float = pool.DEFAULT_MAX_RSS_MB
    account_timeout: float | None = 600  # execute + export of one account, on either runner
    scheduler_timeout: float = 10  # seconds to connect to the Dask scheduler
    tls_ca: str | None = None  # Dask TLS files; Dask's distributed.comm.tls.* config if None
    tls_cert: str | None = None
    tls_key: str | None = None
    #: --pdf-engine: weasyprint | chromium | auto (resolved once; the manifest and every cache
    #: key name the engine it resolved to)
    pdf_engine: str = PDF_ENGINE_DEFAULT
    print_timeout: float = PRINT_TIMEOUT  # --print-timeout: Chromium's limit per print


def _write_outputs(layout: QuarterLayout, audience: str, account_id: str,
                   files: dict[str, bytes]) -> tuple[dict[str, str], dict[str, list[int]]]:
    """Write each file atomically where the layout puts it; returns name → sha256 and
    name → its `_file_stat` as written."""
    hashes: dict[str, str] = {}
    stats: dict[str, list[int]] = {}
    for name, data in files.items():
        path = layout.path(audience, account_id, name)
        write_atomic(path, data)
        hashes[name] = sha256(data)
        stats[name] = _file_stat(path) or []
    return hashes, stats


def _file_stat(path: Path) -> list[int] | None:
    """A file's size and modification time (ns): what tells, without reading it, that it is
    still the file a run wrote; None if it is not a regular file. Raises OSError if absent."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns] if stat.S_ISREG(st.st_mode) else None


def _outputs_intact(layout: QuarterLayout, audience: str, account_id: str,
                    names: list[str], prev: dict[str, Any]) -> dict[str, list[int]] | None:
    """Whether a document's files are all as its last render wrote them: each one there, and
    either its size and modification time as recorded (`output_stats`) or, when they differ
    (copied, touched, or a manifest from before they were recorded), its bytes still of the
    recorded sha256. Returns the files' current stats, or None when one is missing or was
    altered (so the document is rendered again)."""
    hashes, recorded = prev.get("outputs") or {}, prev.get("output_stats") or {}
    stats = {}
    for name in names:
        path = layout.path(audience, account_id, name)
        try:
            if (now := _file_stat(path)) is None:
                return None
            stats[name] = now
            if now != recorded.get(name) and (
                    name not in hashes or sha256(path.read_bytes()) != hashes[name]):
                return None
        except OSError:
            return None
    return stats


def _unchanged(layout: QuarterLayout, audience: str, account_id: str, names: list[str],
               prev: dict[str, Any], key: str, force: bool) -> dict[str, list[int]] | None:
    """The current stats of a document's files when it need not be rendered again (not
    forced, the same cache key, last render not failed, its files intact); else None."""
    if force or prev.get("cache_key") != key or prev.get("status") == "failed":
        return None
    return _outputs_intact(layout, audience, account_id, names, prev)


def render(opts: Options, progress: Callable[[Outcome], None] | None = None,
           on_plan: Callable[[int], None] | None = None) -> Result:
    """Render the quarter per `opts`; see module docstring. Raises on a bad contract/selection.

    A re-run whose fingerprint (`valuelib.batch.fingerprint`) is the one the last run recorded
    in the quarter's manifest, every document of which is still unchanged, is answered from
    the manifest alone (`_replay`): the same outcomes, summary and manifest the full run
    would give, without reading the warehouse. A first SIGINT or SIGTERM at any point stops
    it cleanly (`valuelib.batch.interrupt`): no account starts after it, and the manifest and
    index are written for what finished."""
    with StopOnSignals() as stop:
        t0 = time.perf_counter()
        from valuelib.render.chromium import resolve_engine

        engine = resolve_engine(opts.pdf_engine)
        plan.ask_browser_version(engine)
        shared = plan.shared_code_hash(engine)
        # Taken before anything is read: inputs changed during the run are then caught.
        fp = fingerprint.compute(opts, engine, shared)
        if fp is not None and not opts.force:
            replayed = _replay(opts, fp, engine, t0, progress, on_plan)
            if replayed is not None:
                return replayed
        return _render(opts, progress, on_plan, stop, _Run(t0, engine, shared, fp))


@dataclass(frozen=True)
class _Run:
    """What `render` worked out before deciding between `_replay` and `_render`."""

    started: float  # time.perf_counter() at the start
    engine: str  # the resolved PDF engine
    shared: str  # plan.shared_code_hash(engine)
    fingerprint: str | None  # fingerprint.compute at the start


def _replay(opts: Options, fp: str, engine: str, started: float,
            progress: Callable[[Outcome], None] | None,
            on_plan: Callable[[int], None] | None) -> Result | None:
    """The result of a run with nothing to do, from the manifest alone: when exactly one
    quarter's manifest of this audience records fingerprint `fp`, its index is there, and each
    document that run covered passes `_unchanged` with the key recorded for it. Writes the
    manifests as `_render` would for such a run; None (nothing written) otherwise."""
    out = opts.out.resolve()
    audience = opts.audience
    found = []
    for path in sorted(out.glob(str(QuarterLayout(Path(), "*").manifest(audience)))):
        data = manifest.load(path)
        last = data.get("last_run") if isinstance(data, dict) else None
        record = last.get("fingerprint") if isinstance(last, dict) else None
        if isinstance(record, dict) and record.get("sha256") == fp:
            found.append((path, data, last, record))
    if len(found) != 1:
        return None
    path, data, last, record = found[0]
    layout = QuarterLayout(out, str(data.get("quarter")))
    keys, old = record.get("keys"), data.get("accounts")
    try:
        as_of = dt.date.fromisoformat(data["as_of"])
    except (KeyError, TypeError, ValueError):
        return None
    if (layout.manifest(audience) != path or not layout.index(audience).is_file()
            or not isinstance(keys, dict) or not isinstance(old, dict)
            or (PORTFOLIO_ID in keys) != opts.portfolio):
        return None
    old_portfolio = (manifest.load(layout.manifest(PORTFOLIO_ID)).get("accounts", {})
                     if opts.portfolio else {})
    outcomes: dict[str, Outcome] = {}
    for aid, key in keys.items():
        prev = (old_portfolio if aid == PORTFOLIO_ID else old).get(aid)
        stem = plan.PORTFOLIO_STEM if aid == PORTFOLIO_ID else plan.STEM
        if not isinstance(prev, dict) or (stats := _unchanged(
                layout, audience, aid, plan.file_names(stem, opts.formats), prev, key,
                opts.force)) is None:
            return None
        outcomes[aid] = Outcome(aid, "unchanged", entry={**prev, "status": "unchanged",
                                                         "output_stats": stats})
    if on_plan:
        on_plan(0)
    for outcome in outcomes.values():
        if progress:
            progress(outcome)
    result = Result(layout.quarter, layout.root, [outcomes[k] for k in sorted(outcomes)],
                    time.perf_counter() - started, dict(last.get("not_reviewed") or {}),
                    layout=layout)
    # The manifest was last written by the run that recorded `fp`, which marked every entry
    # of an account no longer in the warehouse: the same warehouse gives the same marks.
    known = frozenset(aid for aid, e in old.items()
                      if not (isinstance(e, dict) and e.get("not_in_warehouse")))
    _write_manifests(layout, opts, old, result, known, as_of, engine, record)
    return result


def _render(opts: Options, progress: Callable[[Outcome], None] | None,
            on_plan: Callable[[int], None] | None, stop: StopOnSignals, run: _Run) -> Result:
    from valuelib.batch import params
    from valuelib.data import contract, extract
    from valuelib.data.warehouse import Warehouse
    from valuelib.report.i18n import check_catalogs

    check_catalogs()  # a catalog gettext cannot load stops the batch before anything renders
    src = fingerprint.sources(opts)
    notebook, portfolio_nb, params_dir = src.notebook, src.portfolio_notebook, src.params_dir
    allowed = params.notebook_parameters(notebook)  # names and defaults: keys and types
    defaults, overrides = params.load(params_dir, allowed)
    portfolio_params = (
        params.load_file(params_dir / "portfolio.yaml",
                         params.notebook_parameters(portfolio_nb))
        if opts.portfolio else {}
    )

    audience = opts.audience
    with Warehouse.open(opts.db) as wh:
        contract.require(wh)
        # A per-account file must name an account of the warehouse (selected or not).
        params.check_account_files(params_dir, wh.read_table("accounts", ["account_id"])
                                   ["account_id"].tolist())
        quarter, as_of = extract.resolve_quarter(wh, opts.quarter,
                                                 allow_incomplete=opts.allow_incomplete_quarter)
        layout = QuarterLayout(opts.out.resolve(), quarter)
        ahead = not opts.scheduler and (opts.force or not layout.manifest(audience).exists())
        if ahead:
            # Every account will be rendered: let the workers' preloading process import
            # while the warehouse is read (a re-run may have nothing to do, so it waits).
            pool.prestart()
        # Bundles stay in memory: nothing but documents and records is written under --out.
        ex = extract.run(wh, None, quarter=quarter, selector=opts.accounts,
                         audience=audience, portfolio=opts.portfolio, as_of=as_of)
    if ahead and run.engine == "chromium" and "pdf" in opts.formats:
        # And the first workers' browsers, once the warehouse is read: until then this
        # process and the preloading imports keep both cores busy; after it, one is idle.
        pool.prestart(browsers=_local_workers(opts))

    old = manifest.load(layout.manifest(audience)).get("accounts", {})
    old_portfolio = manifest.load(layout.manifest(PORTFOLIO_ID)).get("accounts", {})
    engine = run.engine
    code = plan.code_hash(opts.root, notebook, engine, shared=run.shared)
    notebook_source = notebook.read_bytes()  # what every task runs, wherever it runs
    catalogs = plan.Catalogs()
    tasks: list[worker.Task] = []
    outcomes: dict[str, Outcome] = {}
    entries: dict[str, dict[str, Any]] = {}
    names = plan.file_names(plan.STEM, opts.formats)
    for aid, data in ex.data.items():
        if not schema.ACCOUNT_ID_RE.match(aid):  # contract.require refuses these already
            raise ValueError(f"account id {aid!r} is not safe as a file name")
        p = params.for_account(defaults, overrides, aid)
        if opts.locale:
            p["locale"] = opts.locale
        key = plan.cache_key(ex.hashes[aid], code, {**p, "audience": audience}, opts.formats,
                        catalog=catalogs.for_tag(p.get("locale") or ex.locales.get(aid)),
                        locale=opts.locale)
        prev = old.get(aid, {})
        entry = {"account_id": aid, **ex.names[aid], "cache_key": key,
                 "bundle_sha256": ex.hashes[aid], "audience": audience,
                 "formats": list(opts.formats)}
        entries[aid] = entry
        if (stats := _unchanged(layout, audience, aid, names, prev, key, opts.force)) is not None:
            outcomes[aid] = Outcome(aid, "unchanged", entry={**prev, "status": "unchanged",
                                                             "output_stats": stats})
            continue
        parameters = {**p, "account_id": aid, "quarter": quarter,
                      "bundle": worker.BUNDLE_NAME, "audience": audience}
        tasks.append(worker.Task(aid, plan.STEM, str(notebook), parameters,
                                 data, opts.formats, opts.cell_timeout,
                                 notebook_source=notebook_source, pdf_engine=engine,
                                 print_timeout=opts.print_timeout))

    if opts.portfolio and opts.locale:
        portfolio_params = {**portfolio_params, "locale": opts.locale}
    if opts.portfolio:
        assert ex.portfolio_data is not None
        pkey = plan.cache_key(ex.portfolio_hash,
                              plan.code_hash(opts.root, portfolio_nb, engine, shared=run.shared),
                              portfolio_params, opts.formats,
                              catalog=catalogs.for_tag(portfolio_params.get("locale")),
                              locale=opts.locale)
        prev = old_portfolio.get(PORTFOLIO_ID, {})
        entries[PORTFOLIO_ID] = {"account_id": PORTFOLIO_ID, "cache_key": pkey,
                                 "bundle_sha256": ex.portfolio_hash,
                                 "formats": list(opts.formats)}
        p_names = plan.file_names(plan.PORTFOLIO_STEM, opts.formats)
        if (stats := _unchanged(layout, audience, PORTFOLIO_ID, p_names, prev, pkey,
                                opts.force)) is not None:
            outcomes[PORTFOLIO_ID] = Outcome(PORTFOLIO_ID, "unchanged",
                                             entry={**prev, "status": "unchanged",
                                                    "output_stats": stats})
        else:
            tasks.append(worker.Task(PORTFOLIO_ID, plan.PORTFOLIO_STEM, str(portfolio_nb),
                                     {**portfolio_params, "quarter": quarter,
                                      "bundle": worker.BUNDLE_NAME},
                                     ex.portfolio_data, opts.formats, opts.cell_timeout,
                                     notebook_source=portfolio_nb.read_bytes(),
                                     pdf_engine=engine, print_timeout=opts.print_timeout))

    tasks = plan.running_order(tasks)
    if on_plan:
        on_plan(len(tasks))
    for outcome in outcomes.values():
        if progress:
            progress(outcome)

    run_started = manifest.now()

    def finish(res: worker.TaskResult) -> None:
        aid = res.account_id
        entry = entries[aid]
        prev = (old_portfolio if aid == PORTFOLIO_ID else old).get(aid, {})
        timings = {k: round(v, 3) for k, v in res.timings.items()}
        if res.ok:
            hashes, stats = _write_outputs(layout, audience, aid, res.files)
            layout.path(audience, aid, f"{res.stem}.error.ipynb").unlink(missing_ok=True)
            entry.update(status="rendered", outputs=hashes, output_stats=stats,
                         timings=timings, error=None,
                         headline=manifest.headline(res.metrics),
                         headline_values=manifest.headline(res.metrics, "value"),
                         rendered_at=manifest.now(), run=run_started)
            outcome = Outcome(aid, "rendered", res.seconds, entry=entry)
        else:
            kept = {}
            if res.failed_notebook is not None:
                kept, _ = _write_outputs(layout, audience, aid,
                                         {f"{res.stem}.error.ipynb": res.failed_notebook})
            entry.update(status="failed", timings=timings,
                         error={"message": res.error, "cell": res.cell,
                                "notebook": next(iter(kept), None)},
                         outputs=prev.get("outputs", {}),
                         output_stats=prev.get("output_stats", {}),
                         headline=prev.get("headline", {}),
                         headline_values=prev.get("headline_values", {}),
                         rendered_at=prev.get("rendered_at"), run=run_started,
                         cache_key=None, failed_at=manifest.now())
            outcome = Outcome(aid, "failed", res.seconds, res.error, res.cell, entry=entry)
        outcomes[aid] = outcome
        if progress:
            progress(outcome)

    interrupted = _run_tasks(tasks, opts, finish, stop)

    pending = sorted(t.account_id for t in tasks if t.account_id not in outcomes)
    kept = [Outcome(aid, prev.get("status", "rendered"),
                    error=(prev.get("error") or {}).get("message"), entry=prev)
            for aid in pending
            if (prev := (old_portfolio if aid == PORTFOLIO_ID else old).get(aid, {}))
            .get("status")]
    result = Result(quarter, layout.root, [outcomes[k] for k in sorted(outcomes)],
                    time.perf_counter() - run.started, ex.skipped, interrupted, pending, kept,
                    layout=layout, signum=stop.signum if interrupted else None)
    record = None
    if (run.fingerprint is not None and not interrupted and not result.failed
            and fingerprint.compute(opts, engine, plan.shared_code_hash(engine))
            == run.fingerprint):  # the inputs at the end are those of the start
        record = {"sha256": run.fingerprint,
                  "keys": {aid: entry["cache_key"] for aid, entry in entries.items()}}
    accounts, portfolio_now = _write_manifests(layout, opts, old, result, ex.known, ex.as_of,
                                               engine, record)
    index = layout.index(audience)
    # Nothing rendered, nothing failed, same documents: the index already lists them all.
    if tasks or not index.is_file() or set(old) != set(accounts):
        portfolio_entry = (portfolio_now[0].entry if portfolio_now
                           else old_portfolio.get(PORTFOLIO_ID))
        write_atomic(index, _index(layout, audience, accounts, portfolio_entry,
                                   opts).encode("utf-8"))
    return result


def _write_manifests(layout: QuarterLayout, opts: Options, old: dict[str, dict[str, Any]],
                     result: Result, known: frozenset[str], as_of: dt.date, engine: str,
                     record: dict[str, Any] | None,
                     ) -> tuple[dict[str, dict[str, Any]], list[Outcome]]:
    """Write the audience's manifest (`old` entries updated by `result`, `manifest.accumulate`)
    and, when this run covered it, the portfolio's; returns the audience's entries and the
    portfolio's outcome (empty if not covered)."""
    accounts = manifest.accumulate(old, result, known)
    written = {"selection": opts.accounts, "formats": opts.formats, "as_of": as_of,
               "pdf_engine": engine, "fingerprint": record}
    manifest.write(layout.manifest(opts.audience), accounts, result, audience=opts.audience,
                   **written)
    portfolio_now = [o for o in result.outcomes + result.kept if o.account_id == PORTFOLIO_ID]
    if portfolio_now:
        manifest.write(layout.manifest(PORTFOLIO_ID), {PORTFOLIO_ID: portfolio_now[0].entry},
                       result, audience=opts.audience, **written)
    return accounts, portfolio_now


def _local_workers(opts: Options) -> int:
    """The local pool's processes: ``--workers``, else the machine's cores."""
    return max(1, opts.workers or os.cpu_count() or 1)


def _run_tasks(tasks: list[worker.Task], opts: Options,
               finish: Callable[[worker.TaskResult], None], stop: StopOnSignals) -> bool:
    """Run tasks on a local process pool (or Dask when a scheduler is given); True if a
    stop signal came before every task finished (then nothing more starts)."""
    if stop.requested():
        return bool(tasks)
    if not tasks:
        return False
    try:
        if opts.scheduler:
            from valuelib.batch import cluster as dask_runner

            dask_runner.run(tasks, opts.scheduler, finish,
                            tls=dask_runner.TLSFiles(opts.tls_ca, opts.tls_cert, opts.tls_key),
                            connect_timeout=opts.scheduler_timeout,
                            account_timeout=opts.account_timeout, stop=stop.requested)
        else:
            workers = min(_local_workers(opts), len(tasks))
            pool.run(tasks, workers, finish, max_tasks=opts.max_tasks_per_worker,
                     max_rss_mb=opts.worker_memory_mb, stop=stop.requested,
                     account_timeout=opts.account_timeout)
    except Interrupted:  # a second signal: stop waiting for anything
        pass
    return stop.requested()


def _index(layout: QuarterLayout, audience: str, accounts: dict[str, dict[str, Any]],
           portfolio: dict[str, Any] | None, opts: Options) -> str:
    entries = []
    for e in accounts.values():
        e = dict(e)
        if e.get("status") == "failed":
            e["error"] = (e.get("error") or {}).get("message")
            e["keeps_previous"] = bool(e.get("outputs"))
        entries.append(e)
    if portfolio is not None:
        portfolio = dict(portfolio)
        if portfolio.get("status") == "failed":
            portfolio["error"] = (portfolio.get("error") or {}).get("message")
    from valuelib.batch.index_page import render_index  # nbconvert's Jinja set-up: only when needed

    def href(aid: str, name: str) -> str:
        return layout.href(audience, aid, name)

    return render_index(quarter=layout.quarter, generated_at=manifest.now(), entries=entries,
                        portfolio=portfolio, locale=opts.locale, href=href)


def summary_rows(result: Result) -> list[tuple[str, str]]:
    """Rows of the end-of-run summary table."""
    rows = [
        ("rendered", str(result.count("rendered"))),
        ("unchanged (skipped)", str(result.count("unchanged"))),
        ("failed", str(result.count("failed"))),
        ("not active in quarter", str(len(result.skipped_inactive))),
        ("time", f"{result.seconds:.1f} s"),
    ]
    if result.layout is not None:
        rows += [("to send (customer documents)", str(result.layout.share_dir)),
                 ("internal (never send)", str(result.layout.internal_dir))]
    else:
        rows.append(("output", str(result.out_dir)))
    if result.interrupted:
        rows.insert(3, ("not finished (interrupted)", str(len(result.pending))))
    return rows


__all__ = ["Options", "Outcome", "Result", "render", "summary_rows"]
