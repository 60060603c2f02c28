"""Message catalogs kept in step with the code: extract, update, compile and check.

``make i18n`` runs ``python -m valuelib.i18n_tools``: it extracts every message of the Python
code, the notebooks' code cells and the Jinja templates (mapping in ``babel.cfg``) to
``valuelib/locale/valuereview.pot``, merges it into each ``<lang>/LC_MESSAGES/valuereview.po``,
compiles each to ``.mo`` (checked in, so a plain install has them), and fails naming the
language and the message when a catalog lacks a translation (fuzzy counts as missing), has
a placeholder the message does not, or its ``.mo`` is stale. The tests run the same check.

Files are rewritten only when their messages change, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from . import i18n

ROOT = Path(__file__).resolve().parents[1]
POT = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_DATES = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', re.MULTILINE)
_COPYRIGHT = "valuereview contributors"


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
    """One thing wrong with one language's catalog."""

    language: str
    msgid: str
    what: str
    context: str | None = None

    def __str__(self) -> str:
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


def catalog_paths(locale_dir: Path = i18n.LOCALE_DIR) -> dict[str, Path]:
    """language → its .po file."""
    return {
        p.parent.parent.name: p for p in sorted(locale_dir.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po"))
    }


def _read_po(path: Path, language: str) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=language, domain=i18n.DOMAIN)


def _mo_is_current(catalog: Catalog, mo_path: Path) -> bool:
    if not mo_path.is_file():
        return False
    with open(mo_path, "rb") as fh:
        compiled = read_mo(fh)
    want = {
        (m.context, _ids(m)[0]): _strings(m)
        for m in catalog
        if m.id and not m.fuzzy and all(_strings(m))
    }
    have = {(_text(m.context), _ids(m)[0]): _strings(m) for m in compiled if m.id}
    return want == have


def _text(context: str | bytes | None) -> str | None:
    """A message context as text (Babel's .mo reader leaves contexts as bytes)."""
    return context.decode("utf-8") if isinstance(context, bytes) else context


def check(template: Catalog | None = None, locale_dir: Path = i18n.LOCALE_DIR) -> list[Problem]:
    """Every problem of every catalog against the extracted messages (empty: all good)."""
    template = template if template is not None else extract()
    problems: list[Problem] = []
    paths = catalog_paths(locale_dir)
    for language in i18n.SUPPORTED:
        if language != i18n.SOURCE_LANGUAGE and language not in paths:
            problems.append(Problem(language, "", "no catalog"))
    for language, path in paths.items():
        catalog = _read_po(path, language)
        problems.extend(check_catalog(template, catalog, language))
        if not _mo_is_current(catalog, path.with_suffix(".mo")):
            problems.append(
                Problem(
                    language,
                    str(path.with_suffix(".mo").name),
                    "compiled catalog is missing or stale (run make i18n)",
                )
            )
    return problems


def _dump(write: Any, catalog: Catalog, **kw: Any) -> bytes:
    buf = io.BytesIO()
    write(buf, catalog, **kw)
    return buf.getvalue()


def _write_if_changed(path: Path, data: bytes, *, po: bool = False) -> bool:
    """Write `data` unless the file already holds it (for .po/.pot: ignoring header dates)."""
    if path.is_file():
        old = path.read_bytes()
        if po:
            same = _HEADER_DATES.sub("", old.decode("utf-8")) == _HEADER_DATES.sub(
                "", data.decode("utf-8")
            )
        else:
            same = old == data
        if same:
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def update(template: Catalog | None = None, locale_dir: Path = i18n.LOCALE_DIR) -> list[str]:
    """Write the .pot, merge it into every .po and compile every .mo; the files changed."""
    template = template if template is not None else extract()
    changed = []
    pot = locale_dir / f"{i18n.DOMAIN}.pot"
    if _write_if_changed(pot, _dump(write_po, template, width=96, sort_output=True), po=True):
        changed.append(str(pot))
    for language, path in catalog_paths(locale_dir).items():
        catalog = _read_po(path, language)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        if _write_if_changed(
            path,
            _dump(write_po, catalog, width=96, sort_output=True, ignore_obsolete=True),
            po=True,
        ):
            changed.append(str(path))
        catalog = _read_po(path, language)
        if _write_if_changed(path.with_suffix(".mo"), _dump(write_mo, catalog)):
            changed.append(str(path.with_suffix(".mo")))
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m valuelib.i18n_tools [--check-only]``: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m valuelib.i18n_tools", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only check the catalogs against the code; write nothing",
    )
    args = parser.parse_args(argv)
    template = extract()
    print(f"{len(template)} messages extracted")
    if not args.check_only:
        for path in update(template):
            print(f"updated {Path(path).relative_to(ROOT)}")
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
