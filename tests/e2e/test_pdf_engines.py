"""`valuereview render --pdf-engine chromium` against WeasyPrint, on demo accounts: the same
HTML byte for byte, and PDFs with the same pages, text (the page header's running title and
section too) and bundled fonts, a tagged PDF, the engine in the manifest; `auto`, the default,
is chromium here."""

from __future__ import annotations

import io
import os
import re
from collections import Counter

import pytest
from pypdf import PdfReader
from support import ACCOUNTS, Rendered, pdf_pages, valuereview
from support.pdf import embedded_fonts

from valuelib.render import chromium

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(chromium.executable() is None,
                                 reason="chromium is not installed")]

#: English and Georgian (Noto Sans Georgian fills DejaVu's gaps there).
CASES = [ACCOUNTS["en"], ACCOUNTS["ka"]]


@pytest.fixture(scope="module")
def renders(tmp_path_factory, demo_db, rendered) -> dict[str, Rendered]:
    """CASES printed by WeasyPrint here, and by Chromium in the session's shared render
    (`rendered`: the default engine, auto, is chromium where one is installed; CASES are among
    its accounts)."""
    out = tmp_path_factory.mktemp("out-weasyprint")
    run = valuereview("render", "--db", str(demo_db), "--out", str(out), "--no-portfolio",
                      "--accounts", ",".join(CASES), "--pdf-engine", "weasyprint")
    assert run.code == 0, f"weasyprint: {run.stdout}\n{run.stderr}"
    quarter = next(p for p in out.iterdir() if p.is_dir())
    assert set(CASES) <= set(rendered.manifest()["accounts"])
    return {"weasyprint": Rendered(out, quarter, run, demo_db), "chromium": rendered}


def _header(page: str) -> list[str]:
    """A page's first two lines (its header: running title, then section, either of which may
    wrap; else the header and the first line under it), spaces collapsed."""
    lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
    return lines[:2]


@pytest.mark.parametrize("account", CASES)
def test_chromium_prints_what_weasyprint_prints(renders, account) -> None:
    weasy, chrome = renders["weasyprint"], renders["chromium"]
    html = weasy.file(account, "value-review.html").read_bytes()
    assert chrome.file(account, "value-review.html").read_bytes() == html
    paths = {e: r.file(account, "value-review.pdf") for e, r in renders.items()}
    w_pages, c_pages = pdf_pages(paths["weasyprint"]), pdf_pages(paths["chromium"])
    assert len(c_pages) == len(w_pages)
    sections = set(re.findall(r'<h2 class="vr-section"[^>]*>([^<]*)</h2>', html.decode()))
    for number, (w, c) in enumerate(zip(w_pages, c_pages, strict=True)):
        # The same header, section included, laid out alike (the title wraps where it does).
        assert _header(c) == _header(w), number
        if number:  # every page but the cover names its section, whole
            words = " ".join(_header(c)).split()
            assert any(all(w in words for w in s.split()) for s in sections), number
        # The same characters (pdftotext orders a table's wrapped cells by their lines, which
        # the engines break a little differently).
        assert Counter("".join(c.split())) == Counter("".join(w.split())), number
    fonts = {e: embedded_fonts(p) for e, p in paths.items()}
    # The same bundled faces, all embedded (WeasyPrint names them VR-DejaVu-Sans-Bold,
    # Chromium by their PostScript names, VRDejaVuSans-Bold, VRNotoSans-Regular).
    names = {e: {f.name.split("+", 1)[-1].replace("-", "").removesuffix("Regular") for f in fs}
             for e, fs in fonts.items()}
    assert names["chromium"] == names["weasyprint"]
    assert all(n.startswith("VR") for n in names["chromium"]), names["chromium"]
    assert all(f.program is not None for f in fonts["chromium"])


def test_the_manifest_names_the_engine(renders, rendered) -> None:
    for engine, run in renders.items():
        assert run.manifest()["last_run"]["pdf_engine"] == engine
    # The shared render ran with the default engine, auto: chromium, since one is installed.
    # (An explicit --pdf-engine chromium is recorded too: tests/e2e/test_browser_faults.py.)
    assert rendered.manifest()["last_run"]["pdf_engine"] == "chromium"


def test_the_headless_shell_prints_the_desktop_browsers_pages(rendered) -> None:
    """The engine starts Chromium's headless shell where one is installed: the same pages as
    the desktop browser draws, stream for stream (only the PDF's Creator names the browser)."""
    shell, desktop = chromium.find(chromium.SHELL_NAMES), chromium.find(chromium.DESKTOP_NAMES)
    if not (shell and desktop):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-headless-shell are required in CI (.ci/run)")
        pytest.skip("needs both chromium and chromium-headless-shell")
    assert chromium.executable() == shell
    html = rendered.file(CASES[1], "value-review.html").read_text(encoding="utf-8")
    printed = {}
    for name, path in (("shell", shell), ("desktop", desktop)):
        browser = chromium.Browser(path, timeout=60, env=chromium.fonts_env())
        try:
            printed[name] = PdfReader(io.BytesIO(browser.pdf(html)[0]))
        finally:
            browser.close()
    pages = {n: [p.get_contents().get_data() for p in r.pages] for n, r in printed.items()}
    assert len(pages["shell"]) >= 6
    assert pages["shell"] == pages["desktop"]
    assert printed["shell"].metadata["/Creator"] == "Chromium"
    assert "HeadlessChrome" in printed["desktop"].metadata["/Creator"]
