"""The review's HTML printed to PDF by headless Chromium (`valuelib.render.chromium`), the
``chromium`` PDF engine: the same HTML, guards and house CSS as the WeasyPrint engine.

Chromium has no ``string-set``, so what print.css takes from the document into the page
margins (the running title on the cover, the internal mark) is written into a stylesheet of
this document's own. The bundled fonts reach the browser as its only installed fonts (a
private fontconfig), named by ``local()`` in the same ``@font-face`` rules as WeasyPrint's:
the page reads nothing but the document, and no font is decoded again for each document.

Nor can Chromium carry the current section into the header (named pages would break the page
before every section), so a document with sections gets its header stamped in afterwards:
the document's outline says where each section heading landed, which gives each page its
section as WeasyPrint's ``string(vr-section, start)`` does; a second, tiny document (the same
head, one page per section with the title and the section in the same margin boxes, so they
share the header's width as print.css has it) is printed, and its pages are drawn over the
matching pages as artifacts, in an incremental update (`pdf_update.stamp`). The PDF's dates
are the document's own (``dcterms.created`` and ``.modified``, as WeasyPrint's), else
``SOURCE_DATE_EPOCH``'s, else none; the same document prints to the same bytes.
"""

from __future__ import annotations

import functools
import html as html_lib
import io
import logging
import os
import re
import threading
import time
from typing import Any

from pypdf import PdfReader

from valuelib.render import chromium, pdf_update
from valuelib.render.export import ResourceRefusedError, ReviewPDFExporter, refused_message
from valuelib.render.templates import STATIC_DIR
from valuelib.report import fonts

__all__ = [
    "ChromiumPDFWriter",
    "ReviewChromiumPDFExporter",
    "chromium_css",
]

#: The template's print rules for Chromium only, read after print.css.
CHROMIUM_CSS = "print-chromium.css"
#: Times a print is tried again, by a new browser, when the browser exited or hung while
#: printing (a crash or a hang, a few in 1,000 documents here; the same document then prints).
PRINT_RETRIES = 1
#: The share of a print's time limit each try but the last may take: a browser that hangs is
#: replaced and the print tried again within the rest of the limit, so a passing hang costs a
#: third of it rather than the document, and a lasting one no more than the limit.
TRY_SHARE = 1 / 3
#: The end of the warning a worker logs when it tries a print again.
RETRYING = "printing it again with a new browser"

log = logging.getLogger(__name__)

_DOC_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)
_RUNNING_TITLE = re.compile(r'<p class="vr-running-title">(.*?)</p>', re.DOTALL)
_INTERNAL_FLAG = re.compile(r'<p class="vr-internal-flag"[^>]*>(.*?)</p>', re.DOTALL)
_HEAD_END = re.compile(r"</head>", re.IGNORECASE)
#: The cover, the first page (print.css: its own page, with no header).
_COVER = re.compile(r'<[a-z]+ class="vr-cover(?: [^"]*)?"')
#: The headings that set the running section (print.css: ``h2 { string-set: vr-section }``).
_SECTION = re.compile(r"<h2\b[^>]*>(.*?)</h2>", re.DOTALL | re.IGNORECASE)
#: How the header stamps print: no tags, outline or backgrounds (only the header's text).
STAMP_OPTIONS = {"generateTaggedPDF": False, "generateDocumentOutline": False,
                 "printBackground": False}


def _local_src(file: str) -> str:
    """A bundled face by its PostScript name, as the browser's fontconfig knows it."""
    from fontTools.ttLib import TTFont

    with TTFont(fonts.FONTS_DIR / file, lazy=True) as font:
        return f'local("{font["name"].getDebugName(6)}")'


@functools.cache
def _static_css() -> str:
    """The bundled fonts' rules and the template's `CHROMIUM_CSS` (if it has one)."""
    path = STATIC_DIR / CHROMIUM_CSS
    own = path.read_text(encoding="utf-8") if path.is_file() else ""
    return fonts.stylesheet(src=_local_src) + "@media print {\n" + own + "}\n"


def _text(markup: str) -> str:
    """HTML text: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]*>", "", markup)).split())


def _css_string(markup: str) -> str:
    """HTML text (tags dropped, entities decoded) as a quoted CSS string."""
    text = _text(markup)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return f'"{escaped}"'


def _title(html: str) -> str:
    """The running title (the cover's) as CSS content, or ``none``."""
    title = _RUNNING_TITLE.search(html)
    return _css_string(title.group(1)) if title else "none"


def chromium_css(html: str, *, title: bool = True) -> str:
    """This document's own print rules for Chromium: the bundled fonts, the template's
    `CHROMIUM_CSS` and, in the margin boxes, the literal texts print.css takes with
    ``string()`` (which Chromium lacks); the title only if `title` (else the stamps have it)."""
    mark = _INTERNAL_FLAG.search(html)
    boxes = [
        f"@top-left {{ content: {_title(html) if title else 'none'}; }}",
        "@top-right { content: none; }",
        f"@bottom-left {{ content: {_css_string(mark.group(1)) if mark else 'none'}; }}",
    ]
    return "@media print { @page { " + " ".join(boxes) + " } }\n" + _static_css()


def header_stamps(html: str, sections: list[str | None]) -> str:
    """A document of one page per running section, in order: the review's own head (its page
    size, margins and header style), and nothing but the page header: the running title and
    the section (none for None), laid out together as print.css lays them out."""
    head = _HEAD_END.split(html, maxsplit=1)[0]
    rules = [f"@page {{ border: none; @top-left {{ content: {_title(html)}; }}"
             " @top-right { content: none; } @bottom-left { content: none; }"
             " @bottom-right { content: none; } }"]
    rules += [f"@page vr-header-{i} {{ @top-right {{ content: "
              f"{_css_string(html_lib.escape(name)) if name else 'none'}; }} }}"
              for i, name in enumerate(sections)]
    pages = "".join(f'<div class="vr-header" style="page: vr-header-{i}"></div>'
                    for i in range(len(sections)))
    return (f'{head}<style id="vr-header-css">@media print {{ {" ".join(rules)} }}\n'
            ".vr-header { height: 1px; break-after: page; }\n"
            ".vr-header:last-child { break-after: auto; }</style>\n"
            f"</head><body>{pages}</body></html>\n")


def _meta_date(html: str, name: str) -> str | None:
    """The document's ``dcterms.<name>`` date as a PDF date (WeasyPrint's PDF dates)."""
    m = re.search(rf'<meta name="dcterms\.{name}" content="([^"]*)"', html)
    return pdf_update.pdf_date(html_lib.unescape(m.group(1))) if m else None


class ChromiumPDFWriter:
    """Prints review HTML with this process's browser; a page that asks for any URL
    (network or file) makes a customer document a :class:`ResourceRefusedError`."""

    def __init__(self, browser: chromium.Browser | None = None) -> None:
        self._browser = browser or chromium.Browser(env=chromium.fonts_env())
        self._lock = threading.Lock()

    @property
    def browser(self) -> chromium.Browser:
        """The browser this writer prints with."""
        return self._browser

    def close(self) -> None:
        """Stop the browser (a later document starts a new one)."""
        self._browser.close()

    def write(self, html: str, base_url: str | None = None, *, customer: bool = True,
              timeout: float | None = None) -> bytes:
        """The HTML as PDF bytes (`base_url` is unused: the document reads no file), each of
        its prints within `timeout` seconds (else the browser's own limit)."""
        html = fonts.without_web_fonts(html)  # the bundled files, by the same names, instead
        sections = [_text(m) for m in _SECTION.findall(html)]
        cover = _COVER.search(html) is not None
        style = (f'<style id="vr-chromium-css">\n{chromium_css(html, title=not sections)}'
                 "</style>\n")
        html, found = _HEAD_END.subn(lambda m: style + m.group(0), html, count=1)
        if not found:
            html = style + html
        with self._lock:
            pdf, blocked = self._print(html, timeout=timeout)
            if blocked and customer:
                raise ResourceRefusedError(refused_message(blocked[0]))
            if sections:
                pdf = self._with_headers(html, pdf, sections, cover=cover, timeout=timeout)
        epoch = pdf_update.epoch_date(os.environ.get("SOURCE_DATE_EPOCH"))
        return pdf_update.reproducible(pdf, _meta_date(html, "created") or epoch,
                                       _meta_date(html, "modified") or epoch)

    def _print(self, html: str, *, timeout: float | None = None,
               **options: Any) -> tuple[bytes, list[str]]:
        """`Browser.pdf` within `timeout` (else the browser's), tried again with a new browser
        if the browser exited or hung (see `TRY_SHARE`); any other failure is final."""
        limit = timeout or self._browser.timeout
        end = time.monotonic() + limit
        for attempt in range(PRINT_RETRIES + 1):
            last = attempt == PRINT_RETRIES
            this_try = max(0.01, end - time.monotonic()) if last else limit * TRY_SHARE
            try:
                return self._browser.pdf(html, timeout=this_try, **options)
            except (chromium.BrowserExited, chromium.BrowserHung) as exc:
                if last:
                    raise type(exc)(f"{exc} (tried {attempt + 1} times, each with a new browser; "
                                    f"limit {limit:g} s, --print-timeout)") from None
                title = _DOC_TITLE.search(html)
                # repr(): the title is the customer's text; no control character reaches
                # the operator's terminal.
                log.warning("%s (%r); %s", exc, _text(title.group(1)) if title else "untitled",
                            RETRYING)
        raise AssertionError("unreachable")

    def _with_headers(self, html: str, pdf: bytes, sections: list[str], *,
                      cover: bool, timeout: float | None) -> bytes:
        """`pdf` with each page's header (title and running section) stamped in, but on the
        cover (see the module's notes)."""
        reader = PdfReader(io.BytesIO(pdf))
        per_page = pdf_update.section_per_page(pdf_update.headings(reader), sections,
                                               len(reader.pages))
        names = list(dict.fromkeys(per_page[1:] if cover else per_page))
        stamps, _ = self._print(header_stamps(html, names), timeout=timeout,
                                options=STAMP_OPTIONS)
        stamps = pdf_update.reproducible(stamps)
        placement: list[int | None] = [None if cover and i == 0 else names.index(n)
                                       for i, n in enumerate(per_page)]
        return pdf_update.stamp(pdf, stamps, placement, reader=reader)


class ReviewChromiumPDFExporter(ReviewPDFExporter):
    """nbconvert exporter (``valuereview_pdf_chromium``): the review's HTML, with every
    guard of :class:`ReviewPDFExporter`, printed to PDF by headless Chromium."""

    export_from_notebook = "Value review (PDF, Chromium)"
    writer_class = ChromiumPDFWriter

