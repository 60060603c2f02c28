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
import functools
import hashlib
import importlib.metadata
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import valuelib
from valuelib.batch import params, pool, worker
from valuelib.batch.interrupt import Interrupted, StopOnSignals
from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout
from valuelib.data import contract, extract, schema
from valuelib.data.bundle import sha256, write_atomic
from valuelib.data.warehouse import Warehouse, project_root
from valuelib.project import resources
from valuelib.render import PDF_ENGINE
from valuelib.render.chromium import resolve_engine
from valuelib.render.templates import TEMPLATE_DIR
from valuelib.report import fonts, i18n

NOTEBOOK = "value_review.ipynb"
PORTFOLIO_NOTEBOOK = "portfolio_review.ipynb"
FORMATS = ("html", "pdf")
#: Libraries whose version changes what a document looks like: part of every cache key.
DOCUMENT_LIBRARIES = ("nbconvert", "weasyprint", "pydyf", "fonttools", "matplotlib", "seaborn",
                      "pandas", "babel")


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
    allow_incomplete_quarter: bool = False
    locale: str | None = None  # --locale: the language and formats of every document and index
    max_tasks_per_worker: int = pool.DEFAULT_MAX_TASKS
    worker_memory_mb: float = pool.DEFAULT_MAX_RSS_MB
    account_timeout: float | None = 600  # execute + export of one account, on either runner
    scheduler_timeout: float = 10  # seconds to connect to the Dask scheduler
    tls_ca: str | None = None  # Dask TLS files; Dask's distributed.comm.tls.* config if None
    tls_cert: str | None = None
    tls_key: str | None = None
    pdf_engine: str = PDF_ENGINE  # --pdf-engine: weasyprint | chromium | auto


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
    layout: QuarterLayout | None = None
    #: The signal that stopped the run (SIGINT, SIGTERM), when `interrupted`.
    signum: int | None = None

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


@functools.cache
def library_versions() -> dict[str, str]:
    """The installed version of each of DOCUMENT_LIBRARIES (read from package metadata once
    per process: a run needs them twice, for the reviews and the portfolio)."""
    versions = {}
    for name in DOCUMENT_LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def code_hash(root: Path, notebook: Path, pdf_engine: str = PDF_ENGINE) -> str:
    """Hash of what shapes every document alike: notebook, template, valuelib source, the
    bundled fonts, the rendering libraries' versions and the PDF engine (once per run)."""
    template = list(TEMPLATE_DIR.rglob("*"))  # the project's or the packaged one
    source = list(Path(valuelib.__file__).parent.rglob("*.py"))
    h = hashlib.sha256()
    h.update(valuelib.__version__.encode())
    h.update(notebook.read_bytes())
    h.update(_tree_hash(template).encode())
    h.update(_tree_hash(source).encode())
    h.update(fonts.digest().encode())
    h.update(json.dumps({"pdf_engine": pdf_engine, "libraries": library_versions()},
                        sort_keys=True).encode())
    return h.hexdigest()


def catalog_hash(language: str) -> str:
    """Hash of the compiled message catalog a document in `language` is written from (empty
    for English, which has none)."""
    path = i18n.catalog_path(language)
    return sha256(path.read_bytes()) if path is not None else ""


class _Catalogs:
    """A document tag → its language's catalog hash; each tag resolved and each catalog read
    once per run."""

    def __init__(self) -> None:
        self._by_tag: dict[str | None, str] = {}
        self._by_language: dict[str, str] = {}

    def for_tag(self, tag: str | None) -> str:
        if tag not in self._by_tag:
            language = i18n.catalog_language(tag)
            if language not in self._by_language:
                self._by_language[language] = catalog_hash(language)
            self._by_tag[tag] = self._by_language[language]
        return self._by_tag[tag]


def cache_key(bundle_hash: str, code: str, parameters: dict[str, Any],
              formats: tuple[str, ...], *, catalog: str = "",
              locale: str | None = None) -> str:
    """A document's cache key: its bundle, `code_hash`, its parameters and formats, the hash
    of its language's catalog (`catalog_hash`) and the run's --locale override."""
    payload = json.dumps({"bundle": bundle_hash, "code": code, "params": parameters,
                          "formats": sorted(formats), "catalog": catalog,
                          "locale": locale}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _file_names(stem: str, formats: tuple[str, ...]) -> list[str]:
    names = [f"{stem}.{fmt}" for fmt in formats] + [f"{stem}.ipynb"]
    return names + (["metrics.json"] if stem == "value-review" else [])


def _write_outputs(layout: QuarterLayout, audience: str, account_id: str,
                   files: dict[str, bytes]) -> dict[str, str]:
    """Write each file atomically where the layout puts it; returns name → sha256."""
    hashes = {}
    for name, data in files.items():
        write_atomic(layout.path(audience, account_id, name), data)
        hashes[name] = sha256(data)
    return hashes


#: The figures of a review that the index shows, by their keys in metrics.json.
INDEX_FIGURES = ("value_quarter", "roi_multiple", "utilisation", "nps", "arr", "tenure")


def _headline(metrics_json: dict[str, Any] | None, field: str = "display") -> dict[str, Any]:
    """The index's figures of one review, label → `field` (as shown, or the raw value)."""
    if not metrics_json:
        return {}
    figs = metrics_json.get("figures", {})
    return {figs[k]["label"]: figs[k].get(field) for k in INDEX_FIGURES if k in figs}


def render(opts: Options, progress: Callable[[Outcome], None] | None = None,
           on_plan: Callable[[int], None] | None = None) -> Result:
    """Render the quarter per `opts`; see module docstring. Raises on a bad contract/selection.

    A first SIGINT or SIGTERM at any point stops it cleanly (`valuelib.batch.interrupt`): no account
    starts after it, and the manifest and index are written for what finished."""
    with StopOnSignals() as stop:
        return _render(opts, progress, on_plan, stop)


def _render(opts: Options, progress: Callable[[Outcome], None] | None,
            on_plan: Callable[[int], None] | None, stop: StopOnSignals) -> Result:
    t0 = time.perf_counter()
    from valuelib.report.i18n import check_catalogs

    check_catalogs()  # a catalog gettext cannot load stops the batch before anything renders
    root = opts.root
    nb_dir = opts.notebooks or resources.folder("notebooks")
    notebook = nb_dir / NOTEBOOK
    portfolio_nb = nb_dir / PORTFOLIO_NOTEBOOK
    params_dir = opts.params_dir or resources.folder("params")
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
        quarter, _ = extract.resolve_quarter(wh, opts.quarter,
                                             allow_incomplete=opts.allow_incomplete_quarter)
        layout = QuarterLayout(opts.out.resolve(), quarter)
        if not opts.scheduler and (opts.force or not layout.manifest(audience).exists()):
            # Every account will be rendered: let the workers' preloading process import
            # while the warehouse is read (a re-run may have nothing to do, so it waits).
            pool.prestart()
        # Bundles stay in memory: nothing but documents and records is written under --out.
        ex = extract.run(wh, None, quarter=quarter, selector=opts.accounts,
                         audience=audience, portfolio=opts.portfolio)

    old = _load_manifest(layout.manifest(audience)).get("accounts", {})
    old_portfolio = _load_manifest(layout.manifest(PORTFOLIO_ID)).get("accounts", {})
    engine = resolve_engine(opts.pdf_engine)
    code = code_hash(root, notebook, engine)
    catalogs = _Catalogs()
    tasks: list[worker.Task] = []
    outcomes: dict[str, Outcome] = {}
    entries: dict[str, dict[str, Any]] = {}
    names = _file_names("value-review", opts.formats)
    for aid, data in ex.data.items():
        if not schema.ACCOUNT_ID_RE.match(aid):  # contract.require refuses these already
            raise ValueError(f"account id {aid!r} is not safe as a file name")
        p = params.for_account(defaults, overrides, aid)
        if opts.locale:
            p["locale"] = opts.locale
        key = cache_key(ex.hashes[aid], code, {**p, "audience": audience}, opts.formats,
                        catalog=catalogs.for_tag(p.get("locale") or ex.locales.get(aid)),
                        locale=opts.locale)
        prev = old.get(aid, {})
        entry = {"account_id": aid, **ex.names[aid], "cache_key": key,
                 "bundle_sha256": ex.hashes[aid], "audience": audience,
                 "formats": list(opts.formats)}
        entries[aid] = entry
        if (not opts.force and prev.get("cache_key") == key and prev.get("status") != "failed"
                and all(layout.path(audience, aid, n).is_file() for n in names)):
            outcomes[aid] = Outcome(aid, "unchanged", entry={**prev, "status": "unchanged"})
            continue
        parameters = {**p, "account_id": aid, "quarter": quarter,
                      "bundle": worker.BUNDLE_NAME, "audience": audience}
        tasks.append(worker.Task(aid, "value-review", str(notebook), parameters,
                                 data, opts.formats, opts.cell_timeout, engine))

    if opts.portfolio and opts.locale:
        portfolio_params = {**portfolio_params, "locale": opts.locale}
    if opts.portfolio:
        assert ex.portfolio_data is not None
        pkey = cache_key(ex.portfolio_hash, code_hash(root, portfolio_nb, engine), portfolio_params,
                         opts.formats, catalog=catalogs.for_tag(portfolio_params.get("locale")),
                         locale=opts.locale)
        prev = old_portfolio.get(PORTFOLIO_ID, {})
        entries[PORTFOLIO_ID] = {"account_id": PORTFOLIO_ID, "cache_key": pkey,
                                 "bundle_sha256": ex.portfolio_hash,
                                 "formats": list(opts.formats)}
        p_names = _file_names("portfolio-review", opts.formats)
        if (not opts.force and prev.get("cache_key") == pkey and prev.get("status") != "failed"
                and all(layout.path(audience, PORTFOLIO_ID, n).is_file() for n in p_names)):
            outcomes[PORTFOLIO_ID] = Outcome(PORTFOLIO_ID, "unchanged",
                                             entry={**prev, "status": "unchanged"})
        else:
            tasks.append(worker.Task(PORTFOLIO_ID, "portfolio-review", str(portfolio_nb),
                                     {**portfolio_params, "quarter": quarter,
                                      "bundle": worker.BUNDLE_NAME},
                                     ex.portfolio_data, opts.formats, opts.cell_timeout,
                                     engine))

    if on_plan:
        on_plan(len(tasks))
    for outcome in outcomes.values():
        if progress:
            progress(outcome)

    run_started = _now()

    def finish(res: worker.TaskResult) -> None:
        aid = res.account_id
        entry = entries[aid]
        prev = (old_portfolio if aid == PORTFOLIO_ID else old).get(aid, {})
        timings = {k: round(v, 3) for k, v in res.timings.items()}
        if res.ok:
            hashes = _write_outputs(layout, audience, aid, res.files)
            layout.path(audience, aid, f"{res.stem}.error.ipynb").unlink(missing_ok=True)
            entry.update(status="rendered", outputs=hashes, timings=timings, error=None,
                         headline=_headline(res.metrics),
                         headline_values=_headline(res.metrics, "value"),
                         rendered_at=_now(), run=run_started)
            outcome = Outcome(aid, "rendered", res.seconds, entry=entry)
        else:
            kept = {}
            if res.failed_notebook is not None:
                kept = _write_outputs(layout, audience, aid,
                                      {f"{res.stem}.error.ipynb": res.failed_notebook})
            entry.update(status="failed", timings=timings,
                         error={"message": res.error, "cell": res.cell,
                                "notebook": next(iter(kept), None)},
                         outputs=prev.get("outputs", {}), headline=prev.get("headline", {}),
                         headline_values=prev.get("headline_values", {}),
                         rendered_at=prev.get("rendered_at"), run=run_started,
                         cache_key=None, failed_at=_now())
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
                    time.perf_counter() - t0, ex.skipped, interrupted, pending, kept,
                    layout=layout, signum=stop.signum if interrupted else None)
    accounts = _accumulate(old, result, ex.known)
    _write_manifest(layout.manifest(audience), accounts, result, opts, ex)
    portfolio_now = [o for o in result.outcomes + result.kept if o.account_id == PORTFOLIO_ID]
    if portfolio_now:
        _write_manifest(layout.manifest(PORTFOLIO_ID), {PORTFOLIO_ID: portfolio_now[0].entry},
                        result, opts, ex)
    index = layout.index(audience)
    # Nothing rendered, nothing failed, same documents: the index already lists them all.
    if tasks or not index.is_file() or set(old) != set(accounts):
        portfolio_entry = (portfolio_now[0].entry if portfolio_now
                           else old_portfolio.get(PORTFOLIO_ID))
        write_atomic(index, _index(layout, audience, accounts, portfolio_entry,
                                   opts).encode("utf-8"))
    return result


def _accumulate(old: dict[str, dict[str, Any]], result: Result,
                known: frozenset[str]) -> dict[str, dict[str, Any]]:
    """The quarter's manifest entries after this run: this run's accounts updated, every
    other account's entry kept as it was, marked when its account left the warehouse."""
    accounts = {aid: dict(e) for aid, e in old.items()}
    for o in result.outcomes + result.kept:
        if o.account_id != PORTFOLIO_ID:
            accounts[o.account_id] = {**o.entry, "status": o.status}
    for aid, entry in accounts.items():
        if aid in known:
            entry.pop("not_in_warehouse", None)
        else:
            entry["not_in_warehouse"] = True
    return dict(sorted(accounts.items()))


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
            workers = max(1, min(opts.workers or os.cpu_count() or 1, len(tasks)))
            pool.run(tasks, workers, finish, max_tasks=opts.max_tasks_per_worker,
                     max_rss_mb=opts.worker_memory_mb, stop=stop.requested,
                     account_timeout=opts.account_timeout)
    except Interrupted:  # a second signal: stop waiting for anything
        pass
    return stop.requested()


def _now() -> str:
    """The time recorded in manifests and shown on the index: now, or `SOURCE_DATE_EPOCH` when
    set (the reproducible-builds convention), so a rebuild can be compared byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit()
            else dt.datetime.now(dt.UTC))
    return when.isoformat(timespec="seconds")


def _write_manifest(path: Path, accounts: dict[str, dict[str, Any]], result: Result,
                    opts: Options, ex: extract.Extract) -> None:
    data = {
        "quarter": result.quarter,
        "as_of": ex.as_of.isoformat(),
        "audience": PORTFOLIO_ID if PORTFOLIO_ID in accounts else opts.audience,
        "valuelib_version": valuelib.__version__,
        "generated_at": _now(),
        "last_run": {
            "accounts": opts.accounts,
            "formats": list(opts.formats),
            "pdf_engine": resolve_engine(opts.pdf_engine),
            "summary": {s: result.count(s) for s in ("rendered", "unchanged", "failed")},
            "not_reviewed": result.skipped_inactive,
        },
        "accounts": accounts,
    }
    if result.interrupted:
        data["last_run"]["interrupted"] = {"pending": result.pending}
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str).encode())


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

    return render_index(quarter=layout.quarter, generated_at=_now(), entries=entries,
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
