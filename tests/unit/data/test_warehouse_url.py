"""Warehouse URLs as users write them: the PostgreSQL forms pick psycopg 3, a driver that is
not installed is named with its package, and no message shows a password."""

from __future__ import annotations

import importlib.util

import pytest
import sqlalchemy as sa
from support import valuereview

from valuelib.data.warehouse import _redact, sqlalchemy_url

SECRET = "Sw0rdf1sh-q9"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgres_url_forms_use_psycopg_3(scheme):
    url = sqlalchemy_url(f"{scheme}://reviews:{SECRET}@db.internal:5433/warehouse")
    engine = sa.create_engine(url)  # builds the dialect and imports the driver; no connection
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    assert (engine.url.host, engine.url.port, engine.url.database) == (
        "db.internal", 5433, "warehouse")
    assert engine.url.password == SECRET


def test_other_urls_are_left_alone():
    for url in ("postgresql+psycopg2://u@h/db", "sqlite:///x.db", "mysql+pymysql://u@h/db"):
        assert sqlalchemy_url(url) == url
    assert sqlalchemy_url("postgres+pg8000://u@h/db") == "postgresql+pg8000://u@h/db"


@pytest.mark.parametrize(("url", "shown"), [
    (f"postgresql://reviews:{SECRET}@db/w", "postgresql://reviews:***@db/w"),
    (f"postgresql://reviews:{SECRET}@x@db/w", "postgresql://reviews:***@db/w"),
    (f"postgresql://reviews:a/{SECRET}@db/w", "postgresql://reviews:***@db/w"),
    (f"postgresql://reviews@db/w?sslmode=require&password={SECRET}",
     "postgresql://reviews@db/w?sslmode=require&password=***"),
    (f"snowflake://reviews@acct/db?token={SECRET}", "snowflake://reviews@acct/db?token=***"),
    ("postgresql://reviews@db/w?x=a@b", "postgresql://reviews@db/w?x=a@b"),
])
def test_redact_hides_every_password(url, shown):
    assert _redact(url) == shown


def _refused(*args: str) -> str:
    run = valuereview(*args)
    assert run.code == 2, (run.code, run.stdout, run.stderr)
    assert SECRET not in run.stdout + run.stderr
    return run.stderr


def test_missing_driver_names_its_package(tmp_path):
    url = f"mysql+pymysql://reviews:{SECRET}@db.internal/warehouse"
    err = _refused("render", "--db", url, "--out", str(tmp_path / "out"))
    assert "mysql+pymysql://reviews:***@db.internal/warehouse" in err
    assert "driver is not installed (Python module 'pymysql')" in err
    assert "pip install 'PyMySQL'" in err and err.rstrip().endswith("nothing rendered")
    assert not (tmp_path / "out").exists()
    err = _refused("check-data", "--db", url)
    assert "pip install 'PyMySQL'" in err


def test_psycopg2_url_says_what_to_install():
    if importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed here, so its URL does not fail")
    err = _refused("check-data", "--db", f"postgresql+psycopg2://reviews:{SECRET}@db/w")
    assert "Python module 'psycopg2'" in err and "pip install 'psycopg2-binary'" in err
    assert "postgresql://... uses psycopg 3" in err


def test_unknown_dialect_is_refused():
    err = _refused("check-data", "--db", f"snowflake://reviews:{SECRET}@acct/db")
    assert "no database dialect 'snowflake'" in err and "pip install snowflake-sqlalchemy" in err
