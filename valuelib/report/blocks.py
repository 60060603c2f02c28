"""HTML building blocks that the review notebooks display.

Notebooks are presentation only: they call these functions and let Jupyter show the
result, so every executed output is plain ``text/html`` that our nbconvert template
passes through unchanged. Every piece of text given to a function here is escaped
(account names, comments and goals come from customer data); the only raw markup is
our own, made here: a table's badges, for instance, are drawn by :func:`table` from plain
cell text (its ``badges`` argument), so data never carries markup and nothing is trusted by
what it looks like. Class names (``vr-*``) are the contract with ``templates/valuereview``.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from valuelib.report.fmt import Figure, NotEnoughData, Period

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

__all__ = [
    "AUDIENCES",
    "BADGE_KINDS",
    "COVER_LABELS",
    "INTERNAL_ATTR",
    "Block",
    "LONG_TABLE_ROWS",
    "MISSING",
    "KPI_TONES",
    "NOTE_KINDS",
    "badge",
    "cover",
    "definition_list",
    "figure",
    "formula",
    "heading",
    "kpis",
    "note",
    "page_break",
    "paragraph",
    "table",
]

AUDIENCES = ("customer", "internal")
NOTE_KINDS = ("info", "warning", "estimate", "not_enough_data", "internal")
KPI_TONES = ("up_good", "down_good", "neutral", "bad")
BADGE_KINDS = ("completed", "in_progress", "overdue", "not_available")

#: Marks markup that must never reach a customer document; the exporter refuses
#: to render a ``customer`` review that contains it.
INTERNAL_ATTR = "data-vr-internal"

_NOTE_LABELS = {
    "info": "Note",
    "warning": "Please note",
    "estimate": "Illustrative estimate",
    "not_enough_data": "Not enough data",
    "internal": "Internal only",
}
_BADGE_LABELS = {
    "completed": "Completed",
    "in_progress": "In progress",
    "overdue": "Overdue",
    "not_available": "Not available",
}
_INTERNAL_MARK = "INTERNAL \u2014 do not send"
#: The cover's own words (``cover(labels=...)`` replaces them, e.g. with translations).
COVER_LABELS = {
    "prepared_for": "Prepared for",
    "prepared_by": "Prepared by",
    "as_of": "Data as of",
    "internal_mark": _INTERNAL_MARK,
}
#: What a table cell shows when it has no value (an em dash).
MISSING = "\u2014"
#: A table with more body rows than this may break across pages in print (class
#: ``vr-table--long``): kept whole it would leave its heading alone at a page's foot.
LONG_TABLE_ROWS = 12

# A cell counts as numeric (and is right-aligned) when it is a number, a `fmt.Figure`, or
# text that reads as one number: optional sign, a currency code (capitals) or symbol,
# digits grouped by threes (or the Indian way) with at most one decimal part, a unit. A
# quarter or a date ("Q3 2026", "K3 2026", "Sep 30, 2026", "30.09.2026") is not one.
_CURRENCY_SIGN = (  # Unicode's currency symbols (category Sc) of the Basic Multilingual Plane
    "$\u00a2-\u00a5\u058f\u060b\u07fe\u07ff\u09f2\u09f3\u09fb\u0af1\u0bf9\u0e3f\u17db"
    "\u20a0-\u20c0\ua838\ufdfc\ufe69\uff04\uffe0\uffe1\uffe5\uffe6"
)
_NUMERIC_TEXT = re.compile(
    rf"^[+\-\u2212\u00b1]?\s?(?:(?:[A-Z]{{1,3}}|[A-Z]{{0,3}}[{_CURRENCY_SIGN}])\s?)?"
    r"(?:\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}|\d+)(?:[.,]\d+)?"
    rf"\s?(?:%|x|\u00d7|pp|pts?|[kKmMbB]n?|[A-Z]{{3}}|[{_CURRENCY_SIGN}])?$"
)
_SVG_PROLOG = re.compile(r"^.*?(?=<svg[\s>])", re.DOTALL)
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_SVG_GROUP_ID = re.compile(r'<g id="[^"]*">')  # matplotlib's artist ids; never referenced
_SVG_BETWEEN_TAGS = re.compile(r">\s+<")
_SVG_PATH_DATA = re.compile(r'\sd="[^"]*"')
_SVG_TAG = re.compile(r"<[a-zA-Z][^<>]*\sstyle=\"[^\"]*\"[^<>]*>")
_SVG_STYLE = re.compile(r'\sstyle="([^"]*)"')
_SVG_ATTR_NAME = re.compile(r'\s([a-zA-Z:-]+)="')
_SVG_GLOBAL_STYLE = re.compile(r'<style type="text/css">\s*\*\s*\{([^{}]*)\}\s*</style>')
# Style properties that SVG also accepts as presentation attributes.
_SVG_PRESENTATION = frozenset(
    """clip-path clip-rule color display dominant-baseline fill fill-opacity fill-rule
    filter font-family font-size font-style font-variant font-weight letter-spacing mask
    opacity stroke stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin
    stroke-miterlimit stroke-opacity stroke-width text-anchor visibility""".split()
)
_figure_ids = itertools.count(1)


def reset_figure_ids(ids: itertools.count | None = None) -> itertools.count:
    """Number the next figures from 1 (or on from `ids`); return the numbering replaced, so a
    warm-up can draw figures and then give a document's numbering back untouched."""
    global _figure_ids
    previous, _figure_ids = _figure_ids, ids if ids is not None else itertools.count(1)
    return previous


class Block:
    """A piece of our HTML that Jupyter displays as ``text/html``."""

    __slots__ = ("html", "kind")

    def __init__(self, html: str, kind: str = "html") -> None:
        self.html = html
        self.kind = kind

    def _repr_html_(self) -> str:
        return self.html

    def __html__(self) -> str:  # lets Jinja/markupsafe embed a block unescaped
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        # Deterministic (no memory address), since it lands in the executed notebook.
        return f"Block(kind={self.kind!r}, {len(self.html)} chars)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Block) and other.html == self.html

    def __hash__(self) -> int:
        return hash(self.html)

    def __add__(self, other: Block) -> Block:
        if not isinstance(other, Block):
            return NotImplemented
        return Block(self.html + "\n" + other.html, "group")


def _e(text: Any) -> str:
    """Escape any value as HTML text (quotes included, so it is safe in attributes)."""
    return escape("" if text is None else str(text), quote=True)


def _check(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def cover(
    *,
    title: str,
    account_name: str,
    quarter_label: str,
    prepared_for: str,
    prepared_by: str,
    as_of: str,
    audience: str,
    logo_text: str = "valuereview",
    running_title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Block:
    """The cover page: account, quarter, who it is for and by, and the data as-of date.

    It also carries the running header text (``.vr-running-title``) that print CSS
    copies to the top of every following page, and for the ``internal`` audience a
    visible "INTERNAL — do not send" mark that is repeated in every page footer.
    ``labels`` overrides the cover's own words (keys of ``COVER_LABELS``), e.g. translated.
    """
    _check(audience, AUDIENCES, "audience")
    words = {**COVER_LABELS, **(labels or {})}
    running = running_title or f"{account_name} \u00b7 {quarter_label} {title}"
    internal = audience == "internal"
    flag = (
        f'<p class="vr-internal-flag" {INTERNAL_ATTR}>{_e(words["internal_mark"])}</p>'
        if internal
        else ""
    )
    meta = "".join(
        f'<div class="vr-cover__meta-row"><dt>{_e(term)}</dt><dd>{_e(value)}</dd></div>'
        for term, value in (
            (words["prepared_for"], prepared_for),
            (words["prepared_by"], prepared_by),
            (words["as_of"], as_of),
        )
    )
    audience_cls = " vr-cover--internal" if internal else ""
    html = (
        f'<section class="vr-cover{audience_cls}" data-audience="{_e(audience)}">'
        f'<div class="vr-cover__band"><p class="vr-cover__logo">{_e(logo_text)}</p>{flag}</div>'
        f'<div class="vr-cover__body">'
        f'<p class="vr-cover__kicker">{_e(title)}</p>'
        f'<h1 class="vr-cover__account">{_e(account_name)}</h1>'
        f'<p class="vr-cover__quarter">{_e(quarter_label)}</p>'
        f'<dl class="vr-cover__meta">{meta}</dl>'
        f"</div>"
        f'<p class="vr-running-title">{_e(running)}</p>'
        f"</section>"
    )
    return Block(html, "cover")


def heading(
    text: str, level: int = 2, anchor: str | None = None, *, new_page: bool = False
) -> Block:
    """A section (h2, class ``vr-section``) or sub-section (h3–h4) heading.

    Level-2 headings name the section in the PDF page header; ``new_page=True`` starts
    the section on a fresh PDF page.
    """
    if level not in (2, 3, 4):
        raise ValueError(f"heading level must be 2, 3 or 4 (the cover holds the h1); got {level}")
    classes = ["vr-section" if level == 2 else "vr-subsection"]
    if new_page:
        classes.append("vr-new-page")
    ident = f' id="{_e(anchor)}"' if anchor else ""
    return Block(f'<h{level} class="{" ".join(classes)}"{ident}>{_e(text)}</h{level}>', "heading")


def paragraph(text: str) -> Block:
    """A paragraph of prose (plain text; line breaks are kept as typed)."""
    body = "<br>".join(_e(line) for line in str(text).splitlines()) if text else ""
    return Block(f'<p class="vr-paragraph">{body}</p>', "paragraph")


def note(text: str, kind: str = "info", *, title: str | None = None) -> Block:
    """A call-out box: ``info``, ``warning``, ``estimate`` (an illustrative estimate),
    ``not_enough_data`` (muted) or ``internal`` (red-bordered, internal reviews only)."""
    _check(kind, NOTE_KINDS, "note kind")
    label = title if title is not None else _NOTE_LABELS[kind]
    marker = f" {INTERNAL_ATTR}" if kind == "internal" else ""
    html = (
        f'<aside class="vr-note vr-note--{kind}" role="note"{marker}>'
        f'<p class="vr-note__label">{_e(label)}</p>'
        f'<p class="vr-note__text">{_e(text)}</p></aside>'
    )
    return Block(html, "note")


def _direction(change: str) -> str:
    """``up``/``down``/``flat`` from a formatted change such as "+12.4%" or "−3 pts"."""
    stripped = change.strip()
    if stripped[:1] == "+":
        return "up"
    if stripped[:1] in ("-", "\u2212"):
        return "down"
    return "flat"


_ARROWS = {"up": "\u25b2", "down": "\u25bc", "flat": ""}

# The printed page's card geometry, as templates/valuereview/static/print.css sets it (a unit
# test holds the two together): the text block's width, the gap between cards, a card's
# padding and border left and right, and the size of a card's value, all in points.
_MM = 72 / 25.4
_PRINT_ROW_PT = (210 - 18 - 18) * _MM
_PRINT_GAP_PT = 3 * _MM
_PRINT_CARD_EDGES_PT = 2 * 3 * _MM + 2 * 0.75
_PRINT_VALUE_PT = 15.0
# A table's cells: the text size (9.5pt x 0.9), a header's share of it, a cell's padding left
# and right (em), a badge's text size and padding (em of the cell's text).
_PRINT_CELL_PT = 9.5 * 0.9
_PRINT_HEAD_SHARE = 0.92
_PRINT_CELL_PAD_EM = 0.45
_PRINT_BADGE_SHARE = 0.82
_PRINT_BADGE_PAD_EM = 0.65
#: A word in a table's text cell wider than this (a URL, an e-mail address, a run of
#: letters) may break anywhere (``vr-break``), so no single word can push a table off the page.
_PRINT_LONG_WORD_PT = _PRINT_ROW_PT / 4
#: Text sizes a printed table may shrink to (vr-table--fit-N, N% of the usual) so that its
#: columns, each as wide as its widest unbreakable text, fit across the page.
TABLE_PRINT_SCALES = (90, 80, 70)
#: Columns to try for a row of n cards, first choice first: four cards in one row or two by
#: two (never three and an orphan), two side by side, otherwise three a row.
_KPI_COLUMNS = {1: (1,), 2: (2, 1), 4: (4, 2, 1)}
_KPI_COLUMNS_DEFAULT = (3, 2, 1)
_BREAKABLE = re.compile(r"[ \t\n]+")  # where a value may wrap (not at a no-break space)
_UNBROKEN = ("right", "whole")  # table cells printed on one line: numbers, periods


def _pieces(text: str, wraps: bool) -> list[str]:
    """What a line cannot break: the whole text, or its words where it may wrap."""
    return [p for p in _BREAKABLE.split(text) if p] if wraps else [text]


def _cell_width(piece: str, kind: str) -> float:
    """One piece of a cell's text as printed: a badge at its size with its padding; a word of
    a text cell at most `_PRINT_LONG_WORD_PT`, past which it breaks (`_breaks`); a number
    (``right``) or a period (``whole``) as it is, on one line."""
    from valuelib.report import fonts

    if kind == "badge":
        size = _PRINT_CELL_PT * _PRINT_BADGE_SHARE
        width = fonts.text_width(piece, size, bold=True) + 2 * _PRINT_BADGE_PAD_EM * size
    else:
        width = fonts.text_width(piece, _PRINT_CELL_PT)
    return width if kind in _UNBROKEN else min(width, _PRINT_LONG_WORD_PT)


def _table_print_scale(head: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> int:
    """The text size (percent) at which a printed table's columns fit across the page.

    ``head`` is the header texts, ``rows`` each cell as (text, kind): ``left`` wraps at
    spaces, ``right`` (a number) and ``whole`` (a period) never wrap, ``badge`` is a pill
    whose words wrap.
    """
    from valuelib.report import fonts

    head_pt = _PRINT_CELL_PT * _PRINT_HEAD_SHARE
    total = 0.0
    for j, name in enumerate(head):
        # Each distinct piece once: a long table repeats most of its texts.
        pieces = {(piece, kind) for text, kind in (row[j] for row in rows)
                  for piece in _pieces(text, kind not in _UNBROKEN)}
        widths = [fonts.text_width(p, head_pt, bold=True) for p in _pieces(name, True)]
        widths += [_cell_width(piece, kind) for piece, kind in pieces]
        total += max(widths, default=0.0) + 2 * _PRINT_CELL_PAD_EM * _PRINT_CELL_PT
    for scale in (100, *TABLE_PRINT_SCALES):
        if total * scale / 100 <= _PRINT_ROW_PT:
            return scale
    return TABLE_PRINT_SCALES[-1]


def _breaks(text: str) -> bool:
    """Whether a text cell holds a word too wide to keep whole (`_PRINT_LONG_WORD_PT`)."""
    from valuelib.report import fonts

    return any(fonts.text_width(p, _PRINT_CELL_PT) > _PRINT_LONG_WORD_PT
               for p in _pieces(text, True))


def _value_widths(values: Sequence[str]) -> list[float]:
    """Each card's widest unbreakable piece of its figure, in ems of the figure's own size
    (bold, in the bundled fonts): what its column must hold, on paper and on screen."""
    from valuelib.report import fonts

    return [max((fonts.text_width(piece, 1.0, bold=True) for piece in _pieces(v, True)),
                default=0.0) for v in values]


def _kpi_columns(widths_em: Sequence[float]) -> int:
    """How many cards a printed row holds: the first choice whose columns, each as wide as
    its widest unbreakable value, fit across the page (so no value runs off the page)."""
    needs = [w * _PRINT_VALUE_PT for w in widths_em]
    choices = _KPI_COLUMNS.get(len(needs), _KPI_COLUMNS_DEFAULT)
    for cols in choices:
        widest = [max(needs[j::cols]) for j in range(min(cols, len(needs)))]
        room = _PRINT_ROW_PT - (cols - 1) * _PRINT_GAP_PT - cols * _PRINT_CARD_EDGES_PT
        if sum(widest) <= room:
            return cols
    return choices[-1]


def _mood(tone: str, direction: str) -> str:
    """Whether a change is good news: ``up_good`` rising or ``down_good`` falling is
    ``good``, the opposite ``bad``; ``bad`` is always bad; flat or neutral is neutral."""
    if tone == "bad":
        return "bad"
    if tone == "neutral" or direction == "flat":
        return "neutral"
    return "good" if (tone == "up_good") == (direction == "up") else "bad"


def kpis(items: Iterable[Mapping[str, Any]]) -> Block:
    """Headline figure cards that wrap on narrow screens.

    Each item: ``label``, ``value`` (formatted), optional ``change`` (formatted; its
    sign picks the arrow), ``tone`` (``up_good``/``down_good``: which direction is
    good news for this figure, so the change shows green or red; ``neutral``; ``bad``:
    flag the card red) and ``hint`` (a muted line, e.g. "vs Q2 2026").
    """
    cards, values = [], []
    for i, item in enumerate(items):
        try:
            label, value = item["label"], item["value"]
        except KeyError as exc:
            msg = f"kpis item {i} needs 'label' and 'value'; got {dict(item)!r}"
            raise ValueError(msg) from exc
        tone = _check(item.get("tone") or "neutral", KPI_TONES, f"kpis item {i} tone")
        values.append(str(value))
        parts = [f"<dt>{_e(label)}</dt>", f'<dd class="vr-kpi__value">{_e(value)}</dd>']
        change = item.get("change")
        if change not in (None, ""):
            direction = _direction(str(change))
            arrow = _ARROWS[direction]
            icon = (
                f'<span class="vr-kpi__arrow" aria-hidden="true">{arrow}</span> ' if arrow else ""
            )
            mood = _mood(tone, direction)
            classes = f"vr-kpi__change vr-kpi__change--{direction} vr-kpi__change--{mood}"
            parts.append(f'<dd class="{classes}">{icon}{_e(change)}</dd>')
        hint = item.get("hint")
        if hint not in (None, ""):
            parts.append(f'<dd class="vr-kpi__hint">{_e(hint)}</dd>')
        cards.append(f'<div class="vr-kpi vr-kpi--{tone}">{"".join(parts)}</div>')
    # The printed page lays the cards in this many columns; the screen wraps them itself,
    # each card at least as wide as the row's widest figure (review.css: --vr-kpi-widest).
    widths = _value_widths(values)
    cols = _kpi_columns(widths) if cards else 1
    widest = max(widths, default=0.0)
    return Block(f'<dl class="vr-kpis vr-kpis--{cols}" style="--vr-kpi-widest: {widest:.2f}">'
                 f'{"".join(cards)}</dl>', "kpis")


def badge(text: str, kind: str) -> Markup:
    """A status pill (``completed``, ``in_progress``, ``overdue``, ``not_available``) as
    markup (:func:`table` draws a column's cells with it); ``text`` is escaped like any
    other text, and an empty text shows the kind's own label."""
    _check(kind, BADGE_KINDS, "badge kind")
    return Markup(f'<span class="vr-badge vr-badge--{kind}">{_e(_badge_text(text, kind))}</span>')


def _badge_text(text: str, kind: str) -> str:
    """What a badge shows: its text, or the kind's own label when the text is empty."""
    return text if text not in (None, "") else _BADGE_LABELS[kind]


def _is_missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool | Markup):
        return False
    if isinstance(value, int | float | Figure):
        return True
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iuf":
        return True
    return isinstance(value, str) and bool(_NUMERIC_TEXT.match(value.strip()))


def table(
    df: pd.DataFrame,
    *,
    caption: str | None = None,
    align: Mapping[str, str] | None = None,
    classes: str | Sequence[str] | None = None,
    badges: Mapping[str, Callable[[Any], str]] | None = None,
) -> Block:
    """A DataFrame as an escaped HTML table in a horizontally scrollable wrapper.

    Values are shown as given (format numbers first); missing values show as "—". A
    table of more than LONG_TABLE_ROWS rows is marked ``vr-table--long``: print lets it
    break across pages (its header row repeats) instead of moving it whole.
    Columns whose values are all numbers or formatted numbers are right-aligned unless
    ``align`` (column → ``left``/``right``/``center``) says otherwise. A column named in
    ``badges`` (column → function giving a cell's badge kind) shows each cell as a
    :func:`badge` of its text, left-aligned. Every cell's text is escaped: the only markup in
    the table is made here, whatever the DataFrame holds.
    """
    align = dict(align or {})
    for column, how in align.items():
        _check(how, ("left", "right", "center"), f"table align for column {column!r}")
    extra = [classes] if isinstance(classes, str) else list(classes or [])
    if len(df) > LONG_TABLE_ROWS:
        extra.append("vr-table--long")
    table_cls = " ".join(["vr-table", *extra])

    columns = [str(c) for c in df.columns]
    badge_kind = [(badges or {}).get(name) for name in columns]
    rows = df.itertuples(index=False, name=None)
    body_rows = [list(r) for r in rows]
    col_align = []
    for j, name in enumerate(columns):
        if name in align:
            col_align.append(align[name])
            continue
        if badge_kind[j] is not None:
            col_align.append("left")
            continue
        present = [r[j] for r in body_rows
                   if not _is_missing(r[j]) and not isinstance(r[j], NotEnoughData)]
        numeric = bool(present) and all(_is_numeric(v) for v in present)
        col_align.append("right" if numeric else "left")

    def cell_cls(j: int, text: str = "", kind: str = "") -> str:
        names = [] if col_align[j] == "left" else [f"vr-{col_align[j]}"]
        if kind == "whole":
            names.append("vr-nowrap")
        elif text and col_align[j] != "right" and _breaks(text):
            names.append("vr-break")
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f'<th scope="col"{cell_cls(j)}>{_e(n)}</th>' for j, n in enumerate(columns))
    out_rows, shown_rows = [], []
    for r in body_rows:
        cells, shown = [], []
        for j, value in enumerate(r):
            kind = badge_kind[j]
            if kind is not None:
                pill = kind(value)
                text = str(badge(value, pill))
                shown.append((str(_badge_text(value, pill)), "badge"))
            elif isinstance(value, NotEnoughData):
                # Words, not a figure: they may wrap, even among a column's numbers.
                shown.append((str(value), "left"))
                text = f'<span class="vr-missing">{_e(value)}</span>'
            elif _is_missing(value):
                shown.append((MISSING, col_align[j]))
                text = f'<span class="vr-missing">{MISSING}</span>'
            else:
                text = _e(value)
                shown.append((str(value), "whole" if isinstance(value, Period) and
                              col_align[j] != "right" else col_align[j]))
            cells.append(f"<td{cell_cls(j, shown[-1][0], shown[-1][1])}>{text}</td>")
        out_rows.append(f"<tr>{''.join(cells)}</tr>")
        shown_rows.append(shown)
    scale = _table_print_scale(columns, shown_rows)
    if scale != 100:
        table_cls += f" vr-table--fit-{scale}"
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    html = (
        f'<div class="vr-table-wrap"><table class="{_e(table_cls)}">{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(out_rows)}</tbody></table></div>"
    )
    return Block(html, "table")


def _declarations(css: str) -> list[tuple[str, str]]:
    pairs = (d.split(":", 1) for d in css.split(";") if ":" in d)
    return [(k.strip(), v.strip()) for k, v in pairs]


def _restyle_tag(match: re.Match[str]) -> str:
    """Move one tag's ``style`` declarations into presentation attributes."""
    tag = match.group(0)
    style = _SVG_STYLE.search(tag)
    assert style is not None
    present = set(_SVG_ATTR_NAME.findall(tag))
    attrs, rest = [], []
    for key, value in _declarations(style.group(1)):
        if key in _SVG_PRESENTATION and key not in present:
            attrs.append(f' {key}="{value}"')
        else:
            rest.append(f"{key}: {value}")
    kept = f' style="{"; ".join(rest)}"' if rest else ""
    return tag[: style.start()] + "".join(attrs) + kept + tag[style.end() :]


def _presentation_attributes(svg: str) -> str:
    """Turn matplotlib's inline styles into SVG presentation attributes.

    Inline in HTML, an SVG's ``style`` attributes and ``<style>`` element join the
    page's CSS cascade (the ``*{...}`` rule would reach every element of the page);
    attributes keep the drawing self-contained and identical.
    """
    root = _SVG_GLOBAL_STYLE.search(svg)
    if root:
        svg = svg[: root.start()] + svg[root.end() :]
        svg = svg.replace("<defs></defs>", "", 1)
        defaults = "".join(f' {k}="{v}"' for k, v in _declarations(root.group(1)))
        svg = svg.replace("<svg", "<svg" + defaults, 1)
    return _SVG_TAG.sub(_restyle_tag, svg)


_SVG_METADATA_KEYS: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _has_raster(fig: Figure) -> bool:
    """Whether saving the figure as SVG embeds any raster image (images, rasterized
    artists), whose resolution follows the save dpi."""
    from matplotlib.image import AxesImage, FigureImage

    if fig.images:
        return True
    return any(
        isinstance(a, AxesImage | FigureImage) or a.get_rasterized()
        for ax in fig.axes
        for a in ax.get_children()
    ) or any(ax.get_rasterization_zorder() is not None for ax in fig.axes)


def _tight_bbox(fig: Figure) -> Bbox | None:
    """Lay out a constrained-layout figure once and measure its tight bounding box.

    This is what ``savefig(bbox_inches="tight")`` does before it draws, minus one full
    draw that it makes only to trigger the layout engine: the layout runs directly, on
    the same SVG renderer (dry run, 72 dpi) that the layout and the measuring both use.
    None when the figure has no constrained layout or matplotlib's internals differ
    from what this relies on; the caller then saves the ordinary way.
    """
    import matplotlib as mpl
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine) or _has_raster(fig):
        return None
    try:
        from matplotlib import cbook
        from matplotlib.backend_bases import _get_renderer

        switch = fig.canvas._switch_canvas_and_return_print_method
        setattr_cm = cbook._setattr_cm
    except (ImportError, AttributeError):  # pragma: no cover - another matplotlib
        return None
    dpi = mpl.rcParams["savefig.dpi"]
    if dpi == "figure":  # pragma: no cover - our style saves at a fixed dpi
        dpi = getattr(fig, "_original_dpi", fig.dpi)
    pad = mpl.rcParams["savefig.pad_inches"]
    with (
        switch("svg") as print_svg,
        setattr_cm(fig, dpi=dpi),
        setattr_cm(fig.canvas, _is_saving=True, _device_pixel_ratio=1),
    ):
        renderer = _get_renderer(fig, print_svg)  # sets the figure to 72 dpi, as saving does
        # The layout engine asks the canvas for a renderer: hand it the same one, so
        # text is measured once for the layout and the bounding box.
        with setattr_cm(fig.canvas, get_renderer=lambda: renderer):
            fig.get_layout_engine().execute(fig)
            return fig.get_tightbbox(renderer).padded(pad, pad)


def _plain_text(fig: Figure) -> None:
    """Make every text of the figure plain text, never mathtext.

    Labels carry data (driver, feature and segment names): a ``$`` in one must show as
    typed rather than be typeset or raise. Text created while drawing (tick labels)
    follows ``text.parse_math``, which the caller sets for the save.
    """
    for text in _texts(fig):
        text.set_parse_math(False)


def _texts(fig: Figure) -> list[Any]:
    """Every `Text` of the figure that exists now, tick labels included.

    Unlike ``fig.findobj(Text)``, an axis contributes the ticks it has rather than asking its
    locator for the current ones (a tick computation per axis that the layout repeats anyway);
    ticks added later are made while saving, under ``text.parse_math`` False.
    """
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    found: list[Any] = []
    stack: list[Any] = [fig]
    while stack:
        artist = stack.pop()
        if isinstance(artist, Text):
            found.append(artist)
        if isinstance(artist, Axis):
            stack.extend([artist.label, artist.offsetText, *artist.majorTicks,
                          *artist.minorTicks])
        else:
            stack.extend(artist.get_children())
    return found


def _svg_markup(fig: Figure) -> str:
    """The figure as an inline-ready ``<svg>`` element with its text kept as text."""
    import matplotlib as mpl

    # A per-figure salt keeps element ids unique between figures in one document yet
    # identical from run to run (matplotlib's default salt is random).
    salt = f"vr{next(_figure_ids)}"
    buf = io.StringIO()
    _plain_text(fig)
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "text.parse_math": False}):
        bbox = _tight_bbox(fig)
        if bbox is None:
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata=_SVG_METADATA_KEYS)
        else:
            # Laid out already: save that layout, cropped to its tight box. Vector
            # output is drawn at 72 dpi whatever the dpi; saving at 72 keeps the crop
            # arithmetic exactly as savefig(bbox_inches="tight") does it (the figure
            # has no raster parts, which would be the only thing the dpi changes).
            engine = fig.get_layout_engine()
            fig.set_layout_engine(None)
            try:
                fig.savefig(
                    buf, format="svg", dpi=72, bbox_inches=bbox, metadata=_SVG_METADATA_KEYS
                )
            finally:
                fig.set_layout_engine(engine)
    svg = _SVG_PROLOG.sub("", buf.getvalue(), count=1)
    svg = _SVG_METADATA.sub("", svg, count=1)
    # Plain <g> ids repeat across figures (figure_1, axes_1...) and nothing refers to
    # them; dropping them keeps the document's ids unique. Indentation goes too.
    svg = _SVG_GROUP_ID.sub("<g>", svg)
    svg = _SVG_BETWEEN_TAGS.sub("><", svg).strip()
    svg = _SVG_PATH_DATA.sub(lambda m: m.group(0).replace("\n", ""), svg)
    return _presentation_attributes(svg)


def figure(
    fig_or_ax: Figure | Axes, *, caption: str | None = None, alt: str | None = None
) -> Block:
    """A matplotlib Figure (or an Axes' figure) as inline SVG, then closes the figure.

    Text stays text (in the document's fonts), so it is sharp, searchable and small.
    ``alt`` describes the chart for screen readers; it defaults to the caption.
    """
    import matplotlib.pyplot as plt

    fig = getattr(fig_or_ax, "figure", None) if not hasattr(fig_or_ax, "savefig") else fig_or_ax
    if fig is None or not hasattr(fig, "savefig"):
        got = type(fig_or_ax).__name__
        raise TypeError(f"figure() needs a matplotlib Figure or Axes; got {got}")
    try:
        svg = _svg_markup(fig)
    finally:
        plt.close(fig)
    label = alt or caption
    attrs = ' role="img"' + (f' aria-label="{_e(label)}"' if label else "")
    svg = svg.replace("<svg", f"<svg{attrs}", 1)
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return Block(f'<figure class="vr-figure">{svg}{cap}</figure>', "figure")


def definition_list(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> Block:
    """Terms and their descriptions, e.g. the methodology appendix's glossary."""
    pairs = items.items() if isinstance(items, Mapping) else items
    body = "".join(f"<dt>{_e(term)}</dt><dd>{_e(desc)}</dd>" for term, desc in pairs)
    return Block(f'<dl class="vr-definitions">{body}</dl>', "definition_list")


def formula(name: str, expression: str, example: str | None = None) -> Block:
    """A named formula with an optional worked example, for the methodology appendix."""
    ex = f'<p class="vr-formula__example">{_e(example)}</p>' if example else ""
    html = (
        f'<div class="vr-formula"><p class="vr-formula__name">{_e(name)}</p>'
        f'<p class="vr-formula__expression">{_e(expression)}</p>{ex}</div>'
    )
    return Block(html, "formula")


def page_break() -> Block:
    """Forces a new page in the PDF; invisible on screen."""
    return Block('<div class="vr-page-break" aria-hidden="true"></div>', "page_break")
