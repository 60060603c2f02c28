"""Where the review templates live (``templates/`` at the repository root, beside ``valuelib``).

Kept apart from `export` so that what needs only the paths (the batch index page) does not
import nbconvert and WeasyPrint.
"""

from __future__ import annotations

from pathlib import Path

#: Our nbconvert templates, and the template (a folder of TEMPLATE_DIR) the reviews use.
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_NAME = "valuereview"
#: The template's own assets (its stylesheets): the only folder a review's PDF reads files from.
STATIC_DIR = TEMPLATE_DIR / TEMPLATE_NAME / "static"
