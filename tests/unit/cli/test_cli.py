"""The `valuereview` command: help, exit statuses and messages for bad invocations."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from support import ROOT, QuarterLayout, valuereview


@pytest.mark.parametrize("command", [[], ["demo-data"], ["check-data"], ["render"]])
def test_every_command_has_help_with_an_example(command):
    run = valuereview(*command, "--help")
    assert run.code == 0
    assert "example" in run.stdout
    assert "usage: valuereview" in run.stdout


def test_check_data_passes_on_the_demo(demo_db):
    run = valuereview("check-data", "--db", str(demo_db))
    assert run.code == 0, run.stderr
    assert "the data contract holds" in run.stdout


def test_check_data_reports_every_problem_with_exit_2(tmp_path, demo_db):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(demo_db, broken)
    con = duckdb.connect(str(broken))
    con.execute("UPDATE nps_responses SET score = 11 WHERE account_id = 'ACC-0003'")
    con.execute("UPDATE arr_history SET arr = -5 WHERE account_id = 'ACC-0005'")
    con.execute("ALTER TABLE usage DROP COLUMN events")
    con.close()
    run = valuereview("check-data", "--db", str(broken))
    assert run.code == 2
    assert "nps_responses.score" in run.stderr and "ACC-0003" in run.stderr
    assert "arr_history.arr" in run.stderr and "ACC-0005" in run.stderr
    assert "usage" in run.stderr and "events" in run.stderr
    # render refuses the same warehouse and renders nothing
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(broken), "--out", str(out))
    assert run.code == 2
    assert "breaks the data contract" in run.stderr and "nothing rendered" in run.stderr
    assert not out.exists() or not list(out.rglob("*.html"))


def test_missing_warehouse_says_how_to_make_one(tmp_path):
    run = valuereview("render", "--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path))
    assert run.code == 2
    assert "valuereview demo-data" in run.stderr


@pytest.mark.parametrize("args, message", [
    (["--accounts", "x' OR '1'='1"], "is not an account id"),
    (["--accounts", "../../etc"], "is not an account id"),
    (["--accounts", "ACC-9999"], "no account with id ACC-9999"),
    (["--quarter", "2030Q1"], "no data for it"),
    (["--quarter", "Q3-2026"], "not a quarter like 2026Q3"),
    (["--formats", "html,docx"], "--formats"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--accounts", ""], "--accounts is empty"),
    (["--accounts", " , "], "names no account"),
    (["--accounts", "foo=bar"], "'foo' is not a selector; choose all, ID,ID,... or segment=X, "
                                "csm=X, industry=X, region=X"),
    (["--cell-timeout", "0"], "--cell-timeout 0: give a number of seconds above 0"),
    (["--cell-timeout", "-1"], "--cell-timeout -1: give a number of seconds above 0"),
    (["--locale", "ka-GE; rm"], "--locale 'ka-GE; rm': not a BCP 47 tag"),
    (["--quarter", "2026Q4"], "--quarter 2026Q4 is not complete: the data runs to 2026-10-31 "
                              "and the quarter ends 2026-12-31; add --allow-incomplete-quarter"),
])
def test_bad_render_invocations_exit_2_with_a_clear_message(demo_db, tmp_path, args, message):
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(demo_db), "--out", str(out), *args)
    assert run.code == 2, run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists() or not list(out.rglob("*.html"))


def test_unknown_audience_is_a_usage_error(demo_db, tmp_path):
    run = valuereview("render", "--db", str(demo_db), "--audience", "everyone")
    assert run.code == 2 and "invalid choice" in run.stderr


@pytest.mark.parametrize("content, message", [
    ("prepared_by: [unclosed\n", "malformed YAML"),
    ("colour_scheme: teal\n", "unknown parameter 'colour_scheme'"),
    ("account_id: ACC-0002\n", "set by valuereview itself"),
])
def test_bad_params_files_exit_2_naming_file_and_key(demo_db, tmp_path, content, message):
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "defaults.yaml").write_text(content)
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(demo_db), "--out", str(out), "--params", str(params),
                      "--accounts", "ACC-0001")
    assert run.code == 2, run.stderr
    assert message in run.stderr and "defaults.yaml" in run.stderr
    assert not out.exists() or not list(out.rglob("*.html"))


@pytest.mark.slow
def test_an_incomplete_quarter_renders_only_when_allowed_and_says_so(demo_db, tmp_path):
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(demo_db), "--out", str(out), "--quarter", "2026Q4",
                      "--accounts", "ACC-0001", "--formats", "html", "--no-portfolio",
                      "--allow-incomplete-quarter")
    assert run.code == 0, run.stderr
    doc = QuarterLayout(out, "2026Q4").path("customer", "ACC-0001", "value-review.html")
    text = doc.read_text(encoding="utf-8")
    assert "(quarter in progress: figures cover the quarter up to this date)" in text


def test_no_temporary_folder_short_enough_for_sockets_exits_1_naming_tmpdir(
        demo_db, tmp_path, monkeypatch, capsys):
    """With TMPDIR too long for the render's Unix sockets and no system folder to fall back
    on, the render stops before it starts anything, with a message naming TMPDIR."""
    import tempfile

    from valuelib import cli
    from valuelib.render import tempdirs

    long = tmp_path / ("t" * tempdirs.SUN_PATH_MAX)
    long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    monkeypatch.setattr(tempdirs, "FALLBACKS", (str(tmp_path / "missing"),))
    out = tmp_path / "out"
    code = cli.main(["render", "--db", str(demo_db), "--out", str(out), "--accounts",
                     "ACC-0001", "--formats", "html", "--no-portfolio"])
    assert code == cli.EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"valuereview: error: the temporary folder {str(long)!r} (TMPDIR) is too "
                   "long for the Unix sockets the render makes under it (a socket's path holds "
                   f"at most 107 bytes), and none of {tmp_path / 'missing'} is a writable "
                   "folder short enough: set TMPDIR to a shorter folder"]
    assert not out.exists() and list(long.iterdir()) == []


def test_the_console_script_exits_with_its_status_after_what_an_exit_owes(tmp_path):
    """`valuereview` leaves without the interpreter's module-by-module teardown, but only
    after joining its threads, running its exit handlers and flushing what it printed."""
    import subprocess
    import sys

    marker = tmp_path / "handler-ran"
    code = (
        "import atexit, pathlib, sys, threading, time\n"
        "from valuelib import cli\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))).start()\n"
        "print('unflushed', end='', flush=False)\n"
        "sys.stderr.write('to stderr')\n"
        "cli._leave(3)\n"
        "print('never')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 3
    assert "unflushed" in run.stdout and "thread done" in run.stdout
    assert "never" not in run.stdout
    assert run.stderr == "to stderr"
    assert marker.read_text() == "yes"
