"""The facts the nbconvert template needs about a document: language, title, page footer.

The page footer is presentation styling (a CSS ``content`` value for WeasyPrint's ``@page``
rule); its words come from the document's translator, its CSS is made here.
"""

from __future__ import annotations

import datetime as dt

from valuelib.report.i18n import Translator

#: The executed notebook's document facts for the nbconvert template (language, title,
#: page footer), displayed once under this MIME type; invisible in the document.
DOCUMENT_MIME = "application/vnd.valuereview.document+json"


def css_string(text: str) -> str:
    """`text` as a CSS string literal, safe inside a ``<style>`` element."""
    out = ['"']
    for ch in text:
        if ch in '"\\' or ch in "<>&" or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def page_counter_css(tr: Translator) -> str:
    """The PDF footer's "Page N of M" as a CSS ``content`` value in the document's language."""
    template = tr.gettext("Page {page} of {pages}")
    parts: list[str] = []
    rest = template
    while rest:
        i = min((rest.find(k) for k in ("{page}", "{pages}") if k in rest), default=-1)
        if i < 0:
            parts.append(css_string(rest))
            break
        if i:
            parts.append(css_string(rest[:i]))
        key = "{pages}" if rest.startswith("{pages}", i) else "{page}"
        parts.append("counter(pages)" if key == "{pages}" else "counter(page)")
        rest = rest[i + len(key) :]
    return " ".join(parts)


def document_facts(tr: Translator, title: str, as_of: dt.date | None = None) -> dict[str, str]:
    """What the HTML template needs to know about a document: lang, title, page footer, and
    the data's as-of date (the PDF's creation and modification dates, never the clock's)."""
    facts = {"lang": tr.html_lang, "title": title, "page_counter": page_counter_css(tr)}
    if as_of is not None:
        facts["date"] = as_of.isoformat()
    return facts


def declare_document(tr: Translator, title: str, as_of: dt.date | None = None) -> None:
    """Display the document facts (call once in a notebook; the template reads them)."""
    from IPython.display import display

    display({DOCUMENT_MIME: document_facts(tr, title, as_of)}, raw=True)
