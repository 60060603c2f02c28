"""The exporters' guards: what WeasyPrint may read, what a customer document may hold, and
that the checks run on every path (Exporters, the nbconvert plug-ins, the batch worker)."""

from __future__ import annotations

import base64
import html
import io
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from support import ROOT  # noqa: E402

from valuelib.batch import worker  # noqa: E402
from valuelib.render import export, guards
from valuelib.render.templates import STATIC_DIR  # noqa: E402
from valuelib.report import blocks  # noqa: E402


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    plt.imsave(buf, np.full((4, 4, 3), 0.2), format="png")
    return buf.getvalue()


PNG = _png_bytes()
DATA_PNG = "data:image/png;base64," + base64.b64encode(PNG).decode()
SECRET = "TOP-SECRET-FILE-CONTENT"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


@pytest.fixture(scope="module")
def exporters() -> export.Exporters:
    return export.Exporters()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to open a connection is recorded and fails."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


# --- the URL fetcher ------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["customer", "internal"])
def test_attachment_link_to_a_local_file_is_refused(exporters, audience):
    html = page('<a rel="attachment" href="file:///etc/passwd">passwd</a>')
    with pytest.raises(export.ResourceRefusedError, match="file:///etc/passwd"):
        exporters.pdf(html, audience=audience)


def test_image_from_a_local_file_outside_static_is_refused(exporters, tmp_path):
    image = tmp_path / "secret.png"
    image.write_bytes(PNG)
    html = page(f'<img src="{image.as_uri()}" alt="x">')
    with pytest.raises(export.ResourceRefusedError, match="secret.png"):
        exporters.pdf(html)
    # A relative reference resolved against the notebook's folder is refused the same way.
    with pytest.raises(export.ResourceRefusedError, match="secret.png"):
        exporters.pdf(page('<img src="secret.png" alt="x">'), base_url=tmp_path.as_uri() + "/")


@pytest.mark.parametrize(
    "html",
    [
        page("<p>x</p>", head='<link rel="stylesheet" href="http://192.0.2.1/x.css">'),
        page('<img src="https://192.0.2.1/logo.png" alt="logo">'),
        page('<p style="background: url(http://192.0.2.1/bg.png)">x</p>'),
        page("<p>x</p>", head="<style>@import url(http://192.0.2.1/i.css);</style>"),
        page('<img src="ftp://192.0.2.1/logo.png" alt="logo">'),
    ],
    ids=["stylesheet", "image", "css-url", "css-import", "ftp"],
)
def test_network_resources_are_refused_without_connecting(exporters, no_network, html):
    with pytest.raises(export.ResourceRefusedError, match=r"192\.0\.2\.1"):
        exporters.pdf(html)
    assert no_network == []


def test_a_symlink_in_static_pointing_outside_is_refused(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static)
    outside = tmp_path / "outside.css"
    outside.write_text(f"/* {SECRET} */", encoding="utf-8")
    (static / "leak.css").symlink_to(outside)
    (static / "up").symlink_to(tmp_path)
    fetcher = export.review_url_fetcher((static,))

    response = fetcher.fetch((static / "review.css").as_uri())
    try:
        assert b"--vr-brand" in response.read()
    finally:
        response.close()
    for url in ((static / "leak.css").as_uri(), (static / "up" / "outside.css").as_uri(),
                (static / ".." / "outside.css").as_uri(), "file:///etc/passwd"):
        with pytest.raises(BaseException) as refused:  # WeasyPrint's fatal fetch error
            fetcher.fetch(url)
        assert str(refused.value) == url and not isinstance(refused.value, OSError)
    assert guards.file_url_path((static / "leak.css").as_uri(), (static,)) is None
    assert guards.file_url_path((static / "print.css").as_uri(), (static,)) == str(
        (static / "print.css").resolve())


def test_own_stylesheets_and_data_images_still_work(exporters):
    css = (STATIC_DIR / "review.css").as_uri()
    html = page(
        f'<h1>Own</h1><img src="{DATA_PNG}" alt="chart" style="width:4cm">',
        head=f'<link rel="stylesheet" href="{css}">',
    )
    reader = PdfReader(io.BytesIO(exporters.pdf(html)))
    assert "Own" in reader.pages[0].extract_text()
    assert reader.pages[0].images  # the data: PNG was drawn


# --- customer PDF: no embedded files --------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "body"),
    [
        ("", '<a rel="attachment" download="notes.txt" href="data:text/plain;base64,'
         + base64.b64encode(SECRET.encode()).decode() + '">notes</a>'),
        ('<link rel="attachment" title="notes.txt" href="data:text/plain,' + SECRET + '">',
         "<p>x</p>"),
    ],
    ids=["a-rel-attachment", "link-rel-attachment"],
)
def test_customer_pdf_with_an_embedded_file_is_refused(exporters, head, body):
    html = page(body, head)
    with pytest.raises(export.EmbeddedFileError, match="embed file"):
        exporters.pdf(html, audience="customer")
    with pytest.raises(export.EmbeddedFileError):
        exporters.pdf(html)  # an unknown audience is held to the customer rule
    internal = PdfReader(io.BytesIO(exporters.pdf(html, audience="internal")))
    annotations = [a.get_object() for p in internal.pages for a in p.get("/Annots") or []]
    embedded = list(internal.attachments) + [
        a for a in annotations if a.get("/Subtype") == "/FileAttachment"]
    assert embedded  # what the check refuses is a real embedded file


# --- customer HTML: no active content, nothing outside the document --------------------------

REFUSED_HTML = {
    "script": ("<script>alert(1)</script>", "<script>"),
    "iframe": ('<iframe src="data:text/html,x"></iframe>', "<iframe>"),
    "object": ('<object data="data:image/png;base64,AA"></object>', "<object>"),
    "embed": ('<embed src="data:image/png;base64,AA">', "<embed>"),
    "onerror": (f'<img src="{DATA_PNG}" onerror="alert(1)" alt="">', "onerror="),
    "svg-onload": ('<svg onload="alert(1)"></svg>', "onload="),
    "href": ('<a href="https://evil.example/">x</a>', "https://evil.example/"),
    "href-entities": ('<a href="&#106;avascript:alert(1)">x</a>', "javascript:alert"),
    "src-file": ('<img src="file:///etc/passwd" alt="">', "file:///etc/passwd"),
    "xlink": ('<svg><use xlink:href="http://evil.example/s.svg#a"/></svg>', "xlink:href="),
    "action": ('<form action="https://evil.example/f"></form>', "action="),
    "formaction": ('<button formaction="https://evil.example/f">x</button>', "formaction="),
    "poster": ('<video poster="https://evil.example/p.png"></video>', "poster="),
    "srcset": (f'<img src="{DATA_PNG}" srcset="{DATA_PNG} 1x, //evil.example/a.png 2x" alt="">',
               "//evil.example/a.png"),
    "style-url": ('<p style="background:url(\'https://evil.example/b.png\')">x</p>',
                  "https://evil.example/b.png"),
    "style-escaped": ('<p style="background:\\75 rl(https://evil.example/e.png)">x</p>',
                      "evil.example/e.png"),
    "style-element": ("<style>p { background: url(/etc/passwd) }</style>", "/etc/passwd"),
    "import": ('<style>@import "https://evil.example/i.css";</style>', "@import"),
    "svg-style-markup": ("<svg><style><img src=x></style></svg>", "markup inside a <style>"),
    "comment-breakout": ("<!--><p>x</p>-->", "comment"),
    "meta-refresh": ('<meta http-equiv="refresh" content="0;url=https://evil.example/">',
                     "http-equiv"),
}


@pytest.mark.parametrize("kind", list(REFUSED_HTML))
def test_customer_html_refusals(kind):
    fragment, named = REFUSED_HTML[kind]
    with pytest.raises(export.UnsafeContentError) as refused:
        export.check_customer_html(page(f"<main>{fragment}</main>"))
    assert named in str(refused.value)


def test_what_a_review_holds_passes():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["a", "b"], [1, 2])
    ax.set_title("Clipped & linked")
    body = "".join(
        str(b) for b in (
            blocks.heading("Top", anchor="top"), blocks.figure(fig, caption="A chart"),
            blocks.paragraph("on = fine; see url(this) & that"),
        )
    )
    # What matplotlib's SVG uses when it clips (whether a given chart clips depends on the
    # style in force, so the references are also written out here).
    refs = ('<svg xmlns:xlink="http://www.w3.org/1999/xlink"><defs><clipPath id="c1">'
            '<rect width="1" height="1"/></clipPath></defs><g clip-path="url(#c1)">'
            '<use xlink:href="#c1"/></g></svg>')
    html = page(body + refs + f'<a href="#top">back</a><img src="{DATA_PNG}" alt="" '
                f'srcset="{DATA_PNG} 1x, {DATA_PNG} 2x">')
    assert guards.html_problem(html) is None


def _notebook(*html: str, audience: str | None = None, internal: bool = False):
    cells = [new_code_cell('audience = "customer"', metadata={"tags": ["parameters"]})]
    if audience is not None:
        cells.append(new_code_cell(f"audience = {audience!r}",
                                   metadata={"tags": ["injected-parameters"]}))
    cover = blocks.cover(title="Quarterly value review", account_name="Acme",
                         quarter_label="2026 Q3", prepared_for="Acme", prepared_by="CS",
                         as_of="30 September 2026", audience="internal" if internal else "customer")
    outputs = [str(cover), *html]
    if internal:
        outputs.append(str(blocks.note("Champion leaving in December.", "internal")))
    cell = new_code_cell("display(x)")
    cell.outputs = [new_output("display_data", data={"text/html": h}) for h in outputs]
    cells.append(cell)
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}
    if audience is not None:
        meta["papermill"] = {"parameters": {"audience": audience, "account_id": "ACC-1"}}
    return new_notebook(cells=cells, metadata=meta)


def test_exporters_html_refuses_unsafe_customer_content(exporters):
    nb = _notebook('<p><a href="https://evil.example/">x</a></p>')
    with pytest.raises(export.UnsafeContentError, match="https://evil.example/"):
        exporters.html(nb, audience="customer")
    # The notebook's own audience (its parameters cell: customer) applies when none is given.
    with pytest.raises(export.UnsafeContentError, match="https://evil.example/"):
        exporters.html(nb)
    # An explicit audience wins over the notebook's: internal documents may link out.
    assert "https://evil.example/" in exporters.html(nb, audience="internal")


def test_audience_comes_from_the_executed_notebook():
    assert guards.notebook_audience(_notebook(audience="internal")) == "internal"
    nb = _notebook(audience="internal")
    nb.metadata.papermill.parameters.audience = "customer"
    assert guards.notebook_audience(nb) == "customer"  # papermill's record first
    del nb.metadata["papermill"]
    assert guards.notebook_audience(nb) == "internal"  # then the injected cell
    nb.cells.pop(1)
    assert guards.notebook_audience(nb) == "customer"  # then the parameters cell's default
    assert guards.notebook_audience(new_notebook(cells=[new_markdown_cell("x")])) is None


def test_internal_markup_is_found_by_the_preprocessor_before_rendering():
    nb = _notebook(audience="customer", internal=True)
    exporter = export.ReviewHTMLExporter()
    with pytest.raises(export.InternalContentError, match=r"cell 2 \(text/html output\)"):
        exporter.from_notebook_node(nb)
    nb.metadata.papermill.parameters.audience = "internal"
    nb.cells[1].source = 'audience = "internal"'
    html, resources = exporter.from_notebook_node(nb)
    assert blocks.INTERNAL_ATTR in html and resources["vr_audience"] == "internal"


def _jupyter() -> list[str]:
    jupyter = Path(sys.executable).with_name("jupyter")
    return [str(jupyter), "nbconvert"] if jupyter.exists() else [sys.executable, "-m", "nbconvert"]


def test_nbconvert_pdf_refuses_an_internal_review_switched_to_customer(tmp_path):
    nb = _notebook(audience="internal", internal=True)
    nb.metadata.papermill.parameters.audience = "customer"
    nb.cells[1].source = 'audience = "customer"'
    path = tmp_path / "switched.ipynb"
    nbformat.write(nb, path)
    run = subprocess.run([*_jupyter(), "--to", "valuereview_pdf", str(path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert run.returncode != 0
    assert "InternalContentError" in run.stderr and "internal-only content" in run.stderr
    assert not (tmp_path / "switched.pdf").exists()


def test_nbconvert_html_refuses_an_outside_link(tmp_path):
    path = tmp_path / "linked.ipynb"
    nbformat.write(_notebook('<a href="file:///etc/passwd">x</a>', audience="customer"), path)
    run = subprocess.run([*_jupyter(), "--to", "valuereview_html", str(path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert run.returncode != 0
    assert "UnsafeContentError" in run.stderr and "file:///etc/passwd" in run.stderr
    assert not (tmp_path / "linked.html").exists()


# --- the batch: a refusal is that account's failure -----------------------------------------


@pytest.mark.parametrize(
    ("fragment", "error"),
    [
        ('<a rel="attachment" href="file:///proc/self/environ">env</a>', "UnsafeContentError"),
        ('<a href="#x">ok</a>', None),
    ],
)
def test_worker_reports_a_refusal_as_the_accounts_failure(monkeypatch, fragment, error):
    from valuelib.render import execute

    nb = _notebook(fragment, audience="customer")
    monkeypatch.setattr(worker, "warm_up", lambda **kw: worker.warm_exporters(sample=False))
    monkeypatch.setattr(execute, "execute", lambda *a, **kw: SimpleNamespace(
        ok=True, nb=nb, seconds=0.0, error=None))
    monkeypatch.setattr(execute, "recorded_metrics", lambda nb: {})
    task = worker.Task("ACC-0042", "value-review", "nb.ipynb", {"audience": "customer"},
                       b"{}", ("html", "pdf"))
    result = worker.run(task)
    assert result.account_id == "ACC-0042"
    if error is None:
        assert result.ok and result.files["value-review.pdf"].startswith(b"%PDF-")
    else:
        assert not result.ok and "value-review.pdf" not in result.files
        assert error in result.error and "file:///proc/self/environ" in result.error


def test_worker_reports_a_refused_fetch_as_the_accounts_failure(monkeypatch):
    from valuelib.render import execute

    nb = _notebook(audience="internal")
    nb.cells[-1].outputs.append(new_output("display_data", data={
        "text/html": '<a rel="attachment" href="file:///proc/self/environ">env</a>'}))
    monkeypatch.setattr(worker, "warm_up", lambda **kw: worker.warm_exporters(sample=False))
    monkeypatch.setattr(execute, "execute", lambda *a, **kw: SimpleNamespace(
        ok=True, nb=nb, seconds=0.0, error=None))
    monkeypatch.setattr(execute, "recorded_metrics", lambda nb: {})
    task = worker.Task("ACC-0043", "value-review", "nb.ipynb", {"audience": "internal"},
                       b"{}", ("pdf",))
    result = worker.run(task)
    assert not result.ok and result.account_id == "ACC-0043"
    assert "ResourceRefusedError" in result.error and "/proc/self/environ" in result.error


def test_nbconvert_refuses_a_notebook_that_never_ran(tmp_path):
    """The stored template notebook has no outputs: exporting it would give a blank PDF."""
    path = tmp_path / "never-run.ipynb"
    shutil.copy(ROOT / "notebooks" / "value_review.ipynb", path)
    run = subprocess.run([*_jupyter(), "--to", "valuereview_pdf", str(path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert run.returncode != 0
    assert "NotExecutedError" in run.stderr and "has not been executed" in run.stderr
    assert not (tmp_path / "never-run.pdf").exists()


def test_text_that_mentions_the_internal_attribute_is_not_internal_markup():
    """A customer's goal may quote anything: only a tag carrying the attribute is internal."""
    mention = html.escape(f'our goal: remove {blocks.INTERNAL_ATTR}="1" from <p> tags')
    nb = _notebook(f'<p class="vr-paragraph">{mention}</p>', audience="customer")
    out, _ = export.ReviewHTMLExporter().from_notebook_node(nb)
    assert blocks.INTERNAL_ATTR in out
    tagged = _notebook(f'<p {blocks.INTERNAL_ATTR}>x</p>', audience="customer")
    with pytest.raises(export.InternalContentError):
        export.ReviewHTMLExporter().from_notebook_node(tagged)
