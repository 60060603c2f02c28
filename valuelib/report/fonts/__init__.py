"""The documents' fonts, shipped inside the package so every machine draws the same glyphs.

The PDF (WeasyPrint) and the charts (matplotlib) use only the font files of this folder: cuts
of DejaVu Sans, Serif and Sans Mono (Latin with Hausa's and Chichewa's letters, Greek for the
formulas, Georgian, Armenian) and of Noto Sans, Noto Sans Armenian and Noto Sans Georgian for
what DejaVu lacks (the lari ₾, the dram ֏, Georgian capitals). Each cut is renamed with the
``VR`` prefix, a family name no installed font has, so fontconfig never substitutes a font of
the machine for one of ours. `tools/subset_fonts.py` rebuilds the files from Debian's font
packages; LICENSE-DejaVu.txt and OFL-Noto.txt beside them are their licences.

`FACES` is the one table of families, files, weights and styles: the PDF's ``@font-face``
rules (`stylesheet`), the charts' registration (`register_matplotlib`) and the few faces an
HTML document carries (`with_web_fonts`) are made from it.
Every weight and style a document can ask for is declared (with the nearest file where the
family has no such cut), so no renderer ever synthesises or substitutes a face.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent

#: Prefix of every bundled family name (never the name of an installed font).
PREFIX = "VR "


@dataclass(frozen=True)
class Face:
    """One ``@font-face``: a family name, the file that draws it, its weight and style."""

    family: str
    file: str
    weight: int = 400
    style: str = "normal"


def _faces(family: str, regular: str, bold: str, italic: str, bold_italic: str) -> list[Face]:
    return [
        Face(family, regular, 400, "normal"),
        Face(family, bold, 700, "normal"),
        Face(family, italic, 400, "italic"),
        Face(family, bold_italic, 700, "italic"),
    ]


FACES: tuple[Face, ...] = (
    # Bold oblique text is set upright bold: the documents have none, and the cut would
    # add as much as a whole face.
    *_faces("VR DejaVu Sans", "VRDejaVuSans.ttf", "VRDejaVuSans-Bold.ttf",
            "VRDejaVuSans-Oblique.ttf", "VRDejaVuSans-Bold.ttf"),
    # Serif is set in italic only (the formulas); bold serif uses the same cuts.
    *_faces("VR DejaVu Serif", "VRDejaVuSerif.ttf", "VRDejaVuSerif.ttf",
            "VRDejaVuSerif-Italic.ttf", "VRDejaVuSerif-Italic.ttf"),
    # Monospace (plain-text outputs): one upright cut for every weight and style.
    *_faces("VR DejaVu Sans Mono", "VRDejaVuSansMono.ttf", "VRDejaVuSansMono.ttf",
            "VRDejaVuSansMono.ttf", "VRDejaVuSansMono.ttf"),
    *_faces("VR Noto Sans", "VRNotoSans.ttf", "VRNotoSans-Bold.ttf",
            "VRNotoSans-Italic.ttf", "VRNotoSans-BoldItalic.ttf"),
    *_faces("VR Noto Sans Armenian", "VRNotoSansArmenian.ttf", "VRNotoSansArmenian-Bold.ttf",
            "VRNotoSansArmenian.ttf", "VRNotoSansArmenian-Bold.ttf"),
    *_faces("VR Noto Sans Georgian", "VRNotoSansGeorgian.ttf", "VRNotoSansGeorgian-Bold.ttf",
            "VRNotoSansGeorgian.ttf", "VRNotoSansGeorgian-Bold.ttf"),
)

#: The families that fill DejaVu Sans's gaps, in the order they are tried.
_FILLERS = ("VR Noto Sans", "VR Noto Sans Armenian", "VR Noto Sans Georgian")
#: Font stacks of the PDF (CSS ``--vr-font``, ``--vr-font-serif``, ``--vr-font-mono``) and,
#: for SANS, of the charts. Serif and monospace text falls back to DejaVu Sans first.
SANS: tuple[str, ...] = ("VR DejaVu Sans", *_FILLERS)
SERIF: tuple[str, ...] = ("VR DejaVu Serif", *SANS)
MONO: tuple[str, ...] = ("VR DejaVu Sans Mono", *SANS)

#: The licence files that travel with the fonts.
LICENSES = ("LICENSE-DejaVu.txt", "OFL-Noto.txt")


def files() -> list[Path]:
    """Every bundled font file, once each, in a stable order."""
    return [FONTS_DIR / name for name in sorted({face.file for face in FACES})]


def _css_family_list(families: tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in families)


def _file_src(file: str) -> str:
    return f'url("{file}") format("truetype")'


def stylesheet(src: Callable[[str], str] = _file_src) -> str:
    """CSS for the PDF: an ``@font-face`` rule per face (its ``src`` is ``src(file name)``:
    by default a URL relative to `FONTS_DIR`) and the three font stacks as the custom
    properties the house stylesheets use."""
    rules = [
        f'@font-face {{ font-family: "{f.family}"; src: {src(f.file)}; '
        f"font-weight: {f.weight}; font-style: {f.style}; }}"
        for f in FACES
    ]
    rules.append(
        ":root { "
        f"--vr-font: {_css_family_list(SANS)}; "
        f"--vr-font-serif: {_css_family_list(SERIF)}; "
        f"--vr-font-mono: {_css_family_list(MONO)}; }}"
    )
    return "\n".join(rules) + "\n"


def register_matplotlib() -> None:
    """Make the bundled files known to matplotlib (idempotent): charts name only SANS."""
    from matplotlib import font_manager

    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in files():
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))


#: ``id`` of the ``<style>`` in which an HTML document carries its filler faces.
WEB_FONTS_ID = "vr-web-fonts"
_WEB_FONTS_STYLE = re.compile(rf'<style id="{re.escape(WEB_FONTS_ID)}">.*?</style>\n?', re.DOTALL)
_HEAD_END = re.compile(r"</head>", re.IGNORECASE)


def _face(family: str, weight: int) -> Face:
    """The upright face of `family` at `weight`."""
    return next(f for f in FACES if f.family == family and f.weight == weight
                and f.style == "normal")


@functools.cache
def _filled() -> dict[str, frozenset[int]]:
    """Each filler family -> the code points it draws that no family before it in `SANS` has
    (the lari, the dram, Georgian capitals...)."""
    from fontTools.ttLib import TTFont

    seen: set[int] = set()
    filled: dict[str, frozenset[int]] = {}
    for family in SANS:
        with TTFont(FONTS_DIR / _face(family, 400).file, lazy=True) as font:
            drawn = set(font.getBestCmap())
        if family in _FILLERS:
            filled[family] = frozenset(drawn - seen)
        seen |= drawn
    return filled


def _unicode_range(points: frozenset[int]) -> str:
    """Code points as a CSS ``unicode-range`` (runs of consecutive points as one range)."""
    runs: list[list[int]] = []
    for point in sorted(points):
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


@functools.cache
def _web_rules(family: str) -> str:
    """The regular and bold faces of a filler family as ``@font-face`` rules with the font
    file inline, used only for the characters the family fills (italic is slanted by the
    browser)."""
    rules = []
    for weight in (400, 700):
        data = base64.b64encode((FONTS_DIR / _face(family, weight).file).read_bytes())
        rules.append(
            f'@font-face {{ font-family: "{family}"; '
            f'src: url(data:font/ttf;base64,{data.decode("ascii")}) format("truetype"); '
            f"font-weight: {weight}; font-style: normal; "
            f"unicode-range: {_unicode_range(_filled()[family])}; }}\n")
    return "".join(rules)


def web_stylesheet(text: str) -> str:
    """``@font-face`` rules, with the font files inline as ``data:`` URLs, for each filler
    family that draws a character of `text`; empty when none does.

    A browser sets an HTML document in the reader's fonts (the house CSS names DejaVu, Noto,
    Verdana), and many machines have none with the lari, the dram or Georgian capitals: those
    few glyphs travel with the document (a few kilobytes a family), under the names the house
    CSS's stacks and the charts' text give them."""
    points = {ord(char) for char in set(text)}
    return "".join(_web_rules(family) for family, drawn in _filled().items()
                   if not drawn.isdisjoint(points))


def with_web_fonts(html: str) -> str:
    """The HTML document with `web_stylesheet` of its own text in a ``<style>`` before its
    ``</head>``; unchanged when its text needs no filler or it has no head."""
    css = web_stylesheet(html)
    if not css:
        return html
    style = f'<style id="{WEB_FONTS_ID}">\n{css}</style>\n'
    return _HEAD_END.sub(lambda m: style + m.group(0), html, count=1)


def without_web_fonts(html: str) -> str:
    """The document without the faces `with_web_fonts` added: a PDF engine sets every character
    in the bundled files themselves (`stylesheet`), under the same family names."""
    return _WEB_FONTS_STYLE.sub("", html, count=1)


@functools.cache
def _advances(bold: bool) -> dict[str, float]:
    """Each character the sans stack draws -> its advance width in ems, from the first family
    (at the given weight) that has it."""
    from fontTools.ttLib import TTFont

    weight = 700 if bold else 400
    table: dict[str, float] = {}
    for family in reversed(SANS):  # the first family that has a character wins
        with TTFont(FONTS_DIR / _face(family, weight).file, lazy=True) as font:
            metrics, upem = font["hmtx"].metrics, font["head"].unitsPerEm
            table.update({chr(code): metrics[glyph][0] / upem
                          for code, glyph in font.getBestCmap().items()})
    return table


def load_metrics() -> None:
    """Read the advance widths `text_width` measures with (about 0.1 s), so that processes
    forked afterwards share them instead of each reading the font files again."""
    _advances(False)
    _advances(True)


@functools.lru_cache(maxsize=16384)
def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in points of ``text`` set on one line in the sans stack at ``size`` points: each
    character from the first family that has it, as the PDF engines pick. Kerning is left
    out, so the figure errs wide; a character no family has counts as one em."""
    advances = _advances(bold)
    return sum(advances.get(char, 1.0) for char in text) * size


def digest() -> str:
    """SHA-256 over the bundled font files and their face table: what the fonts contribute
    to a document's cache key."""
    h = hashlib.sha256(stylesheet().encode())
    for path in files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


__all__ = [
    "FACES",
    "FONTS_DIR",
    "LICENSES",
    "MONO",
    "PREFIX",
    "SANS",
    "SERIF",
    "WEB_FONTS_ID",
    "Face",
    "digest",
    "files",
    "load_metrics",
    "register_matplotlib",
    "stylesheet",
    "text_width",
    "web_stylesheet",
    "with_web_fonts",
    "without_web_fonts",
]
