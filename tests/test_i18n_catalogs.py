"""Catalogs that cannot be half-used: a compiled catalog gettext cannot load is refused, naming
its file, before a batch renders anything."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import ROOT, valuereview

from valuelib import i18n

LOCALE = Path("valuelib") / "locale"


def _po(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def copy_project(dest: Path) -> Path:
    """The project's files (tracked, and new ones git does not ignore) copied to `dest`, with
    `.venv` linked to the virtualenv running the tests, so the copy runs as a checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
    )
    if listed.returncode != 0:
        pytest.skip("needs a git checkout to copy the project's files")
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to(sys.prefix)
    return dest


# ------------------------------------------------------------------ a broken compiled catalog


def _mo(tmp_path: Path, header: str, name: str = "x.mo") -> Path:
    """A one-message .mo file whose header is `header`."""
    catalog = read_po(
        iter(
            [
                'msgid ""\n',
                'msgstr ""\n',
                '"Content-Type: text/plain; charset=utf-8\\n"\n',
                f'"{header}\\n"\n',
                "\n",
                'msgid "Adoption"\n',
                'msgstr "Amfani"\n',
            ]
        )
    )
    path = tmp_path / name
    with open(path, "wb") as fh:
        write_mo(fh, catalog)  # Babel's compiler, so this tests loading alone
    return path


def test_loading_a_catalog_gettext_cannot_use_names_the_file(tmp_path):
    good = _mo(tmp_path, "Plural-Forms: nplurals=2; plural=(n > 1);")
    assert i18n.load_catalog(good).gettext("Adoption") == "Amfani"
    cases = {
        "Plural-Forms: nplurals=2; plural=(e == 1);": "invalid token in plural form: e",
        "Plural-Forms: nplurals=2; plural=(n > 1 ? 2 : 0);": "gives form 2 for 2",
        "Plural-Forms: nplurals=2; plural=(n % 0);": "fails for 0",
        "Project-Id-Version: x 1": "no Plural-Forms header",
    }
    for i, (header, what) in enumerate(cases.items()):
        path = _mo(tmp_path, header, f"bad{i}.mo")
        with pytest.raises(i18n.CatalogError) as err:
            i18n.load_catalog(path)
        assert str(err.value).startswith(f"{path}: ") and what in str(err.value), header
    truncated = tmp_path / "truncated.mo"
    truncated.write_bytes(good.read_bytes()[:40])
    garbage = tmp_path / "garbage.mo"
    garbage.write_bytes(b"not a catalog at all")
    for path in (truncated, garbage):
        with pytest.raises(i18n.CatalogError, match=re.escape(f"{path}: gettext cannot load it")):
            i18n.load_catalog(path)


def test_a_broken_compiled_catalog_stops_the_render_naming_the_file(tmp_path, demo_db):
    copy = copy_project(tmp_path / "project")
    mo = copy / _po("ka").with_suffix(".mo")
    data = mo.read_bytes()
    assert data.count(b"plural=(((n == 1))") == 1
    mo.write_bytes(data.replace(b"plural=(((n == 1))", b"plural=(((e == 1))"))
    out = tmp_path / "out"
    run = valuereview(
        "render", "--db", str(demo_db), "--out", str(out), "--accounts", "ACC-0001",
        "--locale", "ka-GE", "--formats", "html", "--no-portfolio",
        cwd=copy, env={"PYTHONPATH": str(copy)},
    )
    assert run.code == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith(
        f"valuereview: error: {mo}: gettext cannot load it (invalid token in plural form: e); "
        f"fix {mo.with_suffix('.po')} and run make i18n; nothing rendered"
    )
    assert not out.exists() or not list(out.rglob("*.html"))
