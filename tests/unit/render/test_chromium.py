"""valuelib.render.chromium and export_chromium: the Chromium PDF engine.

Its page reads nothing (no network, no file), a dead or hung browser fails only the document
it was printing, and a review prints with the same text, pages and bundled fonts as WeasyPrint.
"""

from __future__ import annotations

import http.server
import io
import os
import signal
import threading
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from support import pdf_pages  # noqa: E402
from support.pdf import embedded_fonts  # noqa: E402

from valuelib.render import (  # noqa: E402
    PDF_ENGINE,
    chromium,
    export,
    export_chromium,
    pdf_update,
)
from valuelib.report import fonts  # noqa: E402

needs_chromium = pytest.mark.skipif(chromium.executable() is None,
                                    reason="chromium is not installed")


def test_chromium_css_writes_the_running_texts_into_the_margin_boxes() -> None:
    html = ('<p class="vr-internal-flag" data-vr-internal>Internal &amp; confidential</p>'
            '<p class="vr-running-title">A &quot;B&quot; &lt;/style&gt; · 2026 Q3</p>')
    css = export_chromium.chromium_css(html)
    assert '@top-left { content: "A \\"B\\" \\3c /style> · 2026 Q3"; }' in css
    assert '@bottom-left { content: "Internal & confidential"; }' in css
    assert "</style" not in css
    assert '@bottom-left { content: none; }' in export_chromium.chromium_css("<p>x</p>")
    # Every bundled face, by name (no file, no URL), and the template's Chromium rules.
    assert css.count("@font-face") == len(fonts.FACES) and "url(" not in css
    assert ".vr-main { overflow-x: clip;" in css


def test_resolve_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert chromium.resolve_engine("weasyprint") == PDF_ENGINE == "weasyprint"
    assert chromium.resolve_engine("chromium") == "chromium"
    monkeypatch.setenv(chromium.ENV_EXECUTABLE, "/nonexistent/chromium")
    assert chromium.executable() is None
    assert chromium.resolve_engine("auto") == "weasyprint"
    with pytest.raises(ValueError, match="unknown PDF engine"):
        chromium.resolve_engine("prince")


def test_the_headless_shell_is_found_first_through_its_launcher(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's chromium-headless-shell is a script that runs the binary as its child: the
    binary it names is what gets started (its pid is then the browser's). A launcher that
    execs (Debian's chromium, through variables; a user's wrapper) is started as it is."""
    lib, bin_ = tmp_path / "lib", tmp_path / "bin"
    lib.mkdir()
    bin_.mkdir()
    shell = lib / "chromium-headless-shell"
    shell.write_bytes(b"\x7fELF" + b"\0" * 60)
    shell.chmod(0o755)
    launcher = bin_ / "chromium-headless-shell"
    launcher.write_text(f'#!/bin/sh -e\n\n{shell} "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    desktop = bin_ / "chromium"
    desktop.write_text('#!/bin/sh\nLIBDIR=/usr/lib/chromium\nexec $LIBDIR/chromium "$@"\n',
                       encoding="utf-8")
    desktop.chmod(0o755)
    monkeypatch.delenv(chromium.ENV_EXECUTABLE, raising=False)
    monkeypatch.setenv("PATH", str(bin_))
    assert chromium.executable() == str(shell)
    launcher.unlink()
    assert chromium.executable() == str(desktop)
    # Named by the environment variable, a launcher is looked through the same way.
    launcher.write_text(f'#!/bin/sh -e\n\n{shell} "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    monkeypatch.setenv(chromium.ENV_EXECUTABLE, "chromium-headless-shell")
    assert chromium.executable() == str(shell)
    # A launcher that execs the binary (a user's wrapper setting something up) is kept.
    launcher.write_text(f'#!/bin/sh\nexport LANG=C\nexec {shell} --x "$@"\n', encoding="utf-8")
    assert chromium.executable() == str(launcher)
    # A script naming something under the same name that is no binary is started as it is.
    launcher.write_text(f'#!/bin/sh -e\n\n{shell} "$@"\n', encoding="utf-8")
    shell.write_text("#!/bin/sh\n", encoding="utf-8")
    assert chromium.executable() == str(launcher)


@pytest.fixture(scope="module")
def browser():
    if chromium.executable() is None:
        pytest.skip("chromium is not installed")
    b = chromium.Browser(timeout=30, env=chromium.fonts_env())
    yield b
    b.close()


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _png(path: Path, width: int) -> None:
    buf = io.BytesIO()
    plt.imsave(buf, np.full((7, width, 3), 0.5), format="png")
    path.write_bytes(buf.getvalue())


def _image_widths(pdf: bytes) -> set[int]:
    widths = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for obj in (page["/Resources"].get("/XObject") or {}).values():
            obj = obj.get_object()
            if obj.get("/Subtype") == "/Image":
                widths.add(int(obj["/Width"]))
    return widths


@needs_chromium
def test_the_page_reads_no_file_and_no_url(browser, tmp_path: Path) -> None:
    """The customer guards refuse such documents before export; the engine blocks them too."""
    _png(tmp_path / "secret.png", 37)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    here = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        hostile = (f'<html><head><link rel="stylesheet" href="{here}/css"></head><body>'
                   f'<h1>ACME <img src="{(tmp_path / "secret.png").as_uri()}"></h1>'
                   f'<img src="file:///etc/passwd"><img src="{here}/img.png">'
                   f'<p style="background: url({here}/bg.png)">x</p>'
                   f'<iframe src="{here}/frame"></iframe><script src="{here}/js"></script>'
                   f'<a href="{here}/link">link</a></body></html>')
        pdf, blocked = browser.pdf(hostile)
        time.sleep(0.2)
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    assert {f"{here}/img.png", f"{here}/css"} <= set(blocked)
    assert 37 not in _image_widths(pdf)  # the local file was not drawn
    assert pdf.startswith(b"%PDF")
    writer = export_chromium.ChromiumPDFWriter(browser)
    with pytest.raises(export.ResourceRefusedError, match="refused to read"):
        writer.write(hostile)


PAGE = "<html><body><h1>DOCUMENT_{}</h1></body></html>"


@needs_chromium
def test_a_dead_browser_is_replaced_before_the_next_document(browser) -> None:
    browser.pdf(PAGE.format(1))
    os.killpg(browser.pid, signal.SIGKILL)
    time.sleep(0.5)
    pdf, _ = browser.pdf(PAGE.format(2))
    assert b"%PDF" in pdf[:8]


@needs_chromium
def test_a_hung_browser_fails_only_its_document(browser) -> None:
    browser.pdf(PAGE.format(1))
    hung = browser.pid
    os.killpg(hung, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(chromium.BrowserHung, match="did not answer in time|stopped reading"):
        browser.pdf(PAGE.format(2), timeout=2)
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)  # killed, not left behind
    pdf, _ = browser.pdf(PAGE.format(3))
    assert browser.pid != hung and pdf.startswith(b"%PDF")


@needs_chromium
def test_a_print_with_no_time_limit(browser) -> None:
    """``--print-timeout inf`` (or a number past what `select` takes) waits in turns."""
    pdf = export_chromium.ChromiumPDFWriter(browser).write(PAGE.format(4), timeout=float("inf"))
    assert "DOCUMENT_4" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    pdf, _ = browser.pdf(PAGE.format(5), timeout=1e300)
    assert pdf.startswith(b"%PDF")


@needs_chromium
def test_recycled_after_max_documents() -> None:
    with chromium.Browser(max_documents=2) as b:
        b.pdf(PAGE.format(1))
        first = b.pid
        b.pdf(PAGE.format(2))
        assert b.pid == first
        b.pdf(PAGE.format(3))
        assert b.pid != first


@needs_chromium
def test_a_browser_holds_only_the_page_it_prints_in() -> None:
    """A new browser opens no page of its own at its start (a start page that nothing uses
    made new single-process browsers hang now and then at their first document)."""
    with chromium.Browser() as b:
        b.pdf(PAGE.format(0))
        pipe = b._ready(time.monotonic() + 30)
        pages = [t for t in pipe.call("Target.getTargets", deadline=time.monotonic() + 30)
                 ["targetInfos"] if t["type"] == "page"]
        assert [t["targetId"] for t in pages] == [b._target[1]]


#: The desktop browser, and the headless shell `chromium.executable` prefers, where installed.
BROWSERS = {"desktop": chromium.find(chromium.DESKTOP_NAMES),
            "shell": chromium.find(chromium.SHELL_NAMES)}


@pytest.mark.parametrize("kind", sorted(BROWSERS))
def test_a_browser_leaves_nothing_in_the_temporary_folder(kind, monkeypatch) -> None:
    """A browser is killed, never asked to quit, so it cleans up nothing itself: its profile
    and the folder the desktop browser makes for its singleton socket (in the browser's
    TMPDIR) are both inside the browser's own folder, removed at its close, also after a
    crash."""
    import tempfile

    if BROWSERS[kind] is None:
        pytest.skip(f"no {kind} Chromium installed")
    folder = tempfile.mkdtemp(prefix="vr-test-", dir="/tmp")
    monkeypatch.setattr(tempfile, "tempdir", folder)
    monkeypatch.setenv(chromium.ENV_EXECUTABLE, BROWSERS[kind])
    try:
        with chromium.Browser() as b:
            b.pdf(PAGE.format(0))
            (own,) = os.listdir(folder)
            assert sorted(os.listdir(os.path.join(folder, own)))[-1] == "profile"
            socket = any(name.startswith((".org.chromium.", "org.chromium."))
                         for name in os.listdir(os.path.join(folder, own)))
            assert socket == (kind == "desktop")  # the shell keeps no singleton
        assert os.listdir(folder) == []
        with chromium.Browser() as b:
            b.pdf(PAGE.format(1))
            page = b._page

            def crash(pipe, deadline):  # killed once the print has its browser: a crash
                os.killpg(b.pid, signal.SIGKILL)  # mid-print, not one seen before it starts
                return page(pipe, deadline)  # (the shell dies fast enough to be replaced)

            monkeypatch.setattr(b, "_page", crash)
            with pytest.raises(chromium.BrowserExited):
                b.pdf(PAGE.format(2))
            assert os.listdir(folder) == []
    finally:
        os.rmdir(folder)


@pytest.mark.parametrize("kind", sorted(BROWSERS))
def test_a_browser_leaves_nothing_in_the_users_home(kind, tmp_path, monkeypatch) -> None:
    """Chromium writes outside its profile (crash report settings, dconf's cache, PulseAudio's
    runtime link): into its own folder, never into the home or XDG folders of the user."""
    if BROWSERS[kind] is None:
        pytest.skip(f"no {kind} Chromium installed")
    monkeypatch.setenv(chromium.ENV_EXECUTABLE, BROWSERS[kind])
    home, config = tmp_path / "home", tmp_path / "config"
    home.mkdir()
    config.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with chromium.Browser(env=chromium.fonts_env()) as b:
        b.pdf(PAGE.format(0))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["config", "home"]


@needs_chromium
def test_a_forked_copy_of_a_browser_leaves_the_owners_folder_alone() -> None:
    """A process forked from one with a running browser (a kernel fork server started anew)
    holds a copy of it: letting go of that copy removes nothing of the owner's."""
    with chromium.Browser() as b:
        b.pdf(PAGE.format(0))
        folder = b._folder
        pid = os.fork()
        if pid == 0:  # the copy: forgotten, as a fork's close() does, then collected
            b.close()
            del b
            import gc

            gc.collect()
            os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        assert os.path.isdir(os.path.join(folder, "profile"))
        pdf, _ = b.pdf(PAGE.format(1))
        assert "DOCUMENT_1" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert not os.path.exists(folder)


@needs_chromium
def test_one_page_prints_every_document_of_a_browser() -> None:
    """120 documents in one browser: the same page prints them all (closing a page and
    making the next made single-process Chromium 156 crash, in about one change of page in
    four), each PDF holds only its own document, and the browser never exits."""
    with chromium.Browser() as b:
        b.pdf(PAGE.format(0))
        pid, page = b.pid, b._target
        for n in range(1, 120):
            pdf, _ = b.pdf(PAGE.format(n))
            text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
            assert f"DOCUMENT_{n}" in text and f"DOCUMENT_{n - 1}" not in text
            assert (b.pid, b._target) == (pid, page), f"a new page or browser at document {n}"
        assert b.alive() and b.documents == 120


@needs_chromium
def test_a_review_prints_like_weasyprint(tmp_path: Path) -> None:
    """The same HTML through both engines: the same pages, text (the page header's running
    section too) and (bundled) fonts."""
    from test_export import review_notebook

    ex = export.Exporters()
    html = ex.html(review_notebook(), audience="customer")
    paths = {}
    for engine in ("weasyprint", "chromium"):
        paths[engine] = tmp_path / f"{engine}.pdf"
        paths[engine].write_bytes(ex.pdf(html, audience="customer", engine=engine))
    weasy, chrome = (pdf_pages(paths[e]) for e in ("weasyprint", "chromium"))
    assert len(chrome) == len(weasy)
    for w, c in zip(weasy, chrome, strict=True):
        # Without spaces: pdftotext splits Chromium's kerned runs into words of their own.
        assert "".join(c.split()) == "".join(w.split())
    names = {e: {f.name.split("+", 1)[-1] for f in embedded_fonts(paths[e])} for e in paths}
    assert names["chromium"] and all(n.startswith("VR") for n in names["chromium"])
    assert all(f.program is not None for f in embedded_fonts(paths["chromium"]))
    assert PdfReader(str(paths["chromium"])).trailer["/Root"].get("/MarkInfo") is not None


def test_registered_as_an_nbconvert_exporter() -> None:
    from nbconvert.exporters import get_exporter

    assert get_exporter("valuereview_pdf_chromium") is export_chromium.ReviewChromiumPDFExporter
    assert export_chromium.ReviewChromiumPDFExporter.writer_class is (
        export_chromium.ChromiumPDFWriter)


def test_each_page_takes_the_section_in_effect_at_its_start() -> None:
    """CSS ``string(vr-section, start)``: a heading that opens its page names that page;
    one lower down names the next pages only (the page keeps the section it began in)."""
    H = pdf_update.Heading
    outline = [H("ACME", 0, 600.0), H("One", 1, 756.0), H("Two", 1, 400.0),
               H("Detail", 2, 756.0), H("Three", 3, 300.0), H("Four", 5, 755.0)]
    got = pdf_update.section_per_page(outline, ["One", "Two", "Three", "Four"], 7)
    assert got == [None, "One", "Two", "Two", "Three", "Four", "Four"]
    # Headings found in order only; none found: no section on any page.
    assert pdf_update.section_per_page(outline, ["Zero"], 3) == [None, None, None]


def test_reproducible_sets_or_blanks_the_dates_and_renumbers_structure_ids() -> None:
    pdf = (b"%PDF-1.4\n1 0 obj\n<</Producer (Skia)\n/CreationDate (D:20261129171543+00'00')\n"
           b"/ModDate (D:20261129171544+00'00')>>\nendobj\n2 0 obj\n<</ID (node00001404)>>\n"
           b"<</Headers [(node00001404)]>> <</ID (node00000977)>>\nendobj\n")
    blank = pdf_update.reproducible(pdf)
    assert len(blank) == len(pdf) and b"Date" not in blank and b"D:2026" not in blank
    assert blank.count(b"(node00000002)") == 2 and b"(node00000001)" in blank
    epoch = pdf_update.epoch_date("1700000000")
    assert epoch == "D:20231114221320+00'00'" and pdf_update.epoch_date("soon") is None
    fixed = pdf_update.reproducible(pdf, epoch, pdf_update.pdf_date("2026-09-30"))
    assert len(fixed) == len(pdf)
    assert fixed.count(b"/CreationDate (D:20231114221320+00'00')") == 1
    assert fixed.count(b"/ModDate (D:20260930) ") == 1
    assert pdf_update.pdf_date("2026-09-30T08:15") == "D:202609300815Z"


SECTIONED = ("<html><head><style>@page {{ size: A5; margin: 20mm; @top-right {{ content: none }} }}"
             ".vr-running-title {{ display: none }} h2 {{ margin-top: 0 }}"
             "</style></head><body><p class=\"vr-running-title\">Report {n}</p>"
             "<h2>First part</h2><p>a</p><h2 style=\"break-before: page\">Second part</h2>"
             "<p style=\"break-before: page\">b</p><h2>Third part</h2>"
             "<p style=\"break-before: page\">c</p></body></html>")


@needs_chromium
def test_the_header_carries_the_running_title_and_section(browser) -> None:
    writer = export_chromium.ChromiumPDFWriter(browser)
    pdf = writer.write(SECTIONED.format(n=1))
    pages = pdf_pages_of(pdf)
    heads = [" ".join(p.split()[:4]) for p in pages]
    # The third page begins in the second part (its heading for the third is lower down).
    assert heads == ["Report 1 First part", "Report 1 Second part", "Report 1 Second part",
                     "Report 1 Third part"]
    # Drawn as an artifact after the page's own content, added as an incremental update.
    # A cover (a customer's or an internal one) keeps its page free of any header.
    for cover in ('<section class="vr-cover">', '<section class="vr-cover vr-cover--internal">'):
        page = SECTIONED.format(n=2).replace("<body>", f"<body>{cover}Cover</section>"
                                             '<div style="break-after: page"></div>')
        pages = pdf_pages_of(writer.write(page))
        assert pages[0].split() == ["Cover"], cover
        assert pages[1].split()[:4] == ["Report", "2", "First", "part"], cover
    reader = PdfReader(io.BytesIO(pdf))
    assert "/Prev" in reader.trailer
    assert b"/Artifact BMC q /VRSection Do Q EMC" in pdf
    assert reader.trailer["/Root"].get("/MarkInfo") is not None


@needs_chromium
def test_the_same_document_prints_to_the_same_bytes(browser, monkeypatch) -> None:
    """No date but the document's or SOURCE_DATE_EPOCH's, and structure ids that do not
    depend on what the browser printed before."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    writer = export_chromium.ChromiumPDFWriter(browser)
    first = writer.write(SECTIONED.format(n=1))
    writer.write(SECTIONED.format(n=2))
    assert writer.write(SECTIONED.format(n=1)) == first
    assert b"CreationDate" not in first and b"ModDate" not in first
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = writer.write(SECTIONED.format(n=1))
    assert dated != first and len(dated) == len(first)
    assert b"/CreationDate (D:20231114221320+00'00')" in dated
    assert writer.write(SECTIONED.format(n=1)) == dated
    # The document's own dates first, as WeasyPrint's PDF has them.
    own = SECTIONED.format(n=1).replace(
        "<head>", '<head><meta name="dcterms.created" content="2026-09-30">')
    info = PdfReader(io.BytesIO(writer.write(own))).metadata
    assert info["/CreationDate"] == "D:20260930"
    assert info["/ModDate"] == "D:20231114221320+00'00'"


def pdf_pages_of(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext, as the e2e tests read PDFs)."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return pdf_pages(Path(f.name))


@needs_chromium
def test_close_all_stops_every_browser_of_the_process(tmp_path: Path) -> None:
    """What a worker ending without exit handlers calls: no browser left, no profile."""
    browsers = [chromium.Browser(timeout=30) for _ in range(2)]
    for b in browsers:
        b.pdf(PAGE.format(1))
    pids = [b.pid for b in browsers]
    chromium.close_all()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert all(b.pid is None for b in browsers)


def test_two_threads_closing_one_browser_close_it_once(monkeypatch) -> None:
    """At exit a browser's own exit handler closes it while the thread that was opening its
    page closes it too. The second close waits for the first: the process is killed and
    reaped once, and neither close fails (the second once found no pid left to reap)."""
    import subprocess

    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)  # stands in for Chromium
    browser = chromium.Browser(path="/bin/false")
    browser.pid = proc.pid
    errors: list[BaseException] = []
    kills: list[int] = []
    threads: list[threading.Thread] = []
    killpg = os.killpg

    def close_in_another_thread() -> None:
        try:
            browser.close()
        except BaseException as exc:  # noqa: BLE001 - what the test is about
            errors.append(exc)

    def killpg_while_another_closes(pid: int, sig: int) -> None:
        kills.append(pid)
        if len(kills) == 1:  # the first close, between its check of the pid and its reaping
            other = threading.Thread(target=close_in_another_thread)
            other.start()
            other.join(0.5)  # it waits for this close to finish
            threads.append(other)
        killpg(pid, sig)

    monkeypatch.setattr(chromium.os, "killpg", killpg_while_another_closes)
    browser.close()
    threads[0].join(5)
    assert not threads[0].is_alive() and errors == []
    assert kills == [proc.pid] and browser.pid is None
    with pytest.raises(ChildProcessError):  # reaped by the close
        os.waitpid(proc.pid, os.WNOHANG)


class _Flaky:
    """A stand-in browser: raises each of `faults` in turn, then prints; records the time
    limit each print was given. A hang takes its whole limit on the clock `now` (which
    the writer reads instead of the machine's), an exit none."""

    timeout = 60.0

    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.limits: list[float] = []
        self.now = 1000.0

    @property
    def calls(self) -> int:
        return len(self.limits)

    def pdf(self, html: str, *, timeout: float, **options: object) -> tuple[bytes, list[str]]:
        self.limits.append(timeout)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, chromium.BrowserHung):
                self.now += timeout
            raise fault
        return b"%PDF-1.7 " + html.encode(), []


@pytest.fixture
def _writer(monkeypatch: pytest.MonkeyPatch):
    """A writer printing with a stand-in browser, on that browser's clock."""
    def make(flaky: _Flaky) -> export_chromium.ChromiumPDFWriter:
        monkeypatch.setattr(export_chromium, "time",
                            type("Clock", (), {"monotonic": staticmethod(lambda: flaky.now)}))
        return export_chromium.ChromiumPDFWriter(browser=flaky)  # type: ignore[arg-type]
    return make


@pytest.mark.parametrize("fault, second", [
    (chromium.BrowserExited("the browser closed its pipe"), 60),
    (chromium.BrowserHung("the browser did not answer in time"), 40),
])
def test_a_print_whose_browser_exited_or_hung_is_tried_once_more_with_a_new_one(
        _writer, fault: chromium.BrowserError, second: float) -> None:
    once = _Flaky(fault)
    assert _writer(once)._print("<p>x</p>") == (b"%PDF-1.7 <p>x</p>", [])
    # The first try has a third of the browser's limit; the second what is left of it.
    assert once.limits == [pytest.approx(20), pytest.approx(second)]
    given = _Flaky(fault)
    _writer(given)._print("<p>x</p>", timeout=9)  # --print-timeout 9
    assert given.limits == [pytest.approx(3), pytest.approx(second * 9 / 60)]
    # Twice in a row: the document fails, named by the browser's error and the tries.
    twice = _Flaky(fault, fault)
    with pytest.raises(type(fault)) as failed:
        _writer(twice)._print("<p>x</p>")
    assert twice.now - 1000 <= 60  # a lasting hang is not waited for past the limit
    assert str(failed.value) == (f"{fault} (tried 2 times, each with a new browser; limit 60 s, "
                                 "--print-timeout)")
    assert twice.calls == export_chromium.PRINT_RETRIES + 1


def test_a_print_the_browser_refused_is_not_tried_again(_writer) -> None:
    refused = _Flaky(chromium.BrowserError("Page.printToPDF: Printing failed"))
    with pytest.raises(chromium.BrowserError, match="^Page.printToPDF: Printing failed$"):
        _writer(refused)._print("<p>x</p>")
    assert refused.calls == 1


@needs_chromium
def test_a_writer_replaces_a_hung_browser_and_prints_the_document(browser) -> None:
    writer = export_chromium.ChromiumPDFWriter(browser)
    writer.write(PAGE.format(1))
    hung = browser.pid
    os.killpg(hung, signal.SIGSTOP)
    started = time.monotonic()
    pdf = writer.write(PAGE.format(2), timeout=12)  # the first try has 4 s
    assert 4 <= time.monotonic() - started < 12
    assert browser.pid != hung and pdf.startswith(b"%PDF")
    assert "DOCUMENT_2" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)  # killed, not left behind


def test_a_retried_print_is_reported_with_its_title_and_no_control_character(
        _writer, caplog: pytest.LogCaptureFixture) -> None:
    hung = _Flaky(chromium.BrowserHung("the browser did not answer in time"))
    with caplog.at_level("WARNING", logger=export_chromium.__name__):
        _writer(hung)._print("<html><head><title>Acme\x1b[2J &lt;b&gt;\nCorp</title></head>")
    assert caplog.messages == ["the browser did not answer in time ('Acme\\x1b[2J <b> Corp'); "
                               "printing it again with a new browser"]
