"""Executing review notebooks and exporting them to HTML and PDF (see the modules)."""

#: The engine that prints a review's HTML to PDF (`export`); part of every document's cache key.
PDF_ENGINE = "weasyprint"
#: Every engine `valuereview render --pdf-engine` takes (besides ``auto``), the default first.
PDF_ENGINES = (PDF_ENGINE, "chromium")
