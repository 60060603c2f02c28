"""The fonts a PDF embeds, read as a test needs them: each font's name, its ToUnicode map,
its program (fontTools) and its CIDToGIDMap, on every page and in chart images."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from pypdf import PdfReader

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")


def to_unicode(cmap: bytes) -> dict[int, str]:
    """glyph code → text, from a ToUnicode CMap (bfchar and bfrange entries)."""
    out: dict[int, str] = {}

    def text(h: bytes) -> str:
        return bytes.fromhex(h.decode()).decode("utf-16-be", errors="replace")

    for block in _BFCHAR.findall(cmap):
        codes = _HEX.findall(block)
        for src, dst in zip(codes[::2], codes[1::2], strict=True):
            out[int(src, 16)] = text(dst)
    for block in _BFRANGE.findall(cmap):
        for line in block.strip().splitlines():
            codes = _HEX.findall(line)
            if len(codes) == 3 and b"[" not in line:
                lo, hi, start = (int(c, 16) for c in codes)
                for i, code in enumerate(range(lo, hi + 1)):
                    out[code] = chr(start + i)
            elif len(codes) >= 3:
                lo = int(codes[0], 16)
                for i, dst in enumerate(codes[2:]):
                    out[lo + i] = text(dst)
    return out


@dataclass
class EmbeddedFont:
    """One font of a PDF; `program` is None when the font is not embedded."""

    name: str
    to_unicode: dict[int, str]
    program: TTFont | None
    cid_to_gid: str


def embedded_fonts(pdf_path: Path) -> list[EmbeddedFont]:
    """Each font the PDF uses, once, on its pages and in the images they draw."""
    found: dict[int, EmbeddedFont] = {}

    def visit(resources) -> None:  # noqa: ANN001 - a pypdf dictionary
        resources = resources.get_object() if resources is not None else {}
        for ref in (resources.get("/Font") or {}).values():
            if ref.idnum in found:
                continue
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            program = (TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
                       if "/FontFile2" in descriptor else None)
            found[ref.idnum] = EmbeddedFont(
                str(font["/BaseFont"]), to_unicode(font["/ToUnicode"].get_object().get_data()),
                program, str(descendant.get("/CIDToGIDMap", "/Identity")))
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if "/Resources" in xobject:
                visit(xobject["/Resources"])

    for page in PdfReader(str(pdf_path)).pages:
        visit(page.get("/Resources"))
    return list(found.values())
