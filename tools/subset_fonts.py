"""Rebuild the bundled fonts of `valuelib/report/fonts/` from Debian's font packages (a developer's
tool, not run by the package): `make fonts`.

Needs fonts-dejavu-core and fonts-dejavu-extra (DejaVu's bold, oblique and italic cuts) and
fonts-noto-core installed, and fontTools (a dependency of WeasyPrint and matplotlib). Each
DejaVu cut keeps the Unicode ranges of `RANGES` (the five languages' letters, Greek for the
formulas, the punctuation, currency signs, arrows and operators the documents draw, and the
Latin a customer's name may use); each Noto cut keeps only what no DejaVu cut draws. Glyph
hinting is dropped (PDF viewers and SVG text do not use it), every name is given the
`valuelib.report.fonts.PREFIX`, and the files' timestamps are kept, so the same sources always give
the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from valuelib.report import fonts  # noqa: E402

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO = Path("/usr/share/fonts/truetype/noto")
#: Debian's copyright file of fonts-noto-core, which holds the full text of the OFL.
NOTO_COPYRIGHT = Path("/usr/share/doc/fonts-noto-core/copyright")

#: Unicode ranges of the DejaVu cuts (inclusive).
RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1, Latin Extended-A and -B (Hausa's ƙ ƴ Ɓ Ɗ, Chichewa's ŵ)
    (0x0250, 0x02FF),  # IPA (Hausa's ɓ ɗ) and spacing modifiers (the Hausa apostrophe ʼ)
    (0x0300, 0x036F),  # combining marks (text that arrives decomposed)
    (0x0370, 0x03FF),  # Greek (Σ, α, β in the formulas)
    (0x0530, 0x058F),  # Armenian
    (0x10A0, 0x10FF),  # Georgian
    (0x1C90, 0x1CBF),  # Georgian Mtavruli (capitals, when text is upper-cased)
    (0x1D62, 0x1D6A),  # subscript letters (xᵢ in the formulas)
    (0x1E00, 0x1EFF),  # Latin Extended Additional (names)
    (0x2000, 0x20CF),  # punctuation, super- and subscripts, currency signs (₾ ₦ € £)
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark sign
    (0x2150, 0x215F),  # vulgar fractions
    (0x2190, 0x2199),  # arrows
    (0x2202, 0x2202), (0x2206, 0x2206), (0x2211, 0x2215), (0x2219, 0x221A),
    (0x221E, 0x221E), (0x2248, 0x2248), (0x2260, 0x2261), (0x2264, 0x2265),  # operators
    (0x25A0, 0x25A1), (0x25AA, 0x25AB), (0x25B2, 0x25B3), (0x25B6, 0x25B7),
    (0x25BC, 0x25BD), (0x25C0, 0x25C1), (0x25C6, 0x25C7), (0x25CB, 0x25CB),
    (0x25CF, 0x25CF),  # geometric shapes (▲ ▼ ● ■ ◆)
    (0xFB00, 0xFB06),  # Latin ligatures
    (0xFFFD, 0xFFFD),  # the replacement character
)

#: Each bundled file and the Debian file it is cut from.
SOURCES: dict[str, Path] = {
    "VRDejaVuSans.ttf": DEJAVU / "DejaVuSans.ttf",
    "VRDejaVuSans-Bold.ttf": DEJAVU / "DejaVuSans-Bold.ttf",
    "VRDejaVuSans-Oblique.ttf": DEJAVU / "DejaVuSans-Oblique.ttf",
    "VRDejaVuSerif.ttf": DEJAVU / "DejaVuSerif.ttf",
    "VRDejaVuSerif-Italic.ttf": DEJAVU / "DejaVuSerif-Italic.ttf",
    "VRDejaVuSansMono.ttf": DEJAVU / "DejaVuSansMono.ttf",
    "VRNotoSans.ttf": NOTO / "NotoSans-Regular.ttf",
    "VRNotoSans-Bold.ttf": NOTO / "NotoSans-Bold.ttf",
    "VRNotoSans-Italic.ttf": NOTO / "NotoSans-Italic.ttf",
    "VRNotoSans-BoldItalic.ttf": NOTO / "NotoSans-BoldItalic.ttf",
    "VRNotoSansArmenian.ttf": NOTO / "NotoSansArmenian-Regular.ttf",
    "VRNotoSansArmenian-Bold.ttf": NOTO / "NotoSansArmenian-Bold.ttf",
    "VRNotoSansGeorgian.ttf": NOTO / "NotoSansGeorgian-Regular.ttf",
    "VRNotoSansGeorgian-Bold.ttf": NOTO / "NotoSansGeorgian-Bold.ttf",
}

#: Name records that carry the family (1, 16, 21), full (4) and unique (3) names, and the
#: PostScript name (6, no spaces).
_FAMILY_NAMES = (1, 3, 4, 16, 18, 21)
_POSTSCRIPT_NAME = 6


def wanted() -> set[int]:
    """Every code point of RANGES."""
    return {c for lo, hi in RANGES for c in range(lo, hi + 1)}


def _options() -> subset.Options:
    opts = subset.Options()
    opts.layout_features = ["*"]  # kerning, ligatures, Georgian and Armenian forms
    opts.name_IDs = ["*"]  # keep copyright, licence and designer records
    opts.name_languages = ["*"]
    opts.name_legacy = True
    opts.hinting = False
    opts.notdef_outline = True
    opts.recalc_timestamp = False
    opts.drop_tables += ["FFTM"]  # FontForge's timestamps
    return opts


def _rename(font: TTFont) -> None:
    prefix = fonts.PREFIX
    for record in font["name"].names:
        text = record.toUnicode()
        if record.nameID in _FAMILY_NAMES and not text.startswith(prefix):
            record.string = prefix + text
        elif record.nameID == _POSTSCRIPT_NAME and not text.startswith(prefix.strip()):
            record.string = prefix.strip() + text


def cut(source: Path, target: Path, unicodes: set[int]) -> int:
    """Write `source` reduced to `unicodes` (and the glyphs its layout needs for them), renamed,
    to `target`; returns how many of `unicodes` it draws."""
    opts = _options()
    font = subset.load_font(str(source), opts, dontLoadGlyphNames=True)
    present = unicodes & set(font.getBestCmap())
    subsetter = subset.Subsetter(opts)
    subsetter.populate(unicodes=present)
    subsetter.subset(font)
    _rename(font)
    subset.save_font(font, str(target), opts)
    return len(present)


def _name(source: Path, name_id: int) -> str:
    return TTFont(str(source), lazy=True)["name"].getDebugName(name_id) or ""


def _ofl_text() -> str:
    """The SIL Open Font License 1.1 as Debian's copyright file states it (paragraph form)."""
    lines = NOTO_COPYRIGHT.read_text(encoding="utf-8").splitlines()
    # The stand-alone paragraph: the one whose next line is indented text.
    start = next(i + 1 for i, line in enumerate(lines[:-1])
                 if line == "License: OFL-1.1" and lines[i + 1].startswith(" "))
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line[1:])
    return "\n".join(body).strip() + "\n"


def licences(out: Path) -> None:
    """Write the licence files: DejaVu's own (from the font), and the OFL with the copyright
    notices of the Noto fonts cut here."""
    names = [name for name in SOURCES if name.startswith("VRDejaVu")]
    dejavu = _name(SOURCES[names[0]], 13)
    (out / fonts.LICENSES[0]).write_text(
        f"The files {', '.join(names)} are cuts of the DejaVu fonts (version "
        f"{_name(SOURCES[names[0]], 5).removeprefix('Version ')}), renamed with the prefix "
        f"{fonts.PREFIX.strip()!r}, under the DejaVu fonts' licence, which follows as the "
        "fonts state it.\n\n" + dejavu.strip() + "\n",
        encoding="utf-8",
    )
    notos = [name for name in SOURCES if name.startswith("VRNoto")]
    notices = sorted({_name(SOURCES[name], 0).strip() for name in notos})
    (out / fonts.LICENSES[1]).write_text(
        f"The files {', '.join(notos)} are cuts of Noto fonts, renamed with the prefix "
        f"{fonts.PREFIX.strip()!r}.\n\n" + "\n".join(notices) + "\n\n"
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n"
        + _ofl_text(),
        encoding="utf-8",
    )


def build(out: Path) -> None:
    """Cut every file of SOURCES into `out`."""
    missing = [str(p) for p in (*SOURCES.values(), NOTO_COPYRIGHT) if not p.is_file()]
    if missing:
        sys.exit("missing source fonts (install fonts-dejavu-core, fonts-dejavu-extra and "
                 "fonts-noto-core): " + ", ".join(missing))
    need = {face.file for face in fonts.FACES}
    if need != set(SOURCES):
        sys.exit("valuelib.report.fonts.FACES and SOURCES name different files: "
                 f"{need ^ set(SOURCES)}")
    everything = wanted()
    # What some DejaVu Sans cut lacks (serif and monospace text falls back to DejaVu Sans
    # first, valuelib.report.fonts.SERIF): the Noto cuts keep only that.
    gaps: set[int] = set()
    for name, source in SOURCES.items():
        if name.startswith("VRDejaVuSans") and "Mono" not in name:
            gaps |= everything - set(TTFont(str(source), lazy=True).getBestCmap())
    total = 0
    for name, source in SOURCES.items():
        unicodes = everything if name.startswith("VRDejaVu") else gaps
        drawn = cut(source, out / name, unicodes)
        size = (out / name).stat().st_size
        total += size
        print(f"{name:32} {drawn:5} characters {size / 1024:7.1f} KiB")
    print(f"{'total':32} {'':16} {total / 1024:7.1f} KiB")
    licences(out)


def main() -> None:
    """Command line: rebuild into valuelib/report/fonts/ (or --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=fonts.FONTS_DIR)
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
