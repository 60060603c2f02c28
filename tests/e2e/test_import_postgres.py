"""`valuereview import` into PostgreSQL: the quickstart loads, and a write that fails part-way
rolls back every table of the import (one transaction)."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from support import ROOT

from valuelib import cli
from valuelib.data.warehouse import Warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

QUICKSTART = ROOT / "examples" / "quickstart"


@pytest.fixture(scope="module")
def pg_url(pg_server):
    return pg_server.create_database("imports")


def _contents(url: str) -> dict[str, list]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {n: sorted(map(tuple, conn.execute(sa.text(f'SELECT * FROM "{n}"'))))
                    for n in sorted(names)}
    finally:
        engine.dispose()


def test_quickstart_into_postgres_and_rollback(pg_url, tmp_path, monkeypatch):
    folder = tmp_path / "my-team"
    shutil.copytree(QUICKSTART, folder)
    args = ["import", "--mapping", str(folder / "mapping.yaml"), "--db", pg_url]
    assert cli.main(args) == 0
    before = _contents(pg_url)
    assert len(before["accounts"]) == 4 and len(before["nps_responses"]) == 9
    assert cli.main(args) == 0
    assert _contents(pg_url) == before  # idempotent

    (folder / "accounts.csv").write_text((folder / "accounts.csv").read_text().replace(
        "Northwind Traders", "Northwind Renamed"))
    real = Warehouse._sql_replace

    def fail_on_nps(self, conn, name, df, types):
        if name == "nps_responses":
            raise RuntimeError("connection lost (simulated)")
        return real(self, conn, name, df, types)

    monkeypatch.setattr(Warehouse, "_sql_replace", fail_on_nps)
    with pytest.raises(RuntimeError):
        cli.main(args)
    monkeypatch.undo()
    assert _contents(pg_url) == before  # accounts was replaced, then rolled back
