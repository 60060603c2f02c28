"""Where the review templates live: the project's `templates/` when it has its own
`valuereview/` template, else the copy packaged with valuelib (`valuelib.project.resources`).

Resolved once, when first imported, from the working directory. Kept apart from `export` so
that what needs only the paths (the batch index page) does not import nbconvert and WeasyPrint.
"""

from __future__ import annotations

from valuelib.project import resources

#: Our nbconvert templates, and the template (a folder of TEMPLATE_DIR) the reviews use.
TEMPLATE_DIR = resources.folder("templates")
TEMPLATE_NAME = resources.TEMPLATE_NAME
#: The template's own assets (its stylesheets): the only folder a review's PDF reads files from.
STATIC_DIR = TEMPLATE_DIR / TEMPLATE_NAME / "static"
