"""What a customer review may hold and what its PDF may read: the checks behind the exporters.

Pure functions without nbconvert or WeasyPrint: each returns a description of the first
problem it finds (or ``None``), and `export` turns that into its own exception. They back up
the escaping done where the document is built; a document that fails one is never written.

* `file_url_path`: the real path of a ``file:`` URL if it lies under an allowed folder.
* `notebook_audience`: the audience an executed review notebook was rendered for.
* `internal_markup`: where a notebook's shown outputs carry internal-only markup.
* `html_problem`: active content or a reference outside the document in customer HTML.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

__all__ = [
    "REFUSED_ELEMENTS",
    "URL_ATTRIBUTES",
    "file_url_path",
    "html_problem",
    "internal_markup",
    "notebook_audience",
]

# --- files a PDF may read -------------------------------------------------------------------


def file_url_path(url: str, roots: Iterable[str | os.PathLike[str]]) -> str | None:
    """The real path (symlinks resolved) of ``file:`` URL `url` if it lies under one of
    `roots` (themselves resolved), else None: a link inside a root that points out is out."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = url2pathname(unquote(parts.path))
    if not os.path.isabs(path):
        return None
    real = os.path.realpath(path)
    for root in roots:
        top = os.path.realpath(root)
        if real != top and os.path.commonpath([real, top]) == top:
            return real
    return None


# --- the audience of an executed notebook ---------------------------------------------------


def _assigned_audience(source: str) -> str | None:
    """The last literal ``audience = "..."`` assigned at the top level of `source`."""
    if "audience" not in source:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    found = None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and any(isinstance(t, ast.Name) and t.id == "audience" for t in node.targets)):
            found = node.value.value
    return found


def notebook_audience(nb: Mapping[str, Any]) -> str | None:
    """The audience an executed review was rendered for: papermill's recorded parameters,
    else the injected-parameters cell, else the parameters cell's default; None if the
    notebook has no ``audience`` parameter (the portfolio review)."""
    params = nb.get("metadata", {}).get("papermill", {}).get("parameters") or {}
    if isinstance(params.get("audience"), str):
        return params["audience"]
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        for tag in ("injected-parameters", "parameters"):
            if tag in tags and tag not in found:
                value = _assigned_audience(_text(cell.get("source", "")))
                if value is not None:
                    found[tag] = value
    return found.get("injected-parameters") or found.get("parameters")


def _text(value: Any) -> str:
    """A notebook string field, stored either as one string or as a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value)


def has_attribute(html: str, name: str) -> bool:
    """Whether a tag in `html` carries the attribute `name`. Text that merely mentions the
    name (escaped data, a goal quoting it) is not a tag: text never holds a raw ``<``."""
    return re.search(r"<[A-Za-z][^<>]*\s" + re.escape(name) + r"(?=[\s=/>])", html) is not None


def internal_markup(nb: Mapping[str, Any], marker: str) -> str | None:
    """Where a tag with `marker` (the internal-only attribute) occurs in what a reader could
    be shown: a markdown cell's text or any textual output of a code cell. Raw cells never
    render."""
    for index, cell in enumerate(nb.get("cells", [])):
        kind = cell.get("cell_type")
        if kind == "markdown" and has_attribute(_text(cell.get("source", "")), marker):
            return f"cell {index} (markdown)"
        if kind != "code":
            continue
        for output in cell.get("outputs", []):
            for mime, value in (output.get("data") or {}).items():
                if isinstance(value, (str, list)) and has_attribute(_text(value), marker):
                    return f"cell {index} ({mime} output)"
    return None


def executed(nb: Mapping[str, Any]) -> bool:
    """Whether any code cell of the notebook has run (has an output or an execution count):
    a stored, never-run notebook would export as a blank document."""
    return any(cell.get("outputs") or cell.get("execution_count")
               for cell in nb.get("cells", []) if cell.get("cell_type") == "code")


# --- active content and outside references in customer HTML ---------------------------------

#: Elements a customer review never holds: they run code, embed another document, change
#: the document's base URL or rewrite attributes (SVG animation can set an ``href``).
REFUSED_ELEMENTS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "portal", "base",
    "animate", "animatemotion", "animatetransform", "set", "handler", "listener",
})

#: Attributes whose value is fetched or followed as a URL (any ``*:href`` counts too).
URL_ATTRIBUTES = frozenset({
    "href", "src", "srcset", "action", "formaction", "poster", "background", "cite",
    "longdesc", "data", "codebase", "classid", "archive", "ping", "manifest", "lowsrc",
    "dynsrc", "icon", "profile", "usemap", "xml:base",
})

#: What browsers drop from a URL attribute before reading its scheme.
_URL_STRIP = "".join(chr(c) for c in range(0x21))
_URL_NOISE = re.compile(r"[\t\n\r]")
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\r\n\f]?|(.))", re.DOTALL)
#: CSS that names a resource: url()/src() arguments, strings in image()/image-set(), @import.
_CSS_REF = re.compile(r"@import|(?:url|src)\(|(?:-webkit-)?image(?:-set)?\(|cross-fade\(", re.I)
_CSS_STRING = re.compile(r"""["']\s*([^"']*)""")
_SHORT = 80


def _local(url: str) -> bool:
    """Whether a URL stays in the document: inline ``data:`` or a same-document #fragment."""
    url = _URL_NOISE.sub("", url.strip(_URL_STRIP)).lower()
    return url.startswith(("data:", "#"))


def _short(text: str) -> str:
    return repr(text if len(text) <= _SHORT else text[:_SHORT] + "…")


def _srcset_urls(value: str) -> Iterator[str]:
    """The URL of each image candidate in a ``srcset`` (descriptors skipped; a data: URL
    may hold commas, so a URL runs to the next whitespace as the HTML standard reads it)."""
    pos, n = 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if not url:
            return
        stripped = url.rstrip(",")
        yield stripped
        if stripped != url:
            continue
        depth = 0
        while pos < n and not (value[pos] == "," and depth == 0):
            depth += {"(": 1, ")": -1}.get(value[pos], 0)
            pos += 1


def _css_unescape(css: str) -> str:
    """CSS text with its backslash escapes decoded (``\\75 rl(`` is ``url(``)."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return "" if m.group(2) == "\n" else m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CSS_ESCAPE.sub(one, css)


def _css_problem(css: str) -> str | None:
    """The first reference in CSS text to something outside the document, if any."""
    if "\\" in css:
        css = _css_unescape(css)
    for m in _CSS_REF.finditer(css):
        word = m.group(0).lower()
        if word == "@import":
            return "an @import rule"
        rest = css[m.end():]
        if word in ("url(", "src("):
            arg = rest.split(")", 1)[0].strip().lstrip("\"'")
            if not _local(arg):
                return f"{word}{_short(arg)})"
        else:
            for s in _CSS_STRING.finditer(rest.split(")", 1)[0]):
                if not _local(s.group(1)):
                    return f"{word}{_short(s.group(1))})"
    return None


class _Found(Exception):
    """Stops the scan at the first problem."""


class _Scanner(HTMLParser):
    """Walks the tags of an HTML document (entities decoded) and stops at the first thing a
    customer document may not hold."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problem: str | None = None
        self._style = False

    def _stop(self, problem: str) -> None:
        self.problem = problem
        raise _Found(problem)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in REFUSED_ELEMENTS:
            self._stop(f"a <{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self._stop(f"an event-handler attribute {name}= on <{tag}>")
            if not value:
                continue
            if name in URL_ATTRIBUTES or name.endswith(":href"):
                urls = _srcset_urls(value) if name in ("srcset", "imagesrcset") else (value,)
                for url in urls:
                    if not _local(url):
                        self._stop(f"a URL outside the document: {name}={_short(url)} on <{tag}>")
            if tag == "meta" and name == "http-equiv":
                self._stop(f"<meta http-equiv={_short(value)}>")
            if "(" in value or "@" in value:
                found = _css_problem(value)
                if found:
                    self._stop(f"{found} in the {name}= attribute of <{tag}>")
        self._style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._style = False

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style:
            return
        # Inside SVG a <style> holds markup, not CSS text, for a browser.
        if "<" in data:
            self._stop("markup inside a <style> element")
        found = _css_problem(data)
        if found:
            self._stop(f"{found} in a <style> element")

    def handle_comment(self, data: str) -> None:
        # Browsers end a comment at "<!-->", "--!>" and the like: one holding < or > may hide
        # markup from this parser that a browser reads.
        if "<" in data or ">" in data:
            self._stop(f"a comment that holds markup: <!--{_short(data)}-->")

    def unknown_decl(self, data: str) -> None:
        if "<" in data or ">" in data:
            self._stop(f"a declaration that holds markup: <![{_short(data)}]>")


def html_problem(html: str) -> str | None:
    """The first thing customer HTML may not hold: an event-handler attribute, a script or
    embedding element, or a URL (attribute or CSS) that is neither ``data:`` nor ``#...``."""
    scanner = _Scanner()
    try:
        scanner.feed(html)
        scanner.close()
    except _Found:
        pass
    return scanner.problem
