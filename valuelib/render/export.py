"""Export an executed review notebook to branded HTML and, from that HTML, to PDF.

Two nbconvert exporters (registered as ``valuereview_html`` and ``valuereview_pdf``
entry points, so ``jupyter nbconvert --to valuereview_pdf x.ipynb`` works) and an
:class:`Exporters` pair of warm, reusable objects for the batch, which converts
hundreds of notebooks per process and should not rebuild Jinja environments or
font configurations for each one.

Every path (the batch, Dask, ``jupyter nbconvert --to valuereview_html|valuereview_pdf``)
goes through the same guards: :class:`CustomerGuardPreprocessor` refuses a customer notebook
with internal-only markup, :class:`ReviewHTMLExporter` refuses customer HTML with active
content or references outside the document, the PDF writer reads only ``data:`` URLs and
files under :data:`ALLOWED_FILE_ROOTS`, and refuses a customer PDF with embedded files.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import logging
import os
import re
import threading
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nbconvert.exporters import Exporter, HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import default, validate
from traitlets.config import Config

from valuelib.render import PDF_ENGINE, guards
from valuelib.render.templates import STATIC_DIR, TEMPLATE_DIR, TEMPLATE_NAME
from valuelib.report import fonts
from valuelib.report.blocks import INTERNAL_ATTR

__all__ = [
    "ALLOWED_FILE_ROOTS",
    "TEMPLATE_DIR",
    "TEMPLATE_NAME",
    "CustomerGuardPreprocessor",
    "EmbeddedFileError",
    "ExportRefusedError",
    "Exporters",
    "InternalContentError",
    "NotExecutedError",
    "ResourceRefusedError",
    "ReviewHTMLExporter",
    "ReviewPDFExporter",
    "UnsafeContentError",
    "check_customer_html",
    "export_html",
    "html_to_pdf",
    "refused_message",
    "review_url_fetcher",
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


#: The only folders whose files WeasyPrint may read (symlinks resolved): the template's
#: static assets and the bundled fonts (`valuelib.report.fonts`).
ALLOWED_FILE_ROOTS: tuple[Path, ...] = (STATIC_DIR, fonts.FONTS_DIR)

#: The audience whose documents leave the company, and get every check below.
CUSTOMER = "customer"


class ExportRefusedError(ValueError):
    """A document was not written because of what it holds or asks for."""


class InternalContentError(ExportRefusedError):
    """A customer review contains markup meant for internal reviews only."""


class UnsafeContentError(ExportRefusedError):
    """Customer HTML holds active content (script, event handler, embedded document) or
    refers to something outside itself."""


class ResourceRefusedError(ExportRefusedError):
    """WeasyPrint asked for a URL a review may not read (network, or a file outside
    the allowed folders)."""


class EmbeddedFileError(ExportRefusedError):
    """A customer PDF would carry embedded files (attachments)."""


class NotExecutedError(ExportRefusedError):
    """The notebook has never run: exported, it would be a blank document."""


def _internal_error(where: str) -> InternalContentError:
    return InternalContentError(
        f"customer review contains internal-only content (an internal note or the internal "
        f"cover mark) in {where}; render it with audience 'internal' or drop those cells"
    )


def check_customer_html(html: str) -> None:
    """Raise if customer HTML holds internal markup, active content or an outside URL."""
    if guards.has_attribute(html, INTERNAL_ATTR):
        raise _internal_error("the rendered HTML")
    problem = guards.html_problem(html)
    if problem:
        raise UnsafeContentError(f"customer review refused: it contains {problem}")


class CustomerGuardPreprocessor(Preprocessor):
    """Resolves the document's audience and refuses a customer notebook whose shown
    outputs carry internal-only markup, before anything is rendered.

    The audience is ``resources["vr_audience"]`` when the caller gives one, else the
    executed notebook's own (`guards.notebook_audience`); it is left in ``resources`` for
    the exporters' checks of the rendered document.
    """

    def __call__(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Run even when disabled by configuration: this guard is not optional."""
        return self.preprocess(nb, resources)

    def preprocess(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Check the whole notebook once (cells were already tag-filtered)."""
        audience = resources.get("vr_audience") or guards.notebook_audience(nb)
        resources["vr_audience"] = audience
        if audience == CUSTOMER:
            where = guards.internal_markup(nb, INTERNAL_ATTR)
            if where:
                raise _internal_error(where)
        return nb, resources


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

    def _init_preprocessors(self) -> None:
        super()._init_preprocessors()
        # Last, after the tag filter: it checks what the document will show.
        self.register_preprocessor(CustomerGuardPreprocessor(parent=self), enabled=True)

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
        """Render the notebook through our template (without the BeautifulSoup pass), then
        refuse a customer document with internal, active or outside content."""
        if not guards.executed(nb):
            raise NotExecutedError(
                "the notebook has not been executed (no code cell has run), so the review "
                "would be blank; execute it first: valuereview render, papermill, or Run All "
                "in Jupyter")
        resources = self._init_resources(resources)
        # Resolved here too, so the checks below never depend on the preprocessor's run.
        resources["vr_audience"] = resources.get("vr_audience") or guards.notebook_audience(nb)
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
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        finally:
            # nbconvert keeps every converted notebook's metadata here; a warm exporter
            # converting thousands of notebooks must not.
            self._nb_metadata.clear()
        # The few glyphs a reader's fonts may lack travel with the document (the PDF engines
        # remove them again and use the bundled files).
        html = fonts.with_web_fonts(html)
        if resources.get("vr_audience") == CUSTOMER:
            check_customer_html(html)
        return html, resources


def _weasyprint() -> Any:
    """Import WeasyPrint lazily: HTML-only runs and the CLI's --help stay fast.

    On a machine without fonts WeasyPrint warns at import that the output will be ugly; the
    documents use only the bundled fonts (`valuelib.report.fonts`), so that warning is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No fonts configured in FontConfig", UserWarning)
        import weasyprint

    return weasyprint


#: The template's inlined stylesheets (``<style id="vr-review-css">`` and
#: ``<style id="vr-print-css" media="print">``), swapped for pre-parsed copies.
_OWN_STYLES = re.compile(r'<style id="vr-(?:review|print)-css"[^>]*>.*?</style>\s*', re.DOTALL)
_INLINE_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.DOTALL)
_ARIA_LABEL = re.compile(r'^<svg\b[^>]*?\saria-label="([^"]*)"')
_FONT_FAMILY = re.compile(r'\sfont-family="([^"]*)"')


def _font_family_list(match: re.Match[str]) -> str:
    """A ``font-family`` attribute without spaces between its names: WeasyPrint's SVG text
    splits the list at commas and strips only quotes, so ``'A', 'B'`` would look for a font
    called `` 'B`` and leave every family after the first to the machine's fonts."""
    names = (name.strip().strip("\"'").strip() for name in match.group(1).split(","))
    return ' font-family="' + ",".join(f"'{name}'" for name in names if name) + '"'



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
    svg = _FONT_FAMILY.sub(_font_family_list, svg)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="vr-svg" alt="{alt}" src="data:image/svg+xml;base64,{data}">'


@functools.cache
def _fetcher_classes() -> tuple[type, type]:
    """WeasyPrint's URL fetcher narrowed to what a review needs, and the exception it raises
    (fatal to WeasyPrint, which otherwise logs a failed fetch and renders without it)."""
    weasyprint = _weasyprint()
    from weasyprint.urls import FatalURLFetchingError

    class Refused(FatalURLFetchingError):
        """A URL the review may not read; stops the rendering."""

    class ReviewURLFetcher(weasyprint.URLFetcher):
        """Reads ``data:`` URLs and files under the allowed folders; refuses the rest."""

        def __init__(self, roots: Iterable[Path]) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
            self.roots = tuple(os.path.realpath(root) for root in roots)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                real = guards.file_url_path(url, self.roots)
                if real is not None:  # read the resolved file, not the link
                    return super().fetch(Path(real).as_uri(), headers)
            self.refused.append(url)
            raise Refused(url)

    return ReviewURLFetcher, Refused


def review_url_fetcher(roots: Iterable[Path] = ALLOWED_FILE_ROOTS) -> Any:
    """A WeasyPrint URL fetcher that reads only ``data:`` URLs and files under `roots`
    (symlinks resolved); any other URL stops the rendering (see :class:`_PDFWriter`)."""
    fetcher_cls, _ = _fetcher_classes()
    return fetcher_cls(roots)


def refused_message(url: str) -> str:
    """Why a review's PDF was not written: it asked for `url`."""
    shown = url if len(url) <= 200 else url[:200] + "…"
    return (f"refused to read {shown!r}: a review may use only data: URLs, files of its "
            f"template's static folder and the bundled fonts (no network, no other local file)")


def _embedded_files(pdf: Any) -> list[str]:
    """Names of the files embedded in a pydyf PDF about to be written (attachments)."""
    names = []
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("Type") == "/Filespec":
            name = obj.get("UF") or obj.get("F")
            names.append(str(getattr(name, "string", name)))
        elif isinstance(getattr(obj, "extra", None), dict) and (
            obj.extra.get("Type") == "/EmbeddedFile"
        ) and not names:
            names.append("(unnamed)")
    if not names and "EmbeddedFiles" in (pdf.catalog.get("Names") or {}):
        names.append("(unnamed)")
    return names


def _refuse_embedded_files(document: Any, pdf: Any) -> None:
    """WeasyPrint finisher: no customer PDF is written with embedded files."""
    names = _embedded_files(pdf)
    if names:
        raise EmbeddedFileError(
            "customer PDF refused: it would embed file(s) " + ", ".join(map(repr, names))
            + " (an attachment link or <link rel=attachment> in the HTML)"
        )


class _PDFWriter:
    """WeasyPrint with a reused font configuration, pre-parsed house CSS and a URL fetcher
    that reads only what a review needs.

    Text is set only in the bundled fonts (`valuelib.report.fonts`): their ``@font-face`` rules and
    font stacks are a stylesheet applied after the house CSS, which never names them (a
    browser reading the HTML has only its own fonts)."""

    def __init__(self, roots: Iterable[Path] = ALLOWED_FILE_ROOTS) -> None:
        weasyprint = _weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        self._html_cls = weasyprint.HTML
        self._font_config = FontConfiguration()
        self._url_fetcher = review_url_fetcher(roots)
        self._refused = _fetcher_classes()[1]
        with self._fetch_guard():
            self._stylesheets = [
                weasyprint.CSS(
                    string=(STATIC_DIR / name).read_text(encoding="utf-8"),
                    base_url=STATIC_DIR.as_uri() + "/",
                    font_config=self._font_config,
                    url_fetcher=self._url_fetcher,
                )
                for name in ("review.css", "print.css")
            ]
            self._fonts = weasyprint.CSS(
                string=fonts.stylesheet(),
                base_url=fonts.FONTS_DIR.as_uri() + "/",
                font_config=self._font_config,
                url_fetcher=self._url_fetcher,
            )
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _fetch_guard(self) -> Iterator[None]:
        """Turn a refused fetch (or one WeasyPrint swallowed) into ResourceRefusedError."""
        refused = self._url_fetcher.refused
        refused.clear()
        try:
            yield
        except self._refused as exc:
            raise ResourceRefusedError(refused_message(refused[0] if refused else str(exc))) \
                from None
        if refused:
            raise ResourceRefusedError(refused_message(refused[0]))

    def write(self, html: str, base_url: str | None = None, *, customer: bool = True,
              timeout: float | None = None) -> bytes:
        """The HTML as PDF bytes; for a customer document, never one with embedded files.
        (`timeout` is Chromium's: WeasyPrint runs in this process, within the account's
        deadline.)"""
        # Our own stylesheets are parsed once (about 50 ms saved per document).
        html, own = _OWN_STYLES.subn("", fonts.without_web_fonts(html))
        html = _INLINE_SVG.sub(_svg_as_image, html)
        with self._lock, self._fetch_guard():  # font config and fetcher: not thread-safe
            document = self._html_cls(string=html, base_url=base_url, url_fetcher=self._url_fetcher)
            return document.write_pdf(
                font_config=self._font_config,
                stylesheets=[*self._stylesheets, self._fonts] if own else [self._fonts],
                finisher=_refuse_embedded_files if customer else None,
            )


class ReviewPDFExporter(Exporter):
    """nbconvert exporter: the review's HTML rendered to PDF bytes by WeasyPrint."""

    export_from_notebook = "Value review (PDF)"
    output_mimetype = "application/pdf"

    #: What prints the HTML (`ReviewChromiumPDFExporter` names another).
    writer_class: type = _PDFWriter
    _html_exporter: ReviewHTMLExporter | None = None
    _writer: Any = None

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[bytes, dict[str, Any]]:
        """Convert to HTML with :class:`ReviewHTMLExporter` (and its checks), then to PDF;
        unless the notebook's audience is internal, a PDF with embedded files is refused."""
        if self._html_exporter is None:
            self._html_exporter = ReviewHTMLExporter(parent=self)
        if self._writer is None:
            self._writer = self.writer_class()
        html, resources = self._html_exporter.from_notebook_node(nb, resources, **kw)
        path = resources.get("metadata", {}).get("path") or None
        base_url = Path(path).resolve().as_uri() + "/" if path else None
        customer = resources.get("vr_audience") != "internal"
        pdf = self._writer.write(html, base_url=base_url, customer=customer)
        resources["output_extension"] = self.file_extension
        return pdf, resources


class Exporters:
    """A warm HTML exporter and PDF writer, reused across a batch's notebooks."""

    def __init__(self, config: Config | None = None) -> None:
        self._html = ReviewHTMLExporter(config=config) if config else ReviewHTMLExporter()
        self._pdf: dict[str, Any] = {}

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
        language (BCP 47). ``audience`` overrides the notebook's own (its papermill
        parameter). A customer document with internal-only markup from ``valuelib.report.blocks``
        (internal notes, the internal cover mark) is an :class:`InternalContentError`, one
        with active content or outside URLs an :class:`UnsafeContentError`, rather than a
        leaked document.
        """
        resources: dict[str, Any] = {"metadata": {"name": title or "Value review"}}
        if title:
            resources["vr_title"] = title
        if lang:
            resources["vr_lang"] = lang
        if author:
            resources["vr_author"] = author
        if audience:
            resources["vr_audience"] = audience
        html, _ = self._html.from_notebook_node(nb, resources)
        return html

    def pdf(
        self, html: str, *, base_url: str | None = None, audience: str | None = None,
        engine: str = PDF_ENGINE, timeout: float | None = None,
    ) -> bytes:
        """The HTML document printed to PDF (A4, cover, page numbers, fonts embedded) by
        `engine` (`valuelib.render.PDF_ENGINES`; ``auto`` as `chromium.resolve_engine`);
        Chromium's prints within `timeout` seconds each (else `chromium.Browser.timeout`).

        Unless ``audience`` is ``"internal"``, a PDF with embedded files is refused
        (:class:`EmbeddedFileError`); a refused URL is a :class:`ResourceRefusedError`.
        """
        if engine != PDF_ENGINE:
            from valuelib.render.chromium import resolve_engine

            engine = resolve_engine(engine)
        if engine not in self._pdf:
            if engine == PDF_ENGINE:
                self._pdf[engine] = _PDFWriter()
            else:
                from valuelib.render import export_chromium

                self._pdf[engine] = export_chromium.ChromiumPDFWriter()
        return self._pdf[engine].write(html, base_url=base_url, customer=audience != "internal",
                                       timeout=timeout)


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
