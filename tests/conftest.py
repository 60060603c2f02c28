"""Shared fixtures: a demo warehouse, one real render of a few accounts reused by tests, and one
PostgreSQL server.

Rendering is the slow part (a kernel, charts and a PDF per account), so the end-to-end tests
share one batch per audience and assert on its files. Helpers live in `support`.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from support import DEMO_ACCOUNTS, E2E_ACCOUNTS, E2E_INTERNAL, Rendered, valuereview
from support import postgres as pgserver


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A demo warehouse of DEMO_ACCOUNTS accounts (fixed seed), built once per session."""
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    run = valuereview("demo-data", "--accounts", str(DEMO_ACCOUNTS), "--db", str(path))
    assert run.code == 0, run.stderr
    return path


def _render(out: Path, demo_db: Path, audience: str, accounts: list[str],
            portfolio: bool) -> Rendered:
    args = ["render", "--db", str(demo_db), "--out", str(out), "--audience", audience,
            "--accounts", ",".join(accounts)]
    if not portfolio:
        args.append("--no-portfolio")
    run = valuereview(*args)
    quarters = [p for p in out.iterdir() if p.is_dir()]
    assert run.code == 0, f"render failed ({run.code}):\n{run.stdout}\n{run.stderr}"
    assert len(quarters) == 1
    return Rendered(out, quarters[0], run, demo_db, audience)


@pytest.fixture(scope="session")
def _internal_render(tmp_path_factory, demo_db) -> Iterator[Future[Rendered]]:
    """The internal render, started in the background together with the customer one (each
    spends time on a single core: two overlap on two cores)."""
    out = tmp_path_factory.mktemp("out-internal")
    with ThreadPoolExecutor(max_workers=1) as background:
        yield background.submit(_render, out, demo_db, "internal", E2E_INTERNAL, False)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, demo_db, _internal_render) -> Rendered:
    """Customer reviews of the hard cases and one account per language, plus the portfolio
    review, printed by the default engine (auto: Chromium where installed)."""
    out = tmp_path_factory.mktemp("out-customer")
    return _render(out, demo_db, "customer", E2E_ACCOUNTS, portfolio=True)


@pytest.fixture(scope="session")
def rendered_internal(_internal_render) -> Rendered:
    """Internal reviews of two accounts (no portfolio)."""
    return _internal_render.result()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.Server]:
    """One PostgreSQL 15 server for the session (starting one takes seconds); each module that
    uses it creates a database of its own. Skips (fails in CI) without the server binaries."""
    with pgserver.server() as server:
        yield server
