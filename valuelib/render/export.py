"""Export an executed review notebook to branded HTML and, from that HTML, to PDF.

Two nbconvert exporters (registered as ``valuereview_html`` and ``valuereview_pdf``
entry points, so ``jupyter nbconvert --to valuereview_pdf x.ipynb`` works) and an
:class:`Exporters` pair of warm, reusable objects for the batch, which converts
hundreds of notebooks per process and should not rebuild Jinja environments or
font configurations for each one.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from nbconvert.exporters import Exporter, HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode
from traitlets import default, validate
from traitlets.config import Config

from valuelib.blocks import INTERNAL_ATTR
from valuelib.render.templates import TEMPLATE_DIR, TEMPLATE_NAME

__all__ = [
    "TEMPLATE_DIR",
    "TEMPLATE_NAME",
    "Exporters",
    "InternalContentError",
    "ReviewHTMLExporter",
    "ReviewPDFExporter",
    "export_html",
    "html_to_pdf",
]

log = logging.getLogger(__name__)

#: Output mimetypes, best first. The template applies the same order itself, and
#: never shows widgets or JavaScript; this keeps nbconvert's own filters in line.
DISPLAY_PRIORITY = [
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/markdown",
    "text/plain",
]


class InternalContentError(ValueError):
    """A customer review contains markup meant for internal reviews only."""


class ReviewHTMLExporter(HTMLExporter):
    """nbconvert exporter for a value review: our template, no code, no prompts.

    It skips HTMLExporter's BeautifulSoup post-pass (image alt text, focus attributes
    for JupyterLab's DOM), which our template does not need and which costs more than
    rendering the template itself.
    """

    export_from_notebook = "Value review (HTML)"

    @default("template_name")
    def _template_name_default(self) -> str:
        return TEMPLATE_NAME

    @default("extra_template_basedirs")
    def _default_extra_template_basedirs(self) -> list[str]:
        return [str(TEMPLATE_DIR)]

    @validate("extra_template_basedirs")
    def _keep_our_template_dir(self, proposal: dict[str, Any]) -> list[str]:
        dirs = list(proposal["value"])
        return dirs if str(TEMPLATE_DIR) in dirs else [*dirs, str(TEMPLATE_DIR)]

    @default("exclude_input")
    def _exclude_input_default(self) -> bool:
        return True

    @default("exclude_input_prompt")
    def _exclude_input_prompt_default(self) -> bool:
        return True

    @default("exclude_output_prompt")
    def _exclude_output_prompt_default(self) -> bool:
        return True

    @default("exclude_anchor_links")
    def _exclude_anchor_links_default(self) -> bool:
        return True

    @default("optimistic_validation")
    def _optimistic_validation_default(self) -> bool:
        # Validate the notebook once, not after each of the eleven preprocessors:
        # that alone was 60% of a warm conversion.
        return True

    @default("embed_images")
    def _embed_images_default(self) -> bool:
        # Images referenced from markdown cells become data URIs: self-contained HTML.
        return True

    @property
    def default_config(self) -> Config:
        c = super().default_config.copy()
        c.merge(
            Config(
                {
                    "NbConvertBase": {"display_data_priority": DISPLAY_PRIORITY},
                    # No code is shown, so there is nothing to highlight.
                    "HighlightMagicsPreprocessor": {"enabled": False},
                    # Analysts can hide a scratch cell, or its output, with a tag.
                    "TagRemovePreprocessor": {
                        "enabled": True,
                        "remove_cell_tags": ["remove_cell"],
                        "remove_all_outputs_tags": ["remove_output"],
                    },
                }
            )
        )
        return c

    def from_notebook_node(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """Render the notebook through our template (without the BeautifulSoup pass)."""
        resources = self._init_resources(resources)
        # The two per-notebook filters HTMLExporter registers (other templates use them).
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            ),
        )
        try:
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        finally:
            # nbconvert keeps every converted notebook's metadata here; a warm exporter
            # converting thousands of notebooks must not.
            self._nb_metadata.clear()


def _weasyprint() -> Any:
    """Import WeasyPrint lazily: HTML-only runs and the CLI's --help stay fast."""
    import weasyprint

    return weasyprint


#: The template's inlined stylesheets (``<style id="vr-review-css">`` and
#: ``<style id="vr-print-css" media="print">``), swapped for pre-parsed copies.
_OWN_STYLES = re.compile(r'<style id="vr-(?:review|print)-css"[^>]*>.*?</style>\s*', re.DOTALL)
_INLINE_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.DOTALL)
_ARIA_LABEL = re.compile(r'^<svg\b[^>]*?\saria-label="([^"]*)"')


def _svg_as_image(match: re.Match[str]) -> str:
    """An inline SVG as an ``<img>`` data URI, drawn the same by WeasyPrint.

    Inline, every SVG node goes through WeasyPrint's HTML parser and CSS cascade;
    as an image it is parsed as XML and only drawn, a third faster for a chart-heavy
    review. SVG that is not well-formed XML is left inline.
    """
    svg = match.group(0)
    try:
        ET.fromstring(svg)
    except ET.ParseError:
        return svg
    label = _ARIA_LABEL.match(svg)
    alt = label.group(1) if label else ""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="vr-svg" alt="{alt}" src="data:image/svg+xml;base64,{data}">'


class _PDFWriter:
    """WeasyPrint with a reused font configuration, pre-parsed house CSS and an
    offline URL fetcher."""

    def __init__(self) -> None:
        weasyprint = _weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        self._html_cls = weasyprint.HTML
        self._font_config = FontConfiguration()
        # Only inline data and local files: a review never reaches the network.
        self._url_fetcher = weasyprint.URLFetcher(allowed_protocols=("data", "file"))
        static = TEMPLATE_DIR / TEMPLATE_NAME / "static"
        self._stylesheets = [
            weasyprint.CSS(
                string=(static / name).read_text(encoding="utf-8"),
                font_config=self._font_config,
                url_fetcher=self._url_fetcher,
            )
            for name in ("review.css", "print.css")
        ]
        self._lock = threading.Lock()

    def write(self, html: str, base_url: str | None = None) -> bytes:
        # Our own stylesheets are parsed once (about 50 ms saved per document).
        html, own = _OWN_STYLES.subn("", html)
        html = _INLINE_SVG.sub(_svg_as_image, html)
        with self._lock:  # font configuration and fetcher are not thread-safe
            document = self._html_cls(string=html, base_url=base_url, url_fetcher=self._url_fetcher)
            return document.write_pdf(
                font_config=self._font_config,
                stylesheets=self._stylesheets if own else None,
            )


class ReviewPDFExporter(Exporter):
    """nbconvert exporter: the review's HTML rendered to PDF bytes by WeasyPrint."""

    export_from_notebook = "Value review (PDF)"
    output_mimetype = "application/pdf"

    _html_exporter: ReviewHTMLExporter | None = None
    _writer: _PDFWriter | None = None

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[bytes, dict[str, Any]]:
        """Convert to HTML with :class:`ReviewHTMLExporter`, then to PDF."""
        if self._html_exporter is None:
            self._html_exporter = ReviewHTMLExporter(parent=self)
        if self._writer is None:
            self._writer = _PDFWriter()
        html, resources = self._html_exporter.from_notebook_node(nb, resources, **kw)
        path = resources.get("metadata", {}).get("path") or None
        base_url = Path(path).resolve().as_uri() + "/" if path else None
        pdf = self._writer.write(html, base_url=base_url)
        resources["output_extension"] = self.file_extension
        return pdf, resources


class Exporters:
    """A warm HTML exporter and PDF writer, reused across a batch's notebooks."""

    def __init__(self, config: Config | None = None) -> None:
        self._html = ReviewHTMLExporter(config=config) if config else ReviewHTMLExporter()
        self._pdf: _PDFWriter | None = None

    def html(
        self,
        nb: NotebookNode,
        *,
        title: str | None = None,
        audience: str | None = None,
        lang: str | None = None,
        author: str | None = None,
    ) -> str:
        """The notebook as one self-contained HTML document.

        ``title`` becomes ``<title>`` (and the PDF's title); ``lang`` the document
        language (BCP 47). With ``audience="customer"`` any internal-only markup from
        ``valuelib.blocks`` (internal notes, the internal cover mark) is an error:
        :class:`InternalContentError`, rather than a leaked document.
        """
        resources: dict[str, Any] = {"metadata": {"name": title or "Value review"}}
        if title:
            resources["vr_title"] = title
        if lang:
            resources["vr_lang"] = lang
        if author:
            resources["vr_author"] = author
        html, _ = self._html.from_notebook_node(nb, resources)
        if audience == "customer" and INTERNAL_ATTR in html:
            raise InternalContentError(
                "customer review contains internal-only content (an internal note or the "
                "internal cover mark); render it with audience 'internal' or drop those cells"
            )
        return html

    def pdf(self, html: str, *, base_url: str | None = None) -> bytes:
        """The HTML document printed to PDF (A4, cover, page numbers, fonts embedded)."""
        if self._pdf is None:
            self._pdf = _PDFWriter()
        return self._pdf.write(html, base_url=base_url)


_shared: Exporters | None = None
_shared_lock = threading.Lock()


def _exporters() -> Exporters:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Exporters()
        return _shared


def export_html(nb: NotebookNode, *, title: str | None = None) -> str:
    """Convenience: :meth:`Exporters.html` on a lazily created shared instance."""
    return _exporters().html(nb, title=title)


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Convenience: :meth:`Exporters.pdf` on a lazily created shared instance."""
    return _exporters().pdf(html, base_url=base_url)
