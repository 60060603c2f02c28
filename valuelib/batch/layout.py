"""Where a quarter's files go under ``--out``: what may be shared, and what stays with the team.

::

    output/<quarter>/
      customer/<account_id>/value-review.html|pdf   the only files to send: each folder to its
                                                    own account, nothing else in it
      internal/                                     never sent: the CS team's files
        index.html, manifest.json                   the customer reviews: every account, links
        index-internal.html, manifest-internal.json the internal reviews
        manifest-portfolio.json
        portfolio-review.html|pdf|ipynb             the portfolio review (every account's ARR)
        records/<account_id>/                       how each customer review was made: the
          value-review.ipynb, metrics.json          executed notebook, the figures, and
          value-review.error.ipynb                  a failed run's notebook
        reviews/<account_id>/value-review.*         the internal-audience reviews ("INTERNAL —
                                                    do not send"), with their records

A customer document is never written anywhere but ``customer/``, and nothing else ever is:
an internal render cannot replace one. Bundles and other run artefacts are never written
under ``--out`` at all (the batch keeps them in memory or in a private temporary folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from valuelib.data.schema import PORTFOLIO_ID

__all__ = ["DOCUMENT_FORMATS", "PORTFOLIO_ID", "QuarterLayout"]

#: Files that are the document itself; everything else a task returns is a record of the run.
DOCUMENT_FORMATS = ("html", "pdf")

_SHARE = "customer"
_INTERNAL = "internal"


@dataclass(frozen=True)
class QuarterLayout:
    """The paths of one quarter's outputs under ``out``."""

    out: Path
    quarter: str

    @property
    def root(self) -> Path:
        """``out/<quarter>``."""
        return self.out / self.quarter

    @property
    def share_dir(self) -> Path:
        """Customer documents only: ``customer/<account_id>/`` goes to that account."""
        return self.root / _SHARE

    @property
    def internal_dir(self) -> Path:
        """Everything that must never be sent to a customer."""
        return self.root / _INTERNAL

    def manifest(self, audience: str) -> Path:
        """The manifest of one audience's reviews, or of the portfolio review."""
        suffix = {"customer": "", "internal": "-internal", PORTFOLIO_ID: "-portfolio"}[audience]
        return self.internal_dir / f"manifest{suffix}.json"

    def index(self, audience: str) -> Path:
        """The index page of one audience's reviews."""
        suffix = {"customer": "", "internal": "-internal"}[audience]
        return self.internal_dir / f"index{suffix}.html"

    def document_dir(self, audience: str, account_id: str) -> Path:
        """The folder of an account's document (HTML, PDF) for one audience."""
        if account_id == PORTFOLIO_ID:
            return self.internal_dir
        if audience == "customer":
            return self.share_dir / account_id
        return self.internal_dir / "reviews" / account_id

    def record_dir(self, audience: str, account_id: str) -> Path:
        """The folder of an account's run records (executed notebook, figures, error)."""
        if account_id == PORTFOLIO_ID:
            return self.internal_dir
        if audience == "customer":
            return self.internal_dir / "records" / account_id
        return self.internal_dir / "reviews" / account_id

    def path(self, audience: str, account_id: str, name: str) -> Path:
        """Where the output file ``name`` (e.g. ``value-review.pdf``) of an account goes."""
        is_document = name.rsplit(".", 1)[-1] in DOCUMENT_FORMATS
        folder = (self.document_dir if is_document else self.record_dir)(audience, account_id)
        return folder / name

    def href(self, audience: str, account_id: str, name: str) -> str:
        """A relative link to that file from the index pages (which sit in ``internal/``)."""
        target = self.path(audience, account_id, name)
        return Path(os.path.relpath(target, self.internal_dir)).as_posix()
