"""Hostile text in every free-text column of the data contract renders as text, never markup.

A copy of the demo warehouse gets markup, script, CSS, URL, mathtext and template payloads in
every free-text column of every contract table for two accounts (enumerated columns, dates,
numbers, currencies, locales and account ids keep their contract values). Both audiences are
rendered with the CLI, and the HTML, the PDF, metrics.json and the batch index are checked:
no element or attribute came from the data, and the payloads read as the text they are.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader
from support import PORTFOLIO_ID, QuarterLayout, valuereview_each

pytestmark = pytest.mark.slow

TARGETS = ("ACC-0001", "ACC-0007")  # en-GB and ny-MW
QUARTER = "2026Q3"
# Our own badge markup, byte for byte, as data: the old content check trusted this prefix.
FORGED_BADGE = ('<span class="vr-badge"></span><img src="file:///etc/hostname" '
                'onerror="alert(document.domain)"><b style="color:red">INJECTED</b>')
#: (table, column) → payload; key columns get the original value appended to stay unique.
PAYLOADS = {
    ("accounts", "name"): ('<span class="vr-badge vr-badge--completed">Acme</span>'
                           '<img src=x onerror=alert(1)> "Bros" & Co {{7*7}}'),
    ("accounts", "segment"): "</style><style>*{display:none}</style> Seg $\\frac{1}{2}$",
    ("accounts", "industry"): '<script>alert("industry")</script>',
    ("accounts", "region"): '<iframe src="file:///etc/passwd"></iframe>',
    ("accounts", "csm"): "<a href=\"javascript:alert(1)\">csm</a> O'Brien &amp; Sons",
    ("value_drivers", "driver_id"): 'drv"><svg onload=alert(1)>',
    ("value_drivers", "name"): "<img src=file:///etc/hostname onerror=alert(1)> $\\nosuchcmd$",
    ("value_drivers", "unit"): '<a rel="attachment" href="file:///etc/passwd">u</a>',
    ("usage", "feature"): '<object data="file:///etc/passwd"></object> $x^2$ ',
    ("nps_responses", "comment"): ('<embed src="file:///etc/passwd"> javascript:alert(1) '
                                   '"quoted" {name} %s &lt;b&gt;'),
    ("success_plan", "goal"): FORGED_BADGE,
    ("success_plan", "owner"): ('<link rel="stylesheet" href="file:///etc/passwd">'
                                '<base href="https://evil.example/">Owner'),
    ("success_plan", "internal_note"): ('InternalOnly <meta http-equiv="refresh" '
                                        'content="0;url=javascript:alert(1)">'),
}
KEYED = {("value_drivers", "driver_id"), ("usage", "feature")}
INTERNAL = PAYLOADS[("success_plan", "internal_note")]
#: Shown in a value review as text (the chart-only feature name in its SVG text).
REVIEW_TEXT = [("accounts", "name"), ("accounts", "segment"), ("value_drivers", "name"),
               ("value_drivers", "unit"), ("usage", "feature"), ("nps_responses", "comment"),
               ("success_plan", "goal"), ("success_plan", "owner")]
#: Read back from the PDF's text (drawn in prose, notes, cover and table cells).
PDF_TEXT = [("accounts", "name"), ("accounts", "segment"), ("nps_responses", "comment"),
            ("success_plan", "goal")]
URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "data", "poster",
             "background", "srcset", "cite", "longdesc", "ping", "manifest"}
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "link", "base", "frame", "frameset",
                  "applet", "form", "input", "button", "textarea", "video", "audio", "source",
                  "track", "portal"}


class _Doc(HTMLParser):
    """Every element with its attributes, the text a reader sees, and each style's CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        if self._in_style:
            self.styles.append("")

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles[-1] += data
        else:
            self.text.append(data)


def _parse(html: str) -> _Doc:
    doc = _Doc()
    doc.feed(html)
    doc.close()
    return doc


def _bare(text: str) -> str:
    """Text without any whitespace: wrapping differs between HTML, SVG lines and PDF."""
    return re.sub(r"\s+", "", text)


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return "\n".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)


@pytest.fixture(scope="module")
def hostile(demo_db, tmp_path_factory):
    """The demo warehouse with every payload planted for TARGETS, rendered for both
    audiences (the customer run with the portfolio review and the batch index)."""
    db = tmp_path_factory.mktemp("hostile") / "w.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db))
    marks = ", ".join("?" for _ in TARGETS)
    for (table, column), payload in PAYLOADS.items():
        value = f"? || ' #' || \"{column}\"" if (table, column) in KEYED else "?"
        con.execute(f'UPDATE "{table}" SET "{column}" = {value} WHERE account_id IN ({marks})',
                    [payload, *TARGETS])
        if (table, column) == ("value_drivers", "driver_id"):
            con.execute(f'UPDATE value_measurements SET driver_id = ? || \' #\' || driver_id '
                        f"WHERE account_id IN ({marks})", [payload, *TARGETS])
    # A promoter's comment this quarter, so the review quotes it.
    for account in TARGETS:
        con.execute("INSERT INTO nps_responses (account_id, responded_at, score, comment) "
                    "VALUES (?, DATE '2026-09-15', 10, ?)",
                    [account, PAYLOADS[("nps_responses", "comment")]])
    con.close()
    out = tmp_path_factory.mktemp("hostile-out")
    audiences = ("customer", "internal")
    commands = []
    for audience in audiences:
        args = ["render", "--db", str(db), "--out", str(out / audience), "--audience",
                audience, "--accounts", ",".join(TARGETS)]
        if audience == "internal":
            args.append("--no-portfolio")
        commands.append(args)
    runs = dict(zip(audiences, valuereview_each(*commands), strict=True))
    quarter_dirs = {a: QuarterLayout(out / a, QUARTER) for a in audiences}
    return runs, quarter_dirs


def _f(layouts: dict[str, QuarterLayout], audience: str, account: str, name: str) -> Path:
    """Where the batch put one of an account's (or the portfolio's) files."""
    return layouts[audience].path(audience, account, name)


def _documents(quarter_dirs: dict[str, QuarterLayout]) -> dict[str, Path]:
    docs = {f"{a}/{t}": _f(quarter_dirs, a, t, "value-review.html")
            for a in quarter_dirs for t in TARGETS}
    docs["portfolio"] = _f(quarter_dirs, "customer", PORTFOLIO_ID, "portfolio-review.html")
    docs["index"] = quarter_dirs["customer"].index("customer")
    return docs


def test_both_audiences_render(hostile):
    runs, quarter_dirs = hostile
    for audience, run in runs.items():
        assert run.code == 0, f"{audience}: {run.code}\n{run.stdout}\n{run.stderr}"
    for path in _documents(quarter_dirs).values():
        assert path.is_file(), path


def _our_index_control(tag: str, attrs: dict) -> bool:
    """The index's own filter form and sort buttons, and its one inline script (no source):
    the template's, with no attribute a value from the data could have set."""
    return ((tag == "script" and not attrs)
            or (tag == "form" and attrs.get("class") == "vr-filters")
            or (tag == "input" and attrs.get("type") == "search"
                and attrs.get("data-filter") == "text")
            or (tag == "button" and attrs.get("type") == "button"
                and set(attrs) <= {"type", "data-col", "data-type"}))


def test_no_element_or_attribute_comes_from_the_data(hostile):
    _, quarter_dirs = hostile
    for name, path in _documents(quarter_dirs).items():
        doc = _parse(path.read_text(encoding="utf-8"))
        for tag, attrs in doc.elements:
            where = f"{name}: <{tag} {attrs}>"
            if name == "index" and _our_index_control(tag, attrs):
                continue
            assert tag not in FORBIDDEN_TAGS, where
            assert not any(a.startswith("on") for a in attrs), where
            assert "style" not in attrs or "color:red" not in (attrs["style"] or ""), where
            if tag == "img":
                assert (attrs.get("src") or "").startswith("data:"), where
            if tag == "meta":
                assert set(attrs) <= {"charset", "name", "content"}, where
            for attr, value in attrs.items():
                if attr in URL_ATTRS:
                    v = (value or "").strip()
                    ours = name == "index" and ":" not in v  # relative links to our files
                    assert v.startswith(("data:", "#")) or ours, where
        assert len(doc.styles) <= 3, f"{name}: {len(doc.styles)} style elements"
        assert not any("display:none" in css for css in doc.styles), name


def test_payloads_are_visible_text_in_html_and_pdf(hostile):
    _, quarter_dirs = hostile
    for audience in quarter_dirs:
        for account in TARGETS:
            html = _bare("".join(_parse(
                _f(quarter_dirs, audience, account, "value-review.html").read_text("utf-8")
            ).text))
            for key in REVIEW_TEXT:
                assert _bare(PAYLOADS[key]) in html, f"{audience} {account} HTML: {key}"
            pdf = _bare(_pdf_text(_f(quarter_dirs, audience, account, "value-review.pdf")))
            for key in PDF_TEXT:
                assert _bare(PAYLOADS[key]) in pdf, f"{audience} {account} PDF: {key}"
    index = _bare("".join(_parse(_documents(quarter_dirs)["index"].read_text("utf-8")).text))
    for key in (("accounts", "name"), ("accounts", "segment"), ("accounts", "csm")):
        assert _bare(PAYLOADS[key]) in index, f"index: {key}"
    portfolio = _bare("".join(_parse(
        _documents(quarter_dirs)["portfolio"].read_text("utf-8")).text))
    for key in (("accounts", "segment"), ("accounts", "csm")):
        assert _bare(PAYLOADS[key]) in portfolio, f"portfolio: {key}"


def test_pdfs_embed_no_file_and_link_nowhere(hostile):
    _, quarter_dirs = hostile
    pdfs = [_f(quarter_dirs, a, t, "value-review.pdf") for a in quarter_dirs for t in TARGETS]
    pdfs.append(_f(quarter_dirs, "customer", PORTFOLIO_ID, "portfolio-review.pdf"))
    for path in pdfs:
        reader = PdfReader(str(path))
        assert not reader.attachments, f"{path}: {list(reader.attachments)}"
        for page in reader.pages:
            for annot in page.get("/Annots") or []:
                action = annot.get_object().get("/A") or {}
                uri = str(action.get("/URI", ""))
                assert not uri or uri.startswith("#"), f"{path}: link to {uri}"


def test_metrics_carry_the_name_as_plain_text(hostile):
    _, quarter_dirs = hostile
    for audience in quarter_dirs:
        for account in TARGETS:
            metrics = json.loads(
                _f(quarter_dirs, audience, account, "metrics.json").read_text("utf-8"))
            assert metrics["name"] == PAYLOADS[("accounts", "name")]


def test_internal_note_only_in_the_internal_audience(hostile):
    _, quarter_dirs = hostile
    for account in TARGETS:
        for f in ("value-review.html", "value-review.ipynb", "metrics.json"):
            customer = _f(quarter_dirs, "customer", account, f)
            assert "InternalOnly" not in customer.read_text("utf-8"), f
        assert "InternalOnly" not in _pdf_text(
            _f(quarter_dirs, "customer", account, "value-review.pdf"))
        internal = _f(quarter_dirs, "internal", account, "value-review.html")
        text = "".join(_parse(internal.read_text("utf-8")).text)
        assert _bare(INTERNAL) in _bare(text)
        assert "InternalOnly" in _pdf_text(_f(quarter_dirs, "internal", account,
                                              "value-review.pdf"))
