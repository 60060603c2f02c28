"""The `valuereview` command: parse the command line and hand over to the batch. Thin on purpose.

Exit status: 0 all rendered; 1 some accounts failed (each named with its cell and error);
2 bad invocation or bad data contract, nothing rendered; 130 (SIGINT, Ctrl-C) or 143
(SIGTERM) interrupted, finished documents kept and recorded, a re-run finishes the job.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from valuelib.render import PDF_ENGINE, PDF_ENGINE_DEFAULT, PDF_ENGINES, tempdirs
from valuelib.render.chromium import PRINT_TIMEOUT

EXIT_OK, EXIT_FAILED, EXIT_BAD = 0, 1, 2


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="valuereview",
        formatter_class=_formatter,
        description="Quarterly customer value reviews: one notebook per account, rendered to "
                    "HTML and PDF, plus the portfolio review.",
        epilog="examples:\n  valuereview demo-data\n"
               "  valuereview import --mapping exports/mapping.yaml\n"
               "  valuereview check-data\n"
               "  valuereview render --quarter 2026Q3 --accounts segment=Enterprise",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    db_help = "warehouse: a DuckDB path or any SQLAlchemy URL (default data/warehouse.duckdb " \
              "or $VALUEREVIEW_DB)"

    demo = sub.add_parser(
        "demo-data", formatter_class=_formatter,
        help="write a deterministic demo warehouse",
        description="Write a believable, deterministic demo warehouse (same seed, same data).",
        epilog="example:\n  valuereview demo-data --accounts 120 --seed 7\n"
               "  valuereview demo-data --db postgresql://user@localhost/reviews",
    )
    demo.add_argument("--accounts", type=int, default=120, help="number of accounts (120)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (7)")
    demo.add_argument("--db", help=db_help)

    imp = sub.add_parser(
        "import", formatter_class=_formatter,
        help="load a team's exports (CSV, Parquet, Excel, JSON lines) into the warehouse",
        description="Load exports into the warehouse's contract tables as a mapping file says "
                    "(docs/import.md): renames, constants, value maps, date formats, the "
                    "account column, and arr_history derived from subscription or invoice "
                    "lines. Each table named in the mapping is replaced, all in one "
                    "transaction. Every rejected row is listed with its file, line and reason "
                    "in the load report (import-report.json beside the mapping, or --report); "
                    "a rejection means nothing is written and exit 1, unless --allow-rejects.",
        epilog="examples:\n  valuereview import --mapping exports/mapping.yaml\n"
               "  valuereview import exports/2026-10/ --mapping mapping.yaml\n"
               "  valuereview import arr_history=stripe.csv --mapping mapping.yaml "
               "--allow-rejects",
    )
    imp.add_argument("sources", nargs="*", metavar="SOURCE",
                     help="a folder (where the mapping's relative sources are looked up), a "
                          "file (goes to the table whose source names it) or TABLE=FILE; "
                          "default: the sources in the mapping, beside it")
    imp.add_argument("--mapping", required=True, metavar="FILE", help="the mapping (YAML)")
    imp.add_argument("--db", help=db_help)
    imp.add_argument("--allow-rejects", action="store_true",
                     help="load the other rows even if some are rejected (exit 0)")
    imp.add_argument("--report", metavar="FILE",
                     help="where to write the load report (import-report.json beside the "
                          "mapping)")

    check = sub.add_parser(
        "check-data", formatter_class=_formatter,
        help="check the warehouse against the data contract",
        description="Check every table, column, account id and value range of the data "
                    "contract (docs/architecture.md) and report every problem at once, then "
                    "list each table's rows and how many accounts have data in it.",
        epilog="example:\n  valuereview check-data --db postgresql://user@localhost/reviews",
    )
    check.add_argument("--db", help=db_help)

    r = sub.add_parser(
        "render", formatter_class=_formatter,
        help="render the quarter's value reviews",
        description="Render every selected account's value review (HTML and PDF under "
                    "OUT/QUARTER/customer/, safe to send; executed notebook and metrics.json "
                    "under OUT/QUARTER/internal/records/), the portfolio review, index.html "
                    "and manifest.json under OUT/QUARTER/internal/. Unchanged accounts are "
                    "skipped.",
        epilog="examples:\n  valuereview render\n"
               "  valuereview render --quarter 2026Q3 --accounts ACC-0001,ACC-0002 "
               "--audience internal\n"
               "  valuereview render --accounts segment=SMB --formats html --workers 4",
    )
    r.add_argument("--quarter", help="quarter like 2026Q3 (default: latest complete quarter)")
    r.add_argument("--accounts", default="all",
                   help="all | ID,ID,... | segment=X (also csm=, industry=, region=)")
    r.add_argument("--audience", choices=("customer", "internal"), default="customer",
                   help="customer (what is sent) or internal (adds health, risks, notes)")
    r.add_argument("--formats", default="html,pdf", help="comma list of html,pdf (html,pdf)")
    r.add_argument("--workers", type=int, default=None, help="local worker processes (cores)")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, tls://HOST:PORT (tcp:// only on a trusted network: "
                        "bundles travel in clear and anyone who reaches it runs code)")
    r.add_argument("--tls-ca", metavar="FILE",
                   help="CA certificate (PEM) of a tls:// cluster (default: Dask's "
                        "distributed.comm.tls.ca-file)")
    r.add_argument("--tls-cert", metavar="FILE",
                   help="this client's certificate (PEM), signed by that CA (default: "
                        "distributed.comm.tls.client.cert)")
    r.add_argument("--tls-key", metavar="FILE",
                   help="its private key, unless appended to --tls-cert (default: "
                        "distributed.comm.tls.client.key)")
    r.add_argument("--scheduler-timeout", type=float, default=10, metavar="S",
                   help="seconds to wait for the Dask scheduler to answer (10)")
    r.add_argument("--db", help=db_help)
    r.add_argument("--out", default="output", help="output folder (output)")
    r.add_argument("--force", action="store_true", help="render even unchanged accounts")
    r.add_argument("--cell-timeout", type=float, default=300,
                   help="seconds one notebook cell may run (300)")
    r.add_argument("--account-timeout", type=float, default=600, metavar="S",
                   help="seconds one account may take to execute and export; past it the "
                        "account fails, keeping its previous outputs, and its worker is "
                        "replaced (600)")
    r.add_argument("--print-timeout", type=float, default=PRINT_TIMEOUT, metavar="S",
                   help="seconds Chromium may take to print one document; a browser that "
                        "hangs for a third of it is replaced and the document printed again "
                        f"({PRINT_TIMEOUT:g})")
    r.add_argument("--worker-tasks", type=int, default=None,
                   help="recycle a worker after this many accounts (50)")
    r.add_argument("--worker-memory-mb", type=float, default=None,
                   help="recycle a worker once its processes pass this memory (1200)")
    r.add_argument("--params", help="folder of parameter YAML files (the project's params/, "
                                    "else the packaged one)")
    r.add_argument("--notebooks", metavar="DIR",
                   help="folder holding value_review.ipynb and portfolio_review.ipynb "
                        "(the project's notebooks/, else the packaged one)")
    r.add_argument("--pdf-engine", choices=(PDF_ENGINE_DEFAULT, *PDF_ENGINES),
                   default=PDF_ENGINE_DEFAULT,
                   help=f"what prints the PDFs: chromium (a headless Chromium, the system's "
                        f"chromium package; faster), {PDF_ENGINE} or {PDF_ENGINE_DEFAULT} "
                        f"(default: chromium when installed, else {PDF_ENGINE})")
    r.add_argument("--no-portfolio", action="store_true", help="skip the portfolio review")
    r.add_argument("--allow-incomplete-quarter", action="store_true",
                   help="render a quarter the data does not reach the end of (the cover "
                        "says the quarter is in progress)")
    r.add_argument("--locale", metavar="TAG",
                   help="BCP 47 tag such as ka-GE: the language and number formats of every "
                        "document and of index.html (default: each account's own locale; "
                        "the index and portfolio review in English)")

    init = sub.add_parser(
        "init", formatter_class=_formatter,
        help="make a new team repository that renders with this valuereview",
        description="Make DIR a team repository: the packaged notebooks/ and params/ to edit "
                    "(they take precedence over the packaged ones), an empty templates/ for a "
                    "template override, a Makefile (make reports, make test), .gitignore, "
                    "requirements.txt and .github/workflows/reports.yml.",
        epilog="example:\n  valuereview init reviews && cd reviews && make reports",
    )
    init.add_argument("dir", metavar="DIR", help="the new repository's folder (empty or new)")
    init.add_argument("--force", action="store_true",
                      help="write into a non-empty DIR, adding only the files it lacks")
    return p


def _err(msg: str) -> None:
    print(f"valuereview: error: {msg}", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    from valuelib.data import demo
    from valuelib.data.warehouse import Warehouse, WarehouseError, resolve_url

    if args.accounts < 1:
        _err("--accounts must be at least 1")
        return EXIT_BAD
    try:
        url = resolve_url(args.db)
        tables = demo.generate(accounts=args.accounts, seed=args.seed)
        with Warehouse(url, read_only=False) as wh:
            demo.write(wh, tables)
            where = wh.display_url
    except WarehouseError as exc:
        _err(str(exc))
        return EXIT_BAD
    rows = ", ".join(f"{name} {len(df)}" for name, df in tables.items())
    print(f"demo warehouse written to {where}: {rows}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from valuelib.data import contract
    from valuelib.data.warehouse import Warehouse, WarehouseError

    try:
        with Warehouse.open(args.db) as wh:
            problems = contract.check(wh)
            covered = contract.coverage(wh)
            where = wh.display_url
    except WarehouseError as exc:
        _err(str(exc))
        return EXIT_BAD
    if problems:
        print(f"{where}: {len(problems)} problem(s) with the data contract:", file=sys.stderr)
        for pr in problems:
            print(f"  - {pr}", file=sys.stderr)
    else:
        print(f"{where}: the data contract holds")
    print(contract.format_coverage(covered))
    return EXIT_BAD if problems else EXIT_OK


#: Rejected rows shown on stderr; the load report lists them all.
_SHOWN_REJECTS = 50


def cmd_import(args: argparse.Namespace) -> int:
    """Import exports as the mapping says; print the counts and every rejection, write the
    report. Exit 0 loaded, 1 rows rejected (nothing written unless --allow-rejects), 2 bad
    mapping, file or warehouse (nothing written)."""
    from valuelib.data.ingest import ImportFailed, run_import
    from valuelib.data.warehouse import WarehouseError

    try:
        result = run_import(args.mapping, args.sources, db=args.db,
                            allow_rejects=args.allow_rejects, report=args.report)
    except (ImportFailed, WarehouseError) as exc:
        _err(f"{exc}; nothing imported")
        return EXIT_BAD
    print(f"import {result.mapping} -> {result.warehouse}")
    for name, t in result.tables.items():
        if t.derived_from:
            what = (f"{t.read} {t.derived_from[:-1]} line(s) read, {t.rejected} rejected, "
                    f"{t.loaded} monthly row(s) loaded (as of {t.as_of})")
        else:
            what = f"{t.read} row(s) read, {t.rejected} rejected, {t.loaded} loaded"
        print(f"  {name}: {what}")
    for r in result.rejected[:_SHOWN_REJECTS]:
        print(f"valuereview: rejected {r.table}: {r.file} line {r.line}: {r.reason}",
              file=sys.stderr)
    if len(result.rejected) > _SHOWN_REJECTS:
        print(f"valuereview: ... and {len(result.rejected) - _SHOWN_REJECTS} more rejected "
              f"row(s), all listed in {result.report_path}", file=sys.stderr)
    print(f"load report: {result.report_path}")
    if result.rejected and not result.written:
        _err(f"{len(result.rejected)} row(s) rejected; nothing was written (fix them, or pass "
             "--allow-rejects to load the other rows)")
        return EXIT_FAILED
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from valuelib.project.init import InitError, init

    try:
        result = init(Path(args.dir), force=args.force)
    except (InitError, OSError) as exc:
        _err(str(exc))
        return EXIT_BAD
    for rel in result.kept:
        print(f"kept {rel} (already there)")
    print(f"{result.root}: wrote {len(result.written)} files; next: cd {result.root} && "
          "make reports")
    return EXIT_OK


def _renders_everything(args: argparse.Namespace) -> bool:
    """Whether this render will surely render every account (forced, or a first render into
    this output folder), so the workers' preloading process may start before anything else."""
    if args.scheduler:
        return False
    from valuelib.batch.layout import QuarterLayout

    pattern = QuarterLayout(Path(), "*").manifest(args.audience)  # */internal/manifest….json
    return bool(args.force) or not any(Path(args.out).glob(str(pattern)))


def _dask_options_bad(args: argparse.Namespace) -> bool:
    """Check --scheduler and the TLS options before any work, printing the error (True) or,
    for a plain TCP scheduler, a warning about what that exposes."""
    if not args.scheduler:  # the Dask runner is not even imported
        if any((args.tls_ca, args.tls_cert, args.tls_key)):
            _err("--tls-ca/--tls-cert/--tls-key need --scheduler tls://HOST:PORT")
            return True
        return False
    from valuelib.batch import cluster as dask_runner

    tls = dask_runner.TLSFiles(args.tls_ca, args.tls_cert, args.tls_key)
    if not args.scheduler_timeout > 0:
        _err("--scheduler-timeout must be more than 0 seconds")
        return True
    try:
        dask_runner.security(args.scheduler, tls)
    except ImportError:
        _err("--scheduler needs Dask: pip install 'valuereview[dask]'")
        return True
    except dask_runner.DaskSetupError as exc:
        _err(f"{exc}; nothing rendered")
        return True
    if dask_runner.clear_text(args.scheduler):
        print("valuereview: warning: "
              + dask_runner.CLEAR_TEXT_WARNING.format(address=args.scheduler), file=sys.stderr)
    return False


def cmd_render(args: argparse.Namespace) -> int:
    """Render with SIGINT and SIGTERM handled from here on (`valuelib.batch.interrupt`): a first one
    stops the batch cleanly at whatever point it has reached."""
    from valuelib.batch.interrupt import Interrupted, StopOnSignals, exit_status

    with StopOnSignals() as stop:
        try:
            code = _cmd_render(args)
        except KeyboardInterrupt as exc:
            print("valuereview: interrupted; run the same command again to finish",
                  file=sys.stderr)
            return exit_status(exc.signum if isinstance(exc, Interrupted) else stop.signum)
        if stop.requested() and code in (EXIT_OK, EXIT_FAILED):
            # Stopped before the batch had anything to stop (or after it had finished).
            print("valuereview: interrupted; run the same command again to finish",
                  file=sys.stderr)
            return exit_status(stop.signum)
        return code


def _cmd_render(args: argparse.Namespace) -> int:
    from valuelib.batch import pool

    if _renders_everything(args):
        try:
            pool.prestart()  # it imports the renderers while this process reads the warehouse
        except tempdirs.TempDirTooLongError as exc:
            _err(str(exc))
            return EXIT_FAILED
    from valuelib.batch import plan

    plan.ask_browser_version(args.pdf_engine)  # read while the rest is imported and checked
    from valuelib.batch import run as batch
    from valuelib.report.i18n import known, normalise

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in plan.FORMATS]
    if not formats or bad:
        _err(f"--formats {args.formats!r}: choose from html,pdf")
        return EXIT_BAD
    if args.workers is not None and args.workers < 1:
        _err("--workers must be at least 1")
        return EXIT_BAD
    if args.cell_timeout is not None and not args.cell_timeout > 0:
        _err(f"--cell-timeout {args.cell_timeout:g}: give a number of seconds above 0")
        return EXIT_BAD
    if not args.accounts.strip():
        _err("--accounts is empty (an unset shell variable?): give all, ID,ID,... or "
             "segment=X, csm=X, industry=X, region=X")
        return EXIT_BAD
    if args.locale is not None:
        if not known(args.locale):
            _err(f"--locale {args.locale!r}: not a BCP 47 tag with CLDR data (e.g. ka-GE, hy)")
            return EXIT_BAD
    if not args.account_timeout > 0:
        _err("--account-timeout must be more than 0 seconds")
        return EXIT_BAD
    if not args.print_timeout > 0:
        _err("--print-timeout must be more than 0 seconds")
        return EXIT_BAD
    if _dask_options_bad(args):
        return EXIT_BAD
    if args.notebooks:
        wanted = [plan.NOTEBOOK] + ([] if args.no_portfolio else [plan.PORTFOLIO_NOTEBOOK])
        missing = [n for n in wanted if not (Path(args.notebooks) / n).is_file()]
        if missing:
            _err(f"--notebooks {args.notebooks}: no {', '.join(missing)} there")
            return EXIT_BAD
    opts = batch.Options(
        quarter=args.quarter, accounts=args.accounts, audience=args.audience, formats=formats,
        workers=args.workers, scheduler=args.scheduler, db=args.db, out=Path(args.out),
        force=args.force, cell_timeout=args.cell_timeout, portfolio=not args.no_portfolio,
        allow_incomplete_quarter=args.allow_incomplete_quarter,
        params_dir=Path(args.params) if args.params else None,
        notebooks=Path(args.notebooks) if args.notebooks else None,
        locale=normalise(args.locale) if args.locale is not None else None,
        account_timeout=args.account_timeout, scheduler_timeout=args.scheduler_timeout,
        tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key,
        pdf_engine=args.pdf_engine, print_timeout=args.print_timeout,
    )
    if args.worker_tasks is not None:
        opts.max_tasks_per_worker = max(1, args.worker_tasks)
    if args.worker_memory_mb is not None:
        opts.worker_memory_mb = args.worker_memory_mb
    progress = _Progress()
    try:
        result = batch.render(opts, progress=progress.update, on_plan=progress.start)
    except (pool.PoolError, tempdirs.TempDirTooLongError) as exc:
        progress.stop()
        _err(str(exc))
        return EXIT_FAILED
    except Exception as exc:
        progress.stop()
        if (code := _refused(exc, dask=bool(args.scheduler))) is None:
            raise
        return code
    finally:
        progress.stop()
    _summary(result)
    for o in result.failed:
        print(f"FAILED {o.account_id}: {o.error}", file=sys.stderr)
    if result.interrupted:
        from valuelib.batch.interrupt import exit_status

        rendered, failed = result.count("rendered"), result.count("failed")
        again = ("Run the same command without --force to finish: what is done is skipped."
                 if args.force else "Run the same command again to finish.")
        print(f"valuereview: interrupted: {rendered + failed} of "
              f"{rendered + failed + len(result.pending)} document(s) done ({rendered} rendered, "
              f"{failed} failed); the {len(result.pending)} not finished keep their previous "
              f"outputs. {again}", file=sys.stderr)
        return exit_status(result.signum)
    return EXIT_FAILED if result.failed else EXIT_OK


def _refused(exc: Exception, *, dask: bool) -> int | None:
    """Print why the warehouse, the selection, the parameters, a catalog or the Dask set-up
    refused the render and return EXIT_BAD; None for any other exception. The exception
    classes are imported here: a re-run with nothing to do never imports pandas."""
    from valuelib.batch.params import ParamsError
    from valuelib.data import contract
    from valuelib.data.extract import SelectionError
    from valuelib.data.warehouse import WarehouseError
    from valuelib.report.i18n import CatalogError

    refused: tuple[type[Exception], ...] = (SelectionError, ParamsError, CatalogError,
                                            WarehouseError)
    if dask:
        from valuelib.batch.cluster import DaskSetupError

        refused = (*refused, DaskSetupError)
    if isinstance(exc, contract.ContractError):
        _err(f"the warehouse breaks the data contract ({len(exc.problems)} problem(s)); "
             "nothing rendered:")
        for pr in exc.problems:
            print(f"  - {pr}", file=sys.stderr)
        return EXIT_BAD
    if isinstance(exc, refused):
        _err(f"{exc}; nothing rendered")
        return EXIT_BAD
    return None


class _Progress:
    """A progress bar on a terminal; one line per finished account otherwise (CI logs)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._bar = None
        self._task = None
        self.done = 0

    def start(self, todo: int) -> None:
        if self.tty and todo:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._bar = Progress("[progress.description]{task.description}", BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("rendering", total=todo)
        elif todo:
            print(f"rendering {todo} document(s)", file=sys.stderr)

    def update(self, outcome) -> None:  # noqa: ANN001 - batch.Outcome
        if outcome.status == "unchanged":
            return
        self.done += 1
        if self._bar is not None:
            self._bar.advance(self._task)
            if outcome.status == "failed":
                self._bar.console.print(f"[red]failed[/red] {outcome.account_id}: {outcome.error}")
        else:
            print(f"{outcome.status:>8} {outcome.account_id} ({outcome.seconds:.1f} s)",
                  file=sys.stderr)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _summary(result) -> None:  # noqa: ANN001 - batch.Result
    from rich.console import Console
    from rich.table import Table

    from valuelib.batch.run import summary_rows

    table = Table(title=f"valuereview {result.quarter}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, n in summary_rows(result):
        table.add_row(what, n)
    Console(file=sys.stdout, width=100).print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `valuereview` console script."""
    from valuelib.batch import interrupt

    interrupt.install_early()  # a Ctrl-C or SIGTERM from here on stops a render cleanly
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command != "render":
        early = interrupt.restore_defaults()
        if early is not None:
            return _exit(interrupt.exit_status(early), argv)
    handler = {"demo-data": cmd_demo, "import": cmd_import, "check-data": cmd_check,
               "render": cmd_render, "init": cmd_init}
    return _exit(handler[args.command](args), argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        _leave(code)
    return code


def _leave(code: int) -> NoReturn:
    """End the console script without tearing the interpreter down module by module (a render
    has imported pandas, DuckDB and nbconvert: about 0.2 s after the work is done). What an
    exit owes is done first: other threads joined, exit handlers run (logging, temporary
    folders, multiprocessing's children), standard output and error flushed."""
    import atexit
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): as Python's own exit does
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    main()
