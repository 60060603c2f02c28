"""Documents that render the same bytes on any machine: the bundled fonts (and only they) draw
every character of every language, no clock, host or path enters a document, and the cache key
covers what shapes a document (catalogs, fonts, library versions, the --locale override)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from support import ACCOUNTS, E2E_ACCOUNTS, LANGUAGES, ROOT, Rendered, pdf_pages, valuereview
from support.pdf import embedded_fonts

from valuelib.batch import plan, pool, worker
from valuelib.batch import run as batch
from valuelib.render import chromium, tempdirs
from valuelib.report import fonts, i18n

# ----------------------------------------------------------------------------- the fonts


def _family(path: Path) -> str:
    return TTFont(str(path), lazy=True)["name"].getDebugName(1)


def test_every_declared_face_is_a_bundled_file_named_with_the_prefix():
    for face in fonts.FACES:
        path = fonts.FONTS_DIR / face.file
        assert path.is_file(), face
        assert face.family.startswith(fonts.PREFIX), face
        assert _family(path).startswith(fonts.PREFIX), (face, _family(path))
    for name in fonts.LICENSES:
        assert (fonts.FONTS_DIR / name).stat().st_size > 1000, name
    css = fonts.stylesheet()
    # A rule per face, its file relative to the fonts folder; every family named is ours.
    assert css.count("@font-face") == len(fonts.FACES)
    named = set(re.findall(r'"([^"]+)"', css)) - {f.file for f in fonts.FACES} - {"truetype"}
    assert named and all(n.startswith(fonts.PREFIX) for n in named), named


def test_the_bundled_files_draw_each_languages_letters_and_signs():
    sans = {f.file for f in fonts.FACES if f.family in fonts.SANS}
    drawn = set().union(*(TTFont(str(fonts.FONTS_DIR / f)).getBestCmap() for f in sans))
    for text in ("ɓɗƙƴƁƊƘƳʼ", "ŵŴ", "ქართული ₾", "Հայերեն ֏", "₦ € £ $ − × ≈ ▲ ▼ → Σ αβ xᵢ"):
        missing = [c for c in text if not c.isspace() and ord(c) not in drawn]
        assert not missing, (text, missing)


def test_charts_find_every_family_in_the_bundled_files():
    from matplotlib import font_manager

    from valuelib.report import charts

    charts.apply_style()
    import matplotlib as mpl

    assert mpl.rcParams["font.family"] == [*fonts.SANS, "sans-serif"]
    for family in [*fonts.SANS, "sans-serif"]:  # the generic one is read as SANS again
        for weight in ("normal", "bold"):
            found = font_manager.findfont(
                font_manager.FontProperties(family=family, weight=weight),
                fallback_to_default=False)
            assert Path(found).parent == fonts.FONTS_DIR, (family, weight, found)


# ----------------------------------------------------------------------------- cache keys


def _fake_renderer(monkeypatch) -> list[str]:
    """Replace rendering by writing placeholder files; returns the ids each run rendered."""
    rendered: list[str] = []

    def run_tasks(tasks, opts, finish, stop):
        for t in tasks:
            rendered.append(t.account_id)
            names = plan.file_names(t.stem, opts.formats)
            finish(worker.TaskResult(t.account_id, t.stem, True,
                                     files={n: b"placeholder" for n in names}))
        return False

    monkeypatch.setattr(batch, "_run_tasks", run_tasks)
    monkeypatch.setattr(pool, "prestart", lambda browsers=0: None)
    return rendered


def _recompiled_catalog(locale_dir: Path, language: str, msgid: str, msgstr: str) -> None:
    """Change one translation in `locale_dir`'s catalog of `language` and compile it."""
    po_path = locale_dir / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    catalog[msgid].string = msgstr
    with (po_path.with_suffix(".mo")).open("wb") as fh:
        write_mo(fh, catalog)


def test_a_changed_catalog_re_renders_only_its_language(demo_db, tmp_path, monkeypatch):
    rendered = _fake_renderer(monkeypatch)
    chosen = [ACCOUNTS[lang] for lang in ("en", "ka", "hy", "ha")]
    opts = batch.Options(accounts=",".join(chosen), db=str(demo_db), out=tmp_path / "out",
                         portfolio=True)
    batch.render(opts)
    assert sorted(rendered) == sorted([*chosen, "portfolio"])

    rendered.clear()
    batch.render(opts)  # nothing changed
    assert rendered == []

    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    _recompiled_catalog(locale_dir, "ka", "Executive summary", "შეჯამება (შესწორებული)")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    rendered.clear()
    result = batch.render(opts)
    assert rendered == [ACCOUNTS["ka"]]
    statuses = {o.account_id: o.status for o in result.outcomes}
    assert statuses[ACCOUNTS["ka"]] == "rendered"
    assert {statuses[a] for a in chosen if a != ACCOUNTS["ka"]} == {"unchanged"}

    rendered.clear()
    batch.render(opts)
    assert rendered == []

    # --locale sets every document's language: all of them again, the portfolio too.
    rendered.clear()
    batch.render(batch.Options(**{**vars(opts), "locale": "hy-AM"}))
    assert sorted(rendered) == sorted([*chosen, "portfolio"])


def test_fonts_and_library_versions_are_in_every_key(tmp_path, monkeypatch):
    notebook = ROOT / "notebooks" / plan.NOTEBOOK
    before = plan.code_hash(ROOT, notebook)
    assert plan.code_hash(ROOT, notebook) == before  # stable

    versions = plan.library_versions()
    assert set(versions) == set(plan.DOCUMENT_LIBRARIES)
    assert "not installed" not in versions.values()
    monkeypatch.setattr(plan, "library_versions", lambda: {**versions, "weasyprint": "0"})
    assert plan.code_hash(ROOT, notebook) != before
    monkeypatch.undo()

    copy = tmp_path / "fonts"
    shutil.copytree(fonts.FONTS_DIR, copy)
    face = copy / fonts.FACES[0].file
    face.write_bytes(face.read_bytes() + b"\0")
    monkeypatch.setattr(fonts, "FONTS_DIR", copy)
    assert plan.code_hash(ROOT, notebook) != before
    monkeypatch.undo()

    # The engine, and for Chromium the browser's version (another version lays out anew).
    chrome = plan.code_hash(ROOT, notebook, "chromium")
    assert chrome != before
    monkeypatch.setattr(chromium, "version", lambda: "Chromium 999.0 test")
    assert plan.code_hash(ROOT, notebook, "chromium") != chrome
    assert plan.code_hash(ROOT, notebook, "weasyprint") == before


def test_chromium_version_is_read_from_the_browser(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'Chromium 123.4.5 built on Test'\n", encoding="utf-8")
    fake.chmod(0o755)
    assert chromium.version(str(fake)) == "Chromium 123.4.5 built on Test"
    assert chromium.version(str(tmp_path / "missing")) == ""


# ----------------------------------------------------------------------------- documents

#: A fontconfig configuration with no font folder: WeasyPrint sees no font of the machine.
NO_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig></fontconfig>
"""


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory, demo_db) -> Iterator[Rendered]:
    """One demo account per language rendered again on a machine without fonts (an empty
    fontconfig configuration), from another working directory and another TMPDIR (short
    enough for the sockets made under it, so it is the one used: `tempdirs`)."""
    base = tmp_path_factory.mktemp("elsewhere")
    (base / "fonts.conf").write_text(NO_FONTS, encoding="utf-8")
    (base / "cwd").mkdir()
    tmp = tempfile.mkdtemp(prefix="vr-elsewhere-", dir="/tmp")
    out = base / "out"
    env = {"FONTCONFIG_FILE": str(base / "fonts.conf"), "TMPDIR": tmp}
    try:
        run = valuereview("render", "--db", str(demo_db), "--out", str(out), "--no-portfolio",
                          "--accounts", ",".join(ACCOUNTS[lang] for lang in LANGUAGES),
                          cwd=base / "cwd", env=env)
        assert run.code == 0, run.stderr
        assert "Expect ugly output" not in run.stderr
        assert "(TMPDIR) is too long" not in run.stderr
        assert os.listdir(tmp) == []  # every temporary file of the batch is gone
        yield Rendered(out, next(p for p in out.iterdir() if p.is_dir()), run, demo_db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_pdf_is_glyph_clean_in_our_fonts_without_the_machines(elsewhere, lang):
    pdf_path = elsewhere.file(ACCOUNTS[lang], "value-review.pdf")
    embedded = embedded_fonts(pdf_path)
    assert embedded
    drawn: set[str] = set()
    for font in embedded:
        name, to_unicode, program, cid_to_gid = (font.name, font.to_unicode, font.program,
                                                 font.cid_to_gid)
        assert program is not None, f"{name} is not embedded"
        # One of ours: a subset of a bundled file, still named after it (VR-DejaVu-Sans by
        # WeasyPrint, by its PostScript name VRDejaVuSans by Chromium).
        assert re.fullmatch(r"/[A-Z]{6}\+VR-?[A-Za-z-]+", name), name
        assert program["name"].getDebugName(1).startswith(fonts.PREFIX), name
        assert cid_to_gid == "/Identity", name
        glyphs = len(program.getGlyphOrder())
        for code, chars in to_unicode.items():
            # Glyph 0 is the box of a missing character; WeasyPrint numbers a character no
            # font has past the font's last glyph.
            assert 0 < code < glyphs, (lang, name, chars, code, glyphs)
            drawn.update(chars)
    text = "".join(pdf_pages(pdf_path))
    assert not sorted({c for c in text if not c.isspace() and c not in drawn})
    sign = {"ka": "₾", "hy": "֏", "ha": "ƙ", "ny": "ŵ"}.get(lang)
    if sign:  # the characters a machine without Noto drew as boxes
        assert sign in text, lang


@pytest.mark.slow
def test_same_inputs_give_the_same_bytes_on_another_machine(rendered, elsewhere):
    """The `rendered` batch ran here with the machine's fonts; `elsewhere` ran without any,
    from another folder with another TMPDIR: the same documents, byte for byte."""
    names = ("value-review.html", "value-review.pdf", "metrics.json", "value-review.ipynb")
    shared = [aid for aid in ACCOUNTS.values() if aid in E2E_ACCOUNTS]
    assert len(shared) >= 4
    for aid in shared:
        for name in names:
            here, there = rendered.file(aid, name), elsewhere.file(aid, name)
            assert here.read_bytes() == there.read_bytes(), (aid, name)


@pytest.mark.slow
def test_a_tmpdir_too_long_for_sockets_renders_the_same_through_a_short_one(rendered, tmp_path):
    """A Unix socket's path holds 107 bytes, and the browser and the workers' fork server make
    theirs under TMPDIR: under a longer one the browser exited at its start and
    multiprocessing raised. The render says so, works in /tmp, writes the same documents and
    leaves nothing in the TMPDIR it was given."""
    long = tmp_path / ("t" * max(8, tempdirs.SUN_PATH_MAX + 10 - len(str(tmp_path))))
    long.mkdir()
    assert len(str(long)) > tempdirs.SUN_PATH_MAX
    out = tmp_path / "out"
    run = valuereview("render", "--db", str(rendered.db), "--out", str(out), "--no-portfolio",
                      "--accounts", "ACC-0001", env={"TMPDIR": str(long)})
    assert run.code == 0, run.stderr
    warnings = [ln for ln in run.stderr.splitlines() if "(TMPDIR) is too long" in ln]
    assert len(warnings) == 1, run.stderr
    assert f"the temporary folder {str(long)!r} (TMPDIR)" in warnings[0]
    assert "using /tmp instead; set TMPDIR to a shorter folder" in warnings[0]
    assert list(long.iterdir()) == []
    there = Rendered(out, next(p for p in out.iterdir() if p.is_dir()), run, rendered.db)
    for name in ("value-review.html", "value-review.pdf", "metrics.json", "value-review.ipynb"):
        assert there.file("ACC-0001", name).read_bytes() == \
            rendered.file("ACC-0001", name).read_bytes(), name


@pytest.mark.slow
def test_no_clock_host_or_path_enters_a_document(elsewhere):
    import socket

    places = [str(elsewhere.out), str(ROOT), os.path.expanduser("~"), "/tmp/",
              str(elsewhere.out.parent)]
    host = socket.gethostname()
    for lang in LANGUAGES:
        aid = ACCOUNTS[lang]
        as_of = json.loads(elsewhere.file(aid, "metrics.json").read_text())["as_of"]
        reader = PdfReader(str(elsewhere.file(aid, "value-review.pdf")))
        info = {k: str(v) for k, v in reader.metadata.items()}
        date = "D:" + as_of.replace("-", "")
        assert info["/CreationDate"] == info["/ModDate"] == date, info
        assert "/Metadata" not in reader.trailer["/Root"]  # no XMP packet with its own dates
        html = elsewhere.file(aid, "value-review.html").read_text(encoding="utf-8")
        notebook = elsewhere.file(aid, "value-review.ipynb").read_text(encoding="utf-8")
        assert f'<meta name="dcterms.created" content="{as_of}">' in html
        for where, text in (("PDF info", json.dumps(info)), ("HTML", html),
                            ("notebook", notebook)):
            for place in places:
                assert place not in text, (aid, where, place)
            if len(host) >= 4:
                assert host not in text, (aid, where, "host name")
        # No time of day, no duration: papermill's and nbclient's clock readings are gone.
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", notebook), aid
        nb = json.loads(notebook)
        for meta in [nb["metadata"], *(c["metadata"] for c in nb["cells"])]:
            assert "execution" not in meta
            assert all(meta.get("papermill", {}).get(k) is None
                       for k in ("start_time", "end_time", "duration"))
