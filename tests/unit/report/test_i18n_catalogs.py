"""Catalogs that cannot be half-added: Plural-Forms checked against CLDR, the README's recipe
for a new language followed to a rendered French review, a broken compiled catalog refused
before a batch renders, and `make i18n` reproducible byte for byte."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import babel
import babel.localedata
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.plural import to_gettext
from support import ROOT, QuarterLayout, valuereview

from valuelib.report import i18n, i18n_tools

LOCALE = Path("valuelib") / "report" / "locale"
SHIPPED = ("ka", "hy", "ha", "ny")


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


def run_in(copy: Path, *args: str) -> subprocess.CompletedProcess:
    """A command run in the copy, its Python code imported from the copy."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    env.pop("VALUEREVIEW_DB", None)
    return subprocess.run(
        list(args), cwd=copy, env=env, capture_output=True, text=True, timeout=900
    )


def make_i18n(copy: Path, *words: str) -> subprocess.CompletedProcess:
    """`make i18n` in the copy; `STAMP=` keeps make from reinstalling the shared virtualenv."""
    return run_in(copy, *(words or ("make", "i18n")), "STAMP=")


def locale_files(root: Path) -> dict[str, bytes]:
    """Every file of valuelib/report/locale under `root`, by relative path."""
    base = root / LOCALE
    return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ Plural-Forms and CLDR


def test_plural_forms_check_names_the_first_count_that_disagrees():
    problem = i18n_tools.plural_forms_problem
    # The README's old recipe: Babel's own gettext form of CLDR's rule names CLDR's exponent.
    fr_cldr = to_gettext(babel.Locale.parse("fr").plural_form)
    assert "gettext cannot parse it (invalid token in plural form: e)" in problem("fr", fr_cldr)
    # English's rule in French: CLDR's "one" is 0 and 1, so they part at 1.
    assert "disagrees with CLDR at 1: gettext gives form 0 and CLDR 'one', but CLDR's 'one' " \
        "was form 1 at 0" in problem("fr", "nplurals=2; plural=(n != 1);")
    # Russian with two forms: 2 is "few", 0 was "many", both form 1.
    assert "disagrees with CLDR at 2: gettext gives form 1 and CLDR 'few', but form 1 was " \
        "CLDR's 'many' at 0" in problem("ru", "nplurals=2; plural=(n != 1);")
    # A form no count reaches: French "many" starts at a million.
    assert "has nplurals=3, but the counts 0–200 reach 2 CLDR categories (one, other)" in problem(
        "fr", "nplurals=3; plural=(n > 1);"
    )
    assert "gives form 2 for 2, but nplurals=2" in problem(
        "fr", "nplurals=2; plural=(n > 1 ? 2 : 0);"
    )
    assert "is not 'nplurals=N; plural=EXPRESSION;'" in problem("fr", "plural=(n > 1);")
    assert problem("fr", "nplurals=2; plural=(n > 1);") is None
    assert problem("fr", i18n_tools.plural_forms("fr")) is None


def test_the_derived_header_suits_every_language_cldr_knows():
    languages = sorted({i.split("_")[0] for i in babel.localedata.locale_identifiers()} - {"root"})
    assert len(languages) > 300
    wrong = {}
    for lang in languages:
        header = i18n_tools.plural_forms(lang)
        if i18n_tools.plural_forms_problem(lang, header):
            wrong[lang] = i18n_tools.plural_forms_problem(lang, header)
    assert not wrong
    assert i18n_tools.plural_forms("ja") == "nplurals=1; plural=(0);"
    assert i18n_tools.plural_forms("ru").startswith("nplurals=3;")  # one, few, many
    assert i18n_tools.plural_forms("ar").startswith("nplurals=6;")


def test_make_i18n_fails_naming_language_file_and_count(tmp_path):
    copy = copy_project(tmp_path)
    for lang, header in (
        ("ka", to_gettext(babel.Locale.parse("fr").plural_form)),
        ("hy", "nplurals=2; plural=(n != 1);"),  # Armenian's "one" is 0 and 1
    ):
        po = copy / _po(lang)
        text = po.read_text(encoding="utf-8")
        text, n = re.subn(r'"Plural-Forms: [^"]*\\n"', f'"Plural-Forms: {header}\\\\n"', text)
        assert n == 1
        po.write_text(text, encoding="utf-8")
    run = make_i18n(copy)
    assert run.returncode != 0, run.stdout
    lines = run.stderr.splitlines()
    ka = next(x for x in lines if x.startswith(f"ka: {_po('ka')}: "))
    assert "invalid token in plural form: e" in ka
    hy = next(x for x in lines if x.startswith(f"hy: {_po('hy')}: "))
    assert "disagrees with CLDR at 1: gettext gives form 0" in hy
    assert "every catalog translates every message" not in run.stdout


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


# ------------------------------------------------------------------ reproducible make i18n


def test_make_i18n_reproduces_the_checked_in_catalogs_byte_for_byte(tmp_path):
    checked_in = locale_files(ROOT)
    assert set(checked_in) >= {f"{lang}/LC_MESSAGES/{i18n.DOMAIN}.mo" for lang in SHIPPED}
    copy = copy_project(tmp_path)
    for attempt in (1, 2):
        run = run_in(copy, str(copy / ".venv" / "bin" / "python"), "-m",
                     "valuelib.report.i18n_tools")
        assert run.returncode == 0, run.stderr
        assert "updated" not in run.stdout, (attempt, run.stdout)
        assert locale_files(copy) == checked_in, attempt
    for lang in SHIPPED:
        text = (copy / _po(lang)).read_text(encoding="utf-8")
        assert "Creation-Date" not in text and "Revision-Date" not in text
        assert "Generated-By" not in text and re.search(r"^#: \S+:\d", text, re.M) is None


def test_the_compiled_catalog_is_what_gettext_reads(tmp_path):
    """compile_mo writes GNU's format: gettext finds every message, context and plural form."""
    with open(ROOT / _po("ka"), "rb") as fh:
        catalog = read_po(fh, locale="ka")
    data = i18n_tools.compile_mo(catalog)
    magic, revision, n, originals, translations = struct.unpack("<5I", data[:20])
    assert (magic, revision, originals, translations) == (0x950412DE, 0, 28, 28 + 8 * n)
    path = tmp_path / "ka.mo"
    path.write_bytes(data)
    t = i18n.load_catalog(path)
    assert t.pgettext("note", "Note") == "შენიშვნა"
    assert t.ngettext("{count} answer", "{count} answers", 2) == "{count} პასუხი"
    translated = [m for m in catalog if m.id and m.string and not m.fuzzy]
    assert n == len(translated) + 1  # and the header


# ------------------------------------------------------------------ the README's recipe


def readme_recipe() -> tuple[list[str], str]:
    """The shell commands of the README's "To add a language" recipe, and its text."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**To add a language**")
    recipe = " ".join(readme[start : readme.find("\n\n", start)].split())
    spans = re.findall(r"`([^`]+)`", recipe)
    commands = [s for s in spans if s.startswith((".venv/bin/", "make "))]
    # Every other code span is a name the steps below know; a new kind of step (a header to
    # paste, say) fails here until this test follows it too.
    assert set(spans) - set(commands) <= {"xx", "i18n.SUPPORTED", "Plural-Forms"}, spans
    return commands, recipe


@pytest.mark.slow
def test_the_readme_recipe_adds_french_end_to_end(tmp_path, demo_db):
    commands, recipe = readme_recipe()
    assert commands[-1] == "make i18n" and "translate every entry" in recipe
    assert "`xx` to `i18n.SUPPORTED`" in recipe
    copy = copy_project(tmp_path / "project")
    for command in commands[:-1]:
        run = run_in(copy, *shlex.split(command.replace("xx", "fr")))
        assert run.returncode == 0, (command, run.stdout, run.stderr)

    # Translate every entry mechanically, each plural form marked with its number and count.
    po = copy / _po("fr")
    with open(po, "rb") as fh:
        catalog = read_po(fh, locale="fr")
    assert catalog.num_plurals == 2
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            count = ":{count}" if "{count}" in message.id[0] else ""
            message.string = tuple(
                f"[fr{i}{count}] {message.id[min(i, 1)]}" for i in range(catalog.num_plurals)
            )
        else:
            message.string = f"[fr] {message.id}"
    with open(po, "wb") as fh:
        write_po(fh, catalog)
    source = copy / "valuelib" / "report" / "i18n.py"
    text, n = re.subn(r"^SUPPORTED = \((.*)\)$", r'SUPPORTED = (\1, "fr")', source.read_text(),
                      flags=re.M)
    assert n == 1
    source.write_text(text)

    run = make_i18n(copy, *shlex.split(commands[-1]))
    assert run.returncode == 0, run.stderr
    assert "every catalog translates every message (en, ka, hy, ha, ny, fr)" in run.stdout

    out = tmp_path / "out"
    run = valuereview(
        "render", "--db", str(demo_db), "--out", str(out), "--accounts", "ACC-0001",
        "--locale", "fr-FR", "--formats", "html", "--no-portfolio",
        cwd=copy, env={"PYTHONPATH": str(copy)},
    )
    assert run.code == 0, run.stderr
    q = QuarterLayout(out, next(p for p in out.iterdir() if p.is_dir()).name)
    review = q.path("customer", "ACC-0001", "value-review.html").read_text(encoding="utf-8")
    index = q.index("customer").read_text(encoding="utf-8")
    assert '<html lang="fr-FR">' in review and "[fr] " in review

    def form(count: int) -> int:  # CLDR's French: "one" for 0 and 1, "other" beyond
        return ["one", "other"].index(babel.Locale.parse("fr").plural_form(count))

    counted = [
        (int(re.sub(r"\D", "", number)), int(i))
        for i, number in re.findall(r"\[fr(\d):([^\]]+)\]", review)
    ]
    counted += [
        (int(number), int(i))
        for number, i in re.findall(r"<strong>(\d+)</strong> \[fr(\d)\]", index)
    ]
    assert counted and all(f == form(n) for n, f in counted), counted
    # Where French and English part: nothing failed, and French says it in the singular.
    assert (0, 0) in counted
