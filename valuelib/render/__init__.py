"""Executing review notebooks and exporting them to HTML and PDF (see the modules)."""

#: The engine that prints a review's HTML to PDF when no Chromium is installed (`export`): the
#: fallback of ``auto``. The engine a document was printed with is part of its cache key.
PDF_ENGINE = "weasyprint"
#: Every engine `valuereview render --pdf-engine` takes (besides ``auto``), the fallback first.
PDF_ENGINES = (PDF_ENGINE, "chromium")
#: What `valuereview render --pdf-engine` defaults to: chromium when one is installed, else
#: `PDF_ENGINE` (`chromium.resolve_engine`, resolved once per run).
PDF_ENGINE_DEFAULT = "auto"
