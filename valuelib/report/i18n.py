"""The documents' language: gettext catalogs (through Babel) and locale resolution.

A review is written in its account's language: ``accounts.locale`` (a BCP 47 tag such as
``ka-GE``), unless the notebook's ``locale`` parameter says otherwise (``params/`` or
``valuereview render --locale``). Two things are looked up for a tag, each with a stated
fallback chain, and each fallback is logged once per tag (per process):

- CLDR data for numbers, money, percentages and dates (Babel): the tag (``ha-NG``), then its
  language (``ha``), then ``en``. Within a locale, CLDR itself fills what the locale lacks
  from its parent and finally from CLDR's root (``ny`` has no compact number formats or date
  patterns of its own, for example); those gaps are logged once too, at INFO.
- The message catalog: ``valuelib/report/locale/<language>/LC_MESSAGES/valuereview.mo`` for the
  tag's language, else English (the messages' own text). Adding a language is adding a
  catalog there (see README, "Languages").

Messages are English sentences with named ``{placeholders}``, translated whole and filled
with ``str.format`` after translation, so word order is the translator's; counts use
``ngettext`` with the catalog's own ``Plural-Forms``. A compiled catalog gettext cannot use
(unreadable, or a ``Plural-Forms`` it cannot parse or that names a form beyond ``nplurals``)
raises ``CatalogError`` naming the file, and ``check_catalogs`` finds them all before a batch.
"""

from __future__ import annotations

import gettext
import logging
import pickle
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import babel
import babel.core
import babel.localedata
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DOMAIN = "valuereview"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
DEFAULT_TAG = "en"
#: The languages the project promises; each but English must have a complete catalog
#: (`make i18n` and the tests check). A catalog found beyond these is used as well.
SUPPORTED = ("en", "ka", "hy", "ha", "ny")

#: CLDR data the documents use that a full locale has of its own (number patterns are shared
#: through root by most locales, so they are not listed); taking any of these from CLDR's
#: root makes a locale "thin".
CLDR_KEYS = (
    "number_symbols",
    "compact_decimal_formats",
    "compact_currency_formats",
    "date_formats",
    "months",
    "quarters",
)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a message for extraction without translating it (translated where it is shown)."""
    return message


def C_(context: str, message: str) -> str:  # noqa: N802 - a gettext-style marker
    """Mark a message with its context (translated later with the same context by pgettext)."""
    return message


#: Extraction keywords beyond Babel's defaults: the markers above, and the short local
#: names the wording code binds (``_, n_, p_ = tr.gettext, tr.ngettext, tr.pgettext``).
KEYWORDS = {"C_": ((1, "c"), 2), "n_": (1, 2), "p_": ((1, "c"), 2)}


def languages() -> tuple[str, ...]:
    """The languages documents can be written in: English plus every compiled catalog."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (SOURCE_LANGUAGE, *[lang for lang in found if lang != SOURCE_LANGUAGE])


def normalise(tag: str | None) -> str:
    """A BCP 47 tag in its usual spelling (``ka_ge`` → ``ka-GE``); empty → ``en``."""
    tag = (tag or "").strip().replace("_", "-")
    if not tag:
        return DEFAULT_TAG
    try:
        loc = babel.Locale.parse(tag, sep="-")
    except (ValueError, TypeError, babel.UnknownLocaleError):
        parts = tag.split("-")
        return "-".join([parts[0].lower(), *[p.upper() if len(p) == 2 else p for p in parts[1:]]])
    return "-".join(p for p in (loc.language, loc.script, loc.territory, loc.variant) if p)


def _cldr_chain(tag: str) -> list[str]:
    parts = tag.split("-")
    chain = ["-".join(parts[:i]) for i in range(len(parts), 0, -1)]
    return [*chain, "en"] if "en" not in chain else chain


def _raw_cldr(identifier: str) -> dict:
    """A locale's own CLDR data, without inheritance (read from Babel's data file directly,
    so Babel's cache of merged data is left alone)."""
    try:
        path = babel.localedata.resolve_locale_filename(identifier)
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, ValueError, pickle.UnpicklingError):
        return {}


def cldr_gaps(locale: babel.Locale) -> list[str]:
    """The data of CLDR_KEYS that the locale and its parents lack, so CLDR's root supplies."""
    ident = str(locale)
    own: set[str] = set()
    while ident and ident != "root":
        data = _raw_cldr(ident)
        own.update(k for k in CLDR_KEYS if data.get(k))
        ident = babel.core.get_global("parent_exceptions").get(ident) or (
            ident.rsplit("_", 1)[0] if "_" in ident else ""
        )
    return [k for k in CLDR_KEYS if k not in own]


@dataclass(frozen=True)
class Resolution:
    """What a tag resolves to: the CLDR locale, the catalog language, and the fallbacks."""

    tag: str
    cldr: babel.Locale
    language: str
    notes: tuple[str, ...] = field(default=())


@lru_cache(maxsize=128)
def resolve(tag: str | None) -> Resolution:
    """Resolve a BCP 47 tag along the fallback chains (module docstring); logs once per tag."""
    tag = normalise(tag)
    notes: list[str] = []
    chain = _cldr_chain(tag)
    found = next((c for c in chain if _parses(c)), "en")
    cldr = babel.Locale.parse(found, sep="-")
    if found != chain[0]:
        notes.append(
            f"CLDR has no data for {tag}: numbers and dates use {found} (chain {' → '.join(chain)})"
        )
        log.warning("locale %s: %s", tag, notes[-1])
    gaps = cldr_gaps(cldr)
    if gaps:
        msg = f"CLDR data for {cldr} is thin: {', '.join(gaps)} come from CLDR's root"
        notes.append(msg)
        log.info("locale %s: %s", tag, msg)
    lang = tag.split("-")[0]
    if catalog_language(tag) != lang:
        notes.append(
            f"no catalog for language {lang!r}: the text is English "
            f"(catalogs: {', '.join(languages())})"
        )
        log.warning("locale %s: %s", tag, notes[-1])
        lang = SOURCE_LANGUAGE
    return Resolution(tag, cldr, lang, tuple(notes))


def catalog_language(tag: str | None) -> str:
    """The language whose catalog a document in `tag` is written from: the tag's language if
    a catalog for it ships, else English (no catalog). Quiet; `resolve` logs the fallback."""
    lang = normalise(tag).split("-")[0]
    return lang if lang == SOURCE_LANGUAGE or lang in languages() else SOURCE_LANGUAGE


def catalog_path(language: str) -> Path | None:
    """The compiled catalog (``.mo``) of `language`, or None for English (the messages)."""
    if language == SOURCE_LANGUAGE:
        return None
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    return path if path.is_file() else None


def known(tag: object) -> bool:
    """Whether `tag` is a BCP 47 tag whose language CLDR has data for (checked quietly)."""
    if not isinstance(tag, str) or not _BCP47_SHAPE.match(tag.strip()):
        return False
    return _parses(normalise(tag).split("-")[0])


#: The shape of a BCP 47 tag (language, then subtags of letters and digits), so that text such
#: as ``ka-GE; rm`` is refused rather than read as its first word.
_BCP47_SHAPE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def _parses(tag: str) -> bool:
    try:
        babel.Locale.parse(tag, sep="-")
    except (ValueError, TypeError, babel.UnknownLocaleError):
        return False
    return True


#: The counts a ``Plural-Forms`` header is tried on, by ``make i18n`` (against CLDR) and when a
#: catalog is loaded: every whole number up to 200 meets the ones, teens and hundreds of CLDR's
#: rules for whole numbers.
PLURAL_CHECK_COUNTS = range(201)

_PLURAL_FORMS = re.compile(r"\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*([^;]+?)\s*;?\s*")


class CatalogError(Exception):
    """A message catalog gettext cannot use; the message names the file and what is wrong."""


def parse_plural_forms(value: str) -> tuple[int, Callable[[int], int]]:
    """``nplurals`` and the plural function of a ``Plural-Forms`` value, parsed by gettext.

    Raises ValueError saying what is wrong (its shape, or the expression gettext refuses).
    """
    m = _PLURAL_FORMS.fullmatch(value or "")
    if not m:
        raise ValueError(f"Plural-Forms {value!r} is not 'nplurals=N; plural=EXPRESSION;'")
    nplurals, expression = int(m[1]), m[2]
    if nplurals < 1:
        raise ValueError(f"Plural-Forms {value!r}: nplurals must be at least 1")
    try:
        return nplurals, gettext.c2py(expression)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"Plural-Forms {value!r}: gettext cannot parse it ({exc})") from None


def plural_range_problem(nplurals: int, plural: Callable[[int], int]) -> str | None:
    """The first count of PLURAL_CHECK_COUNTS whose form is not one of the `nplurals` forms."""
    for n in PLURAL_CHECK_COUNTS:
        try:
            form = plural(n)
        except ArithmeticError as exc:  # e.g. "n % 0"
            return f"the plural formula fails for {n} ({exc})"
        if not 0 <= form < nplurals:
            return f"the plural formula gives form {form} for {n}, but nplurals={nplurals}"
    return None


def load_catalog(path: Path) -> Translations:
    """A compiled catalog (.mo) as rendering uses it, checked: CatalogError when unusable."""
    po = path.with_suffix(".po")
    fix = f"fix {po} and run make i18n" if po.is_file() else "recompile it"
    try:
        with open(path, "rb") as fh:
            t = Translations(fh, domain=DOMAIN)
    except (OSError, ValueError, IndexError, struct.error) as exc:
        # ValueError includes gettext's "invalid token in plural form" and bad encodings.
        raise CatalogError(f"{path}: gettext cannot load it ({exc}); {fix}") from None
    value = t.info().get("plural-forms")
    try:
        problem = (
            plural_range_problem(*parse_plural_forms(value)) if value
            else "it has no Plural-Forms header"
        )
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise CatalogError(f"{path}: {problem}; {fix}")
    return t


@lru_cache(maxsize=16)
def _catalog(language: str) -> NullTranslations:
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():  # pragma: no cover - languages() found its .mo
        log.warning("no catalog %s; the text is English", path)
        return NullTranslations()
    return load_catalog(path)


def check_catalogs(langs: Iterable[str] | None = None) -> None:
    """Load the catalog of each language (default: every compiled one, any of which an
    account's locale may name) so a broken one stops a batch before anything renders."""
    problems = []
    for language in languages() if langs is None else langs:
        try:
            _catalog(language)
        except CatalogError as exc:
            problems.append(str(exc))
    if problems:
        raise CatalogError("\n".join(problems))


class Translator:
    """Translates messages into one locale's language; also names the locale for Babel.

    ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext`` behave as the standard
    library's (plural forms from the catalog's ``Plural-Forms`` header); the result is a
    template to fill with ``.format(name=value)``.
    """

    def __init__(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self._t = _catalog(resolution.language)

    @property
    def tag(self) -> str:
        """The BCP 47 tag asked for (normalised), e.g. ``ka-GE``."""
        return self.resolution.tag

    @property
    def language(self) -> str:
        """The language of the text: the catalog used (``en`` when none)."""
        return self.resolution.language

    @property
    def locale(self) -> babel.Locale:
        """The CLDR locale numbers, money and dates are formatted with."""
        return self.resolution.cldr

    @property
    def html_lang(self) -> str:
        """The document's ``lang`` attribute: the tag when its language is the text's."""
        return self.tag if self.tag.split("-")[0] == self.language else self.language

    def gettext(self, message: str) -> str:
        """The translation of `message` (itself when the catalog has none)."""
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int | float) -> str:
        """The plural form of a counted message for the count `n`."""
        return self._t.ngettext(singular, plural, _count(n))

    def pgettext(self, context: str, message: str) -> str:
        """`gettext` for a message whose meaning depends on `context` (e.g. a short label)."""
        return self._t.pgettext(context, message)

    def npgettext(self, context: str, singular: str, plural: str, n: int | float) -> str:
        """`ngettext` with a context."""
        return self._t.npgettext(context, singular, plural, _count(n))

    def __repr__(self) -> str:
        return f"Translator(tag={self.tag!r}, language={self.language!r})"


def _count(n: int | float) -> int:
    """gettext's plural formulas take whole numbers."""
    try:
        return abs(int(n))
    except (TypeError, ValueError, OverflowError):
        return 0


@lru_cache(maxsize=64)
def translator(tag: str | None = None) -> Translator:
    """The translator for a BCP 47 tag (``None`` or empty: English)."""
    return Translator(resolve(tag))


__all__ = [
    "C_",
    "CatalogError",
    "KEYWORDS",
    "N_",
    "PLURAL_CHECK_COUNTS",
    "Resolution",
    "SUPPORTED",
    "Translator",
    "catalog_language",
    "catalog_path",
    "check_catalogs",
    "cldr_gaps",
    "known",
    "languages",
    "load_catalog",
    "normalise",
    "parse_plural_forms",
    "plural_range_problem",
    "resolve",
    "translator",
]
