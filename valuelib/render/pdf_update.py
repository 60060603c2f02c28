"""Small edits of a finished PDF without re-writing it: the running header stamped into the
pages of Chromium's PDF, and what varies between two prints of it (dates, structure ids) fixed.

The section stamp is an *incremental update* written here byte by byte: new objects (the
stamps as Form XObjects, their fonts, two tiny content streams), the stamped pages' new
dictionaries, an xref section and a trailer pointing back at the original one. The document's
own content streams are never decoded, parsed or written again, so the cost does not grow
with the document (pypdf only reads the outline and the few objects touched).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Sequence
from typing import Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

__all__ = ["Heading", "epoch_date", "headings", "pdf_date", "reproducible", "section_per_page",
           "stamp"]

#: The name of the stamp in each stamped page's resources.
STAMP = "/VRSection"
#: Points a heading may sit below the highest heading of the document and still count as the
#: first thing on its page (a heading under anything else is at least a line lower).
FIRST_ON_PAGE_SLACK = 6.0
_DATE = re.compile(rb"/(CreationDate|ModDate)\s*\(D:[^)]*\)")
_W3C_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?Z?)?)?)?")
#: Chromium's structure element ids (``/ID (node00001404)``, also in ``/Headers`` and the
#: ID tree): numbered by the renderer's DOM nodes, so they depend on what it printed before.
_NODE_ID = re.compile(rb"\(node(\d+)\)")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_EPOCH_FORMAT = "D:%Y%m%d%H%M%S+00'00'"


class Heading:
    """One outline entry: its title, page index and top (PDF points from the page's foot)."""

    __slots__ = ("page", "title", "top")

    def __init__(self, title: str, page: int, top: float) -> None:
        self.title, self.page, self.top = title, page, top

    def __repr__(self) -> str:
        return f"Heading({self.title!r}, {self.page}, {self.top:.1f})"


def _plain(text: str) -> str:
    return " ".join(text.split())


def headings(reader: PdfReader) -> list[Heading]:
    """The document outline's entries (every level) in document order."""
    found: list[Heading] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            page = reader.get_destination_page_number(item)
            top = item.get("/Top")
            if page >= 0 and top is not None:
                found.append(Heading(_plain(str(item.title)), page, float(top)))

    walk(reader.outline)
    return found


def section_per_page(outline: Sequence[Heading], sections: Sequence[str],
                     pages: int) -> list[str | None]:
    """Each page's running section, as CSS ``string(name, start)`` gives it: the section in
    effect where the page starts, or the section whose heading is the first thing on the page.

    `sections` are the texts of the headings that set the name, in document order; they are
    found in `outline` (which has other levels too) in that order. None before the first."""
    wanted = [_plain(s) for s in sections]
    placed: list[Heading] = []
    for entry in outline:
        if len(placed) < len(wanted) and entry.title == wanted[len(placed)]:
            placed.append(entry)
    if not placed:
        return [None] * pages
    top = max(h.top for h in placed)
    result: list[str | None] = []
    current: str | None = None
    for page in range(pages):
        here = [h for h in placed if h.page == page]
        first = here[0].title if here and here[0].top >= top - FIRST_ON_PAGE_SLACK else None
        result.append(first or current)
        if here:
            current = here[-1].title
    return result


def pdf_date(w3c: str | None) -> str | None:
    """A W3C date (``2026-09-30``, ``2026-09-30T12:00``) as a PDF date (``D:20260930``), as
    WeasyPrint writes a document's ``dcterms.created``; None if it is none."""
    m = _W3C_DATE.fullmatch((w3c or "").strip())
    if m is None:
        return None
    return "D:" + "".join(g for g in m.groups() if g) + ("Z" if m.group(4) else "")


def epoch_date(epoch: str | None) -> str | None:
    """``SOURCE_DATE_EPOCH`` (seconds) as a PDF date; None if it is unset or not a number."""
    if not epoch or not epoch.strip().isdigit():
        return None
    return time.strftime(_EPOCH_FORMAT, time.gmtime(int(epoch)))


def reproducible(pdf: bytes, created: str | None = None, modified: str | None = None) -> bytes:
    """`pdf` with the given PDF dates as its creation and modification dates, or without them
    (blanked), in place: every offset holds. Its structure element ids are renumbered from 1 in
    their order (same width, so the ID tree's keys stay sorted)."""
    out = bytearray(pdf)
    for m in _DATE.finditer(pdf):
        date = created if m.group(1) == b"CreationDate" else modified
        entry = b"/%s (%s)" % (m.group(1), date.encode()) if date else b""
        if len(entry) > m.end() - m.start():
            entry = b""
        out[m.start():m.end()] = entry.ljust(m.end() - m.start())
    ids = sorted({int(m.group(1)) for m in _NODE_ID.finditer(pdf)})
    rank = {old: new for new, old in enumerate(ids, 1)}
    for m in _NODE_ID.finditer(pdf):
        width = m.end(1) - m.start(1)
        out[m.start(1):m.end(1)] = b"%0*d" % (width, rank[int(m.group(1))])
    return bytes(out)


def _serialize(obj: PdfObject) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


class _Update:
    """The objects of one incremental update: ids after the document's last, and the
    objects copied in from another PDF with their references renumbered."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.objects: dict[int, bytes] = {}

    def add(self, obj: PdfObject) -> IndirectObject:
        ref = IndirectObject(self.size, 0, None)  # type: ignore[arg-type]
        self.size += 1
        self.objects[ref.idnum] = _serialize(obj)
        return ref

    def copier(self, source: PdfReader) -> Any:
        """A function copying an object of `source` (and all it refers to) into the update."""
        ids: dict[int, IndirectObject] = {}

        def copy(obj: Any) -> Any:
            if isinstance(obj, IndirectObject):
                if obj.idnum not in ids:
                    ids[obj.idnum] = IndirectObject(self.size, 0, None)  # type: ignore[arg-type]
                    self.size += 1
                    self.objects[ids[obj.idnum].idnum] = _serialize(copy(obj.get_object()))
                return ids[obj.idnum]
            if isinstance(obj, StreamObject):
                new = EncodedStreamObject()
                new._data = obj._data
                for key, value in obj.items():
                    new[NameObject(key)] = copy(value)
                return new
            if isinstance(obj, DictionaryObject):
                return DictionaryObject({NameObject(k): copy(v) for k, v in obj.items()})
            if isinstance(obj, ArrayObject):
                return ArrayObject(copy(v) for v in obj)
            return obj

        return copy

    def write(self, pdf: bytes, trailer: DictionaryObject) -> bytes:
        """`pdf` with the update appended: objects, xref section, trailer."""
        tail = _STARTXREF.search(pdf[-64:])
        if tail is None:
            raise ValueError("not a PDF with a classic trailer")
        out = io.BytesIO()
        out.write(pdf)
        if not pdf.endswith(b"\n"):
            out.write(b"\n")
        offsets = {}
        for idnum in sorted(self.objects):
            offsets[idnum] = out.tell()
            out.write(b"%d 0 obj\n%s\nendobj\n" % (idnum, self.objects[idnum]))
        xref = out.tell()
        out.write(b"xref\n")
        ids = sorted(offsets)
        start = 0
        while start < len(ids):
            end = start
            while end + 1 < len(ids) and ids[end + 1] == ids[end] + 1:
                end += 1
            out.write(b"%d %d\n" % (ids[start], end - start + 1))
            out.writelines(b"%010d 00000 n \n" % offsets[i] for i in ids[start:end + 1])
            start = end + 1
        new = DictionaryObject({NameObject(k): v for k, v in trailer.items()
                                if k not in ("/Prev", "/Size")})
        new[NameObject("/Size")] = NumberObject(self.size)
        new[NameObject("/Prev")] = NumberObject(int(tail.group(1)))
        out.write(b"trailer\n" + _serialize(new) + b"\nstartxref\n%d\n%%%%EOF\n" % xref)
        return out.getvalue()


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def stamp(pdf: bytes, stamps: bytes, placement: Sequence[int | None], *,
          reader: PdfReader | None = None) -> bytes:
    """`pdf` with page ``placement[i]`` of the PDF `stamps` drawn over its page i (None:
    nothing), as a marked artifact after the page's own content (kept whole in ``q``/``Q``).
    The stamps' pages must have the size of the pages they go on. `reader`: the caller's
    reader of `pdf`, if it has one (not parsed again)."""
    if all(p is None for p in placement):
        return pdf
    main = reader if reader is not None else PdfReader(io.BytesIO(pdf))
    source = PdfReader(io.BytesIO(stamps))
    update = _Update(int(main.trailer["/Size"]))
    copy = update.copier(source)
    forms: dict[int, IndirectObject] = {}
    for index in sorted({p for p in placement if p is not None}):
        page = source.pages[index]
        contents = page.get("/Contents")
        content = contents.get_object() if contents is not None else None
        if isinstance(content, StreamObject):
            form = copy(content)
        else:  # several streams, or none: one decoded stream
            form = _stream(page.get_contents().get_data() if content is not None else b"")
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = ArrayObject(page.mediabox)
        form[NameObject("/Resources")] = copy(page.raw_get("/Resources"))
        forms[index] = update.add(form)
    before = update.add(_stream(b"q\n"))
    after = update.add(_stream(b"\nQ\n/Artifact BMC q %s Do Q EMC\n" % STAMP.encode()))
    for number, index in enumerate(placement):
        if index is None:
            continue
        page = main.pages[number]
        new = DictionaryObject({NameObject(k): v for k, v in page.items()})
        own = page.raw_get("/Contents")
        own = list(own) if isinstance(own, ArrayObject) else [own]
        new[NameObject("/Contents")] = ArrayObject([before, *own, after])
        resources = DictionaryObject(page["/Resources"].items())
        xobjects = resources.get("/XObject")
        xobjects = DictionaryObject(xobjects.get_object().items() if xobjects is not None
                                    else ())
        xobjects[NameObject(STAMP)] = forms[index]
        resources[NameObject("/XObject")] = xobjects
        new[NameObject("/Resources")] = resources
        update.objects[page.indirect_reference.idnum] = _serialize(new)
    return update.write(pdf, main.trailer)
