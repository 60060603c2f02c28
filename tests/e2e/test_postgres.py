"""PostgreSQL for real: a PostgreSQL 15 server in a temporary folder, loaded with the demo
through the README's URL form, checked, rendered, and compared with the same render on DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import QuarterLayout, valuereview, valuereview_each

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ACCOUNTS = ["ACC-0001", "ACC-0002", "ACC-0004"]


@pytest.fixture(scope="module")
def pg_url(pg_server):
    url = pg_server.create_database("valuereview")
    assert url.startswith("postgresql://postgres@127.0.0.1:")  # the README's form
    run = valuereview("demo-data", "--accounts", "30", "--db", url)
    assert run.code == 0, run.stderr
    assert "accounts 30" in run.stdout
    return url


def _render(*targets: tuple[str, Path]) -> list[dict]:
    """Each (warehouse, out) rendered (at the same time), and its accounts' metrics.json."""
    runs = valuereview_each(*(["render", "--db", db, "--out", str(out), "--accounts",
                               ",".join(ACCOUNTS), "--no-portfolio", "--formats", "html"]
                              for db, out in targets))
    found = []
    for run, (_, out) in zip(runs, targets, strict=True):
        assert run.code == 0, run.stderr
        layout = QuarterLayout(out, "2026Q3")
        found.append({a: json.loads(layout.path("customer", a, "metrics.json").read_text())
                      for a in ACCOUNTS})
    return found


def test_demo_data_check_and_render_match_duckdb(pg_url, tmp_path):
    check = valuereview("check-data", "--db", pg_url)
    assert check.code == 0, check.stderr
    assert "the data contract holds" in check.stdout

    duck = tmp_path / "w.duckdb"
    assert valuereview("demo-data", "--accounts", "30", "--db", str(duck)).code == 0
    on_pg, on_duck = _render((pg_url, tmp_path / "pg"), (str(duck), tmp_path / "duck"))
    for aid in ACCOUNTS:
        assert on_pg[aid] == on_duck[aid], f"{aid}: metrics.json differs between databases"


def test_every_postgres_url_form_connects(pg_url):
    rest = pg_url.split("://", 1)[1]
    for scheme in ("postgres", "postgresql+psycopg"):
        check = valuereview("check-data", "--db", f"{scheme}://{rest}")
        assert check.code == 0, check.stderr
        assert check.stdout.startswith(f"{scheme}://postgres@127.0.0.1:")
        assert "the data contract holds" in check.stdout


def test_password_is_never_printed(pg_url, tmp_path):
    secret = "Sw0rdf1sh-q9"
    with_password = pg_url.replace("postgres@", f"postgres:{secret}@")
    check = valuereview("check-data", "--db", with_password)
    assert check.code == 0, check.stderr
    assert secret not in check.stdout and "postgres:***@127.0.0.1" in check.stdout
    # An error from the server, and an unescaped @ that would make the rest look like a host.
    wrong_db = with_password.rsplit("/", 1)[0] + "/no_such_db"
    at_sign = with_password.replace(secret, f"{secret}@x")
    in_query = pg_url.rsplit("/", 1)[0] + f"/no_such_db?password={secret}"
    for url in (wrong_db, at_sign, in_query):
        run = valuereview("render", "--db", url, "--out", str(tmp_path / "out"))
        assert run.code == 2, run.stderr
        assert secret not in run.stdout + run.stderr
        assert "cannot connect to warehouse" in run.stderr and "***" in run.stderr
    assert not (tmp_path / "out").exists()


def test_bad_data_on_postgres_is_reported(pg_url):
    import sqlalchemy as sa

    from valuelib.data.warehouse import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bad_copy AS SELECT * FROM nps_responses"))
        conn.execute(sa.text("UPDATE nps_responses SET score = 12 "
                             "WHERE account_id = 'ACC-0002'"))
    try:
        check = valuereview("check-data", "--db", pg_url)
        assert check.code == 2
        assert "nps_responses.score" in check.stderr and "ACC-0002" in check.stderr
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE nps_responses"))
            conn.execute(sa.text("ALTER TABLE bad_copy RENAME TO nps_responses"))
        engine.dispose()


def test_selector_is_a_bound_parameter_on_postgres(pg_url, tmp_path):
    run = valuereview("render", "--db", pg_url, "--out", str(tmp_path),
                      "--accounts", "segment=x' OR '1'='1")
    assert run.code == 2
    assert "no account has segment" in run.stderr
