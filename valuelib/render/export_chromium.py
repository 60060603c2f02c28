"""The review's HTML printed to PDF by headless Chromium (`valuelib.render.chromium`), the
``chromium`` PDF engine: the same HTML, guards and house CSS as the WeasyPrint engine.

Chromium has no ``string-set``, so what print.css takes from the document into the page
margins (the running title on the cover, the internal mark) is written into a stylesheet of
this document's own. The bundled fonts reach the browser as its only installed fonts (a
private fontconfig), named by ``local()`` in the same ``@font-face`` rules as WeasyPrint's:
the page reads nothing but the document, and no font is decoded again for each document.

Chromium cannot carry the current section into the header without breaking the page before
every section (named pages would), so its header holds the title only.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import tempfile
import threading
from pathlib import Path

from valuelib.render import chromium
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

_RUNNING_TITLE = re.compile(r'<p class="vr-running-title">(.*?)</p>', re.DOTALL)
_INTERNAL_FLAG = re.compile(r'<p class="vr-internal-flag"[^>]*>(.*?)</p>', re.DOTALL)
_HEAD_END = re.compile(r"</head>", re.IGNORECASE)


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


_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir>
<match target="font"><edit name="hinting" mode="assign"><bool>false</bool></edit>
<edit name="hintstyle" mode="assign"><const>hintnone</const></edit>
<edit name="autohint" mode="assign"><bool>false</bool></edit>
<edit name="antialias" mode="assign"><bool>true</bool></edit>
<edit name="rgba" mode="assign"><const>none</const></edit></match></fontconfig>
"""


@functools.cache
def _fontconfig() -> dict[str, str]:
    """The browser's environment for fonts: a fontconfig that knows the bundled fonts only
    (so no font of the machine can be used), in a private folder kept for this process."""
    folder = tempfile.TemporaryDirectory(prefix="vr-chromium-fonts-")
    _keep.append(folder)
    conf = Path(folder.name) / "fonts.conf"
    conf.write_text(_FONTCONFIG.format(fonts=html_lib.escape(str(fonts.FONTS_DIR)),
                                       cache=html_lib.escape(folder.name)), encoding="utf-8")
    return {"FONTCONFIG_FILE": str(conf)}


_keep: list[tempfile.TemporaryDirectory[str]] = []


def _css_string(markup: str) -> str:
    """HTML text (tags dropped, entities decoded) as a quoted CSS string."""
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]*>", "", markup)).split())
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return f'"{escaped}"'


def chromium_css(html: str) -> str:
    """This document's own print rules for Chromium: the bundled fonts, the template's
    `CHROMIUM_CSS` and, in the margin boxes, the literal texts print.css takes with
    ``string()`` (which Chromium lacks)."""
    title = _RUNNING_TITLE.search(html)
    mark = _INTERNAL_FLAG.search(html)
    boxes = [
        f"@top-left {{ content: {_css_string(title.group(1)) if title else 'none'}; }}",
        "@top-right { content: none; }",
        f"@bottom-left {{ content: {_css_string(mark.group(1)) if mark else 'none'}; }}",
    ]
    return "@media print { @page { " + " ".join(boxes) + " } }\n" + _static_css()


class ChromiumPDFWriter:
    """Prints review HTML with this process's browser; a page that asks for any URL
    (network or file) makes a customer document a :class:`ResourceRefusedError`."""

    def __init__(self, browser: chromium.Browser | None = None) -> None:
        self._browser = browser or chromium.Browser(env=_fontconfig())
        self._lock = threading.Lock()

    @property
    def browser(self) -> chromium.Browser:
        """The browser this writer prints with."""
        return self._browser

    def close(self) -> None:
        """Stop the browser (a later document starts a new one)."""
        self._browser.close()

    def write(self, html: str, base_url: str | None = None, *, customer: bool = True) -> bytes:
        """The HTML as PDF bytes (`base_url` is unused: the document reads no file)."""
        style = f'<style id="vr-chromium-css">\n{chromium_css(html)}</style>\n'
        html, found = _HEAD_END.subn(lambda m: style + m.group(0), html, count=1)
        if not found:
            html = style + html
        with self._lock:
            pdf, blocked = self._browser.pdf(html)
        if blocked and customer:
            raise ResourceRefusedError(refused_message(blocked[0]))
        return pdf


class ReviewChromiumPDFExporter(ReviewPDFExporter):
    """nbconvert exporter (``valuereview_pdf_chromium``): the review's HTML, with every
    guard of :class:`ReviewPDFExporter`, printed to PDF by headless Chromium."""

    export_from_notebook = "Value review (PDF, Chromium)"
    writer_class = ChromiumPDFWriter

