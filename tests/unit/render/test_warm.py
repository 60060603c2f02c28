"""The batch's preloading process warms what its engine uses, and starts nothing else."""

from __future__ import annotations

from typing import Any

from valuelib.render.kernels import warm


class _Recorder:
    """Exporters that record what they are asked to make."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def html(self, nb: Any, **kwargs: Any) -> str:
        self.calls.append("html")
        assert len(nb.cells[0].outputs) > 5, "a review-shaped sample"
        return "<html></html>"

    def pdf(self, html: str, **kwargs: Any) -> bytes:
        self.calls.append("pdf")
        return b"%PDF"


def test_the_sample_is_printed_only_by_weasyprint():
    """WeasyPrint's fonts are worth loading once before the workers fork; a browser is never
    started in the preloading process (each worker starts its own)."""
    for engine, expected in (("weasyprint", ["html", "pdf"]), ("chromium", ["html"])):
        rec = _Recorder()
        warm.export_caches(rec, engine)
        assert rec.calls == expected, engine
