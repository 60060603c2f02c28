"""Message catalogs kept in step with the code: extract, update, compile and check.

``make i18n`` runs ``python -m valuelib.report.i18n_tools``: it extracts every message of the
Python code, the notebooks' code cells and the Jinja templates (mapping in ``babel.cfg``) to
``valuelib/report/locale/valuereview.pot``, merges it into each
``<lang>/LC_MESSAGES/valuereview.po``,
compiles each to ``.mo`` (checked in, so a plain install has them), and fails naming the
language and the message when a catalog lacks a translation (fuzzy counts as missing), has
a placeholder the message does not, or its ``.mo`` is stale, and naming the language, the file
and the first count where its ``Plural-Forms`` header and CLDR's plural rules disagree. The
tests run the same check. ``--init xx`` creates a new language's catalog (README, "Languages").

The files are reproducible: no dates or tool versions in their headers, references without
line numbers (a message's file, so edits elsewhere in it change nothing), ``.mo`` files written
by ``compile_mo``; running it on a clean checkout changes nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import babel
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from valuelib.report import i18n

ROOT = Path(__file__).resolve().parents[2]
POT = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_COPYRIGHT = "valuereview contributors"
#: Header fields left out of every .pot, .po and .mo: they change on each run or each Babel
#: release without saying anything about the messages (git has the dates).
VOLATILE_HEADERS = ("POT-Creation-Date", "PO-Revision-Date", "Generated-By")
_VOLATILE_LINE = re.compile(r'"(?:' + "|".join(VOLATILE_HEADERS) + r'): [^"]*"')
_HEADER_COMMENT = (
    "# Translations template for valuereview.\n"
    "# This file is distributed under the same license as the valuereview project."
)
#: CLDR's plural categories in the order gettext numbers them (form 0 is the first present).
CLDR_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
#: CLDR's plural operands for a whole number n: its integer digits are n, and it has no
#: visible fraction digits and no exponent.
_WHOLE_NUMBER_OPERANDS = {"n": "n", "i": "n", "v": "0", "w": "0", "f": "0", "t": "0", "c": "0",
                          "e": "0"}
_MO_MAGIC = 0x950412DE


def extract_ipynb(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, Any, list[str]]]:
    """Babel extractor for notebooks: the messages of every code cell, as Python.

    Line numbers count from the notebook's first code line, cell after cell, so a message's
    location points at its cell in order. Registered as the ``ipynb`` babel.extractors entry
    point (and named by path in babel.cfg, which needs no installed entry point).
    """
    nb = json.loads(fileobj.read().decode("utf-8"))
    offset = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for lineno, funcname, message, comments in extract_python(
            io.BytesIO(source.encode("utf-8")),
            keywords,
            comment_tags,
            {**options, "encoding": "utf-8"},
        ):
            yield offset + lineno, funcname, message, comments
        offset += source.count("\n") + 1


def keywords() -> dict[str, Any]:
    """Babel's default gettext keywords plus the project's (i18n.KEYWORDS)."""
    return {**DEFAULT_KEYWORDS, **i18n.KEYWORDS}


def extract(root: Path = ROOT) -> Catalog:
    """Every message of the code, notebooks and templates as a template catalog."""
    with open(root / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    template = Catalog(
        project="valuereview",
        domain=i18n.DOMAIN,
        header_comment=_HEADER_COMMENT,
        copyright_holder=_COPYRIGHT,
        charset="utf-8",
        fuzzy=False,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root),
        method_map,
        options_map,
        keywords=keywords(),
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one language's catalog (a message of it, or its file)."""

    language: str
    msgid: str
    what: str
    context: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        if self.file:
            return f"{self.language}: {self.file}: {self.what}"
        if not self.msgid:
            return f"{self.language}: {self.what}"
        ctx = f" (context {self.context!r})" if self.context else ""
        return f"{self.language}: {self.what}: {self.msgid!r}{ctx}"


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, list | tuple) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    s = message.string
    return tuple(s) if isinstance(s, list | tuple) else (s,)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a message."""
    return set(PLACEHOLDER.findall(text or ""))


def check_catalog(template: Catalog, catalog: Catalog, language: str) -> list[Problem]:
    """Messages of `template` that `catalog` does not translate fully and faithfully."""
    problems: list[Problem] = []
    n_forms = catalog.num_plurals
    for message in template:
        if not message.id:
            continue
        key = message.id[0] if message.pluralizable else message.id
        msgid = _ids(message)[0]
        found = catalog.get(key, context=message.context)
        if found is None:
            problems.append(Problem(language, msgid, "no translation", message.context))
            continue
        if found.fuzzy:
            problems.append(Problem(language, msgid, "fuzzy translation", message.context))
            continue
        strings = _strings(found)
        if message.pluralizable and len(strings) != n_forms:
            problems.append(
                Problem(
                    language,
                    msgid,
                    f"{len(strings)} plural forms, the catalog's Plural-Forms has {n_forms}",
                    message.context,
                )
            )
            continue
        if any(not s for s in strings):
            problems.append(Problem(language, msgid, "no translation", message.context))
            continue
        wanted = set().union(*(placeholders(i) for i in _ids(message)))
        for s in strings:
            if placeholders(s) != wanted:
                problems.append(
                    Problem(
                        language,
                        msgid,
                        f"placeholders {sorted(placeholders(s))} instead of {sorted(wanted)}",
                        message.context,
                    )
                )
                break
    return problems


def _c_expression(node: tuple[str, Any]) -> str:
    """A node of a CLDR plural rule (Babel's ``PluralRule.abstract``) as a C expression over
    a whole number ``n``, the only variable gettext's Plural-Forms know."""
    kind, args = node
    if kind in ("and", "or"):
        return "(" + (" && " if kind == "and" else " || ").join(map(_c_expression, args)) + ")"
    if kind == "not":
        return f"!({_c_expression(args[0])})"
    if kind == "mod":
        return f"({_c_expression(args[0])} % {_c_expression(args[1])})"
    if kind == "value":
        return str(args[0])
    if kind == "relation":  # "in" and "within" agree on whole numbers
        _, operand, (_, ranges) = args
        x = _c_expression(operand)
        return "(" + " || ".join(
            f"{x} == {_c_expression(lo)}" if lo == hi
            else f"({x} >= {_c_expression(lo)} && {x} <= {_c_expression(hi)})"
            for lo, hi in ranges
        ) + ")"
    if kind in _WHOLE_NUMBER_OPERANDS:
        return _WHOLE_NUMBER_OPERANDS[kind]
    raise ValueError(f"unknown node {kind!r} in a CLDR plural rule")


def plural_forms(language: str) -> str:
    """The ``Plural-Forms`` header CLDR's plural rules give `language` on whole numbers.

    One form per category the counts of i18n.PLURAL_CHECK_COUNTS reach, numbered in CLDR's
    order; a category only larger numbers reach (French "many": a million) is left out.
    """
    rule = babel.Locale.parse(language).plural_form
    reached = {rule(n) for n in i18n.PLURAL_CHECK_COUNTS}
    forms = [c for c in CLDR_CATEGORIES if c in reached]
    conditions = [(tag, _c_expression(node)) for tag, node in rule.abstract if tag in reached]
    otherwise = "other" if "other" in reached else conditions.pop()[0]
    expression = str(forms.index(otherwise))
    for tag, condition in reversed(conditions):
        expression = f"{condition} ? {forms.index(tag)} : {expression}"
    return f"nplurals={len(forms)}; plural=({expression});"


def plural_forms_problem(language: str, value: str) -> str | None:
    """Why a ``Plural-Forms`` value does not suit `language` (None: it does).

    It must parse with gettext, and on every count of i18n.PLURAL_CHECK_COUNTS its form and
    CLDR's plural category must correspond one to one, with one form per category reached.
    """
    try:
        nplurals, plural = i18n.parse_plural_forms(value)
    except ValueError as exc:
        return str(exc)
    try:
        rule = babel.Locale.parse(language).plural_form
    except (ValueError, TypeError, babel.UnknownLocaleError):
        return f"CLDR has no plural rules for {language!r} to check Plural-Forms {value!r}"
    problem = i18n.plural_range_problem(nplurals, plural)
    if problem:
        return f"Plural-Forms {value!r}: {problem}"
    category_of: dict[int, tuple[str, int]] = {}  # form → (CLDR category, first count)
    form_of: dict[str, tuple[int, int]] = {}  # CLDR category → (form, first count)
    for n in i18n.PLURAL_CHECK_COUNTS:
        form, category = plural(n), rule(n)
        had_category, at = category_of.setdefault(form, (category, n))
        if had_category != category:
            return (
                f"Plural-Forms {value!r} disagrees with CLDR at {n}: gettext gives form {form} "
                f"and CLDR {category!r}, but form {form} was CLDR's {had_category!r} at {at}"
            )
        had_form, at = form_of.setdefault(category, (form, n))
        if had_form != form:
            return (
                f"Plural-Forms {value!r} disagrees with CLDR at {n}: gettext gives form {form} "
                f"and CLDR {category!r}, but CLDR's {category!r} was form {had_form} at {at}"
            )
    if nplurals != len(form_of):
        reached = [c for c in CLDR_CATEGORIES if c in form_of]
        return (
            f"Plural-Forms {value!r} has nplurals={nplurals}, but the counts "
            f"{i18n.PLURAL_CHECK_COUNTS.start}–{i18n.PLURAL_CHECK_COUNTS.stop - 1} reach "
            f"{len(reached)} CLDR categories ({', '.join(reached)})"
        )
    return None


def catalog_paths(locale_dir: Path = i18n.LOCALE_DIR) -> dict[str, Path]:
    """language → its .po file."""
    return {
        p.parent.parent.name: p for p in sorted(locale_dir.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po"))
    }


def _read_po(path: Path, language: str | None) -> Catalog:
    """A .po or .pot file as a catalog; CatalogError naming the file when Babel cannot read it."""
    try:
        with open(path, "rb") as fh:
            return read_po(fh, locale=language, domain=i18n.DOMAIN)
    except (OSError, ValueError) as exc:
        raise i18n.CatalogError(f"{_shown(path)}: cannot be read: {exc}") from None


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _header(catalog: Catalog) -> str:
    """A catalog's header fields as the .mo holds them: UTF-8, nothing volatile."""
    fields = [
        (name, "text/plain; charset=utf-8" if name == "Content-Type" else value)
        for name, value in catalog.mime_headers
        if name not in VOLATILE_HEADERS
    ]
    return "".join(f"{name}: {value}\n" for name, value in fields)


def compile_mo(catalog: Catalog) -> bytes:
    """The GNU .mo file of a catalog, the same bytes for the same catalog (no hash table).

    Like msgfmt it leaves out fuzzy and untranslated messages; originals are sorted by their
    UTF-8 bytes, a context joined to its message by EOT and plural forms by NUL.
    """
    entries = {b"": _header(catalog).encode("utf-8")}
    for message in catalog:
        strings = _strings(message)
        if not message.id or message.fuzzy or not all(strings):
            continue
        key = "\x00".join(_ids(message))
        if message.context:
            key = f"{message.context}\x04{key}"
        entries[key.encode("utf-8")] = "\x00".join(strings).encode("utf-8")
    originals = sorted(entries)
    n = len(originals)
    originals_table, translations_table = 28, 28 + 8 * n
    strings_start = translations_table + 8 * n
    table: list[int] = []
    blob = bytearray()
    for text in [*originals, *(entries[k] for k in originals)]:
        table += [len(text), strings_start + len(blob)]
        blob += text + b"\x00"
    head = struct.pack(
        "<7I", _MO_MAGIC, 0, n, originals_table, translations_table, 0, strings_start
    )
    return head + struct.pack(f"<{len(table)}I", *table) + bytes(blob)


def po_bytes(catalog: Catalog, *, template: bool = False) -> bytes:
    """A catalog as the .po (or .pot) file `make i18n` writes: UTF-8, sorted by message,
    references without line numbers, header without VOLATILE_HEADERS."""
    catalog.charset = "utf-8"
    buf = io.BytesIO()
    write_po(
        buf,
        catalog,
        width=96,
        sort_output=True,
        ignore_obsolete=not template,
        include_lineno=False,
    )
    head, blank, body = buf.getvalue().decode("utf-8").partition("\n\n")
    kept = [line for line in head.split("\n") if not _VOLATILE_LINE.fullmatch(line)]
    return ("\n".join(kept) + blank + body).encode("utf-8")


def check(template: Catalog | None = None, locale_dir: Path = i18n.LOCALE_DIR) -> list[Problem]:
    """Every problem of every catalog against the extracted messages and CLDR (empty: good)."""
    template = template if template is not None else extract()
    problems: list[Problem] = []
    paths = catalog_paths(locale_dir)
    for language in i18n.SUPPORTED:
        if language != i18n.SOURCE_LANGUAGE and language not in paths:
            problems.append(Problem(language, "", "no catalog"))
    for language, path in paths.items():
        try:
            catalog = _read_po(path, language)
        except i18n.CatalogError as exc:
            problems.append(Problem(language, "", str(exc)))
            continue
        plural = plural_forms_problem(language, catalog.plural_forms)
        if plural:
            problems.append(Problem(language, "", plural, file=_shown(path)))
        problems.extend(check_catalog(template, catalog, language))
        mo = path.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != compile_mo(catalog):
            problems.append(
                Problem(
                    language,
                    "",
                    "compiled catalog is missing or stale (run make i18n)",
                    file=_shown(mo),
                )
            )
    return problems


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` unless the file already holds exactly it."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def update(template: Catalog | None = None, locale_dir: Path = i18n.LOCALE_DIR) -> list[str]:
    """Write the .pot, merge it into every .po and compile every .mo; the files changed."""
    template = template if template is not None else extract()
    changed = []
    pot = locale_dir / f"{i18n.DOMAIN}.pot"
    if _write_if_changed(pot, po_bytes(template, template=True)):
        changed.append(str(pot))
    for language, path in catalog_paths(locale_dir).items():
        catalog = _read_po(path, language)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        if _write_if_changed(path, po_bytes(catalog)):
            changed.append(str(path))
        catalog = _read_po(path, language)
        if _write_if_changed(path.with_suffix(".mo"), compile_mo(catalog)):
            changed.append(str(path.with_suffix(".mo")))
    return changed


def init(language: str, locale_dir: Path = i18n.LOCALE_DIR) -> Path:
    """Create `language`'s catalog from the template: every message untranslated, and the
    ``Plural-Forms`` header CLDR gives it (plural_forms). Refuses to overwrite a catalog."""
    if not re.fullmatch(r"[a-z]{2,3}", language):
        raise i18n.CatalogError(f"--init {language!r}: give a language code such as fr or de")
    try:
        locale = babel.Locale.parse(language)
    except (ValueError, babel.UnknownLocaleError):
        raise i18n.CatalogError(f"--init {language!r}: CLDR has no data for it") from None
    path = locale_dir / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    if path.exists():
        raise i18n.CatalogError(f"{_shown(path)} exists already: edit it, then run make i18n")
    pot = locale_dir / f"{i18n.DOMAIN}.pot"
    template = _read_po(pot, None) if pot.is_file() else extract()
    catalog = Catalog(
        locale=language,
        domain=i18n.DOMAIN,
        project="valuereview",
        header_comment=(
            f"# {locale.english_name} translations for valuereview.\n"
            "# This file is distributed under the same license as the valuereview project."
        ),
        copyright_holder=_COPYRIGHT,
        charset="utf-8",
        fuzzy=False,
    )
    catalog.mime_headers = [("Plural-Forms", plural_forms(language))]
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(po_bytes(catalog))
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m valuelib.report.i18n_tools [--check-only | --init LANG]``: see the module
    docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m valuelib.report.i18n_tools", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only check the catalogs against the code; write nothing",
    )
    parser.add_argument(
        "--init",
        metavar="LANG",
        help="create the catalog of a new language (e.g. fr) from the template and stop",
    )
    args = parser.parse_args(argv)
    if args.init:
        try:
            path = init(args.init)
        except i18n.CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(
            f"created {_shown(path)}: translate every msgstr, add {args.init!r} to "
            "i18n.SUPPORTED and run make i18n"
        )
        return 0
    template = extract()
    print(f"{len(template)} messages extracted")
    try:
        if not args.check_only:
            for path in update(template):
                print(f"updated {_shown(Path(path))}")
    except i18n.CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    problems = check(template)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        langs = sorted({p.language for p in problems})
        print(f"{len(problems)} problem(s) in the catalogs of {', '.join(langs)}", file=sys.stderr)
        return 1
    print(f"every catalog translates every message ({', '.join(i18n.SUPPORTED)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
