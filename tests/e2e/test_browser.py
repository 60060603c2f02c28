"""The rendered HTML as a reader's browser sees it: Debian's Chromium driven by Playwright.

Every request the page makes is recorded (fonts, scripts, images, stylesheets, on any host):
a self-contained review makes exactly one, for itself. At phone width the page must not
scroll sideways (wide tables scroll inside their own box).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking"])
        yield b
        b.close()


def _open(browser, path: Path, width: int, shot: Path | None = None):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    facts = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, width: window.innerWidth,"
        " svgs: document.querySelectorAll('svg').length,"
        " text: document.body.innerText})")
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.close()
    return requests, facts


@pytest.mark.parametrize("width", [390, 1280])
def test_review_loads_nothing_but_itself_and_fits_the_screen(rendered, browser, tmp_path, width):
    for aid in ("ACC-0001", "ACC-0008"):
        path = rendered.file(aid, "value-review.html")
        shot = tmp_path / f"{aid}-{width}.png"
        requests, facts = _open(browser, path, width, shot)
        assert requests == [path.as_uri()], f"{aid}: the page requested more: {requests}"
        assert facts["scroll"] <= facts["width"], f"{aid} scrolls sideways at {width}px"
        assert facts["svgs"] >= 2, "charts are drawn"
        metrics = rendered.metrics(aid)
        assert metrics["name"] in facts["text"]
        assert shot.stat().st_size > 20_000


def test_portfolio_and_index_load_nothing_else(rendered, browser):
    for path in (rendered.file("portfolio", "portfolio-review.html"), rendered.index):
        name = path.name
        requests, facts = _open(browser, path, 1280)
        assert requests == [path.as_uri()], f"{name} requested more: {requests}"
    _, facts = _open(browser, rendered.index, 390)
    assert facts["scroll"] <= facts["width"], "the index fits a phone"


def test_index_times_stay_on_one_line_on_a_phone(rendered, browser):
    """The header's and each row's time ("2026-12-01 05:03 UTC") never break at a hyphen,
    even on the narrowest phone screen (320 px)."""
    page = browser.new_page(viewport={"width": 320, "height": 900})
    page.goto(rendered.index.as_uri(), wait_until="load")
    header = page.inner_text(".vr-index-header p")
    lines = page.evaluate(
        "() => Array.from(document.querySelectorAll('.vr-nowrap'),"
        " e => [e.textContent, e.getClientRects().length])")
    page.close()
    assert re.search(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC$", header), header
    assert len(lines) > 1 and lines[0][0] in header
    assert all(n == 1 for _, n in lines), [t for t, n in lines if n != 1]


def test_index_filters_and_sorts_in_the_browser(rendered, browser):
    """The index's inline script: filter by segment and text, sort a figure by its raw value
    (missing values last), and the table fits a laptop screen without sideways scrolling."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(rendered.index.as_uri(), wait_until="load")
    assert requests == [rendered.index.as_uri()], requests

    def visible() -> list[str]:
        return page.evaluate("() => [...document.querySelectorAll('#vr-accounts tbody tr')]"
                             ".filter(r => !r.hidden).map(r => r.id.slice(8))")

    assert visible() == sorted(visible()) and len(visible()) == len(rendered.manifest()["accounts"])
    wrap = page.evaluate("() => { const w = document.querySelector('.vr-table-wrap');"
                         " return [w.scrollWidth, w.clientWidth]; }")
    assert wrap[0] <= wrap[1], f"the accounts table overflows its box: {wrap}"

    segments = {aid: e["segment"] for aid, e in rendered.manifest()["accounts"].items()}
    segment = sorted(set(segments.values()))[0]
    page.select_option("select[data-filter=segment]", segment)
    assert visible() == sorted(a for a, s in segments.items() if s == segment)
    assert page.inner_text(".vr-filter-count") == f"{len(visible())} of {len(segments)}"
    page.select_option("select[data-filter=segment]", "")
    first = rendered.metrics(sorted(segments)[0])["name"]
    page.fill("input[data-filter=text]", first.lower()[:12])
    assert sorted(segments)[0] in visible()
    page.fill("input[data-filter=text]", "")

    label = rendered.metrics(sorted(segments)[0])["figures"]["utilisation"]["label"]
    button = page.locator("#vr-accounts thead button", has_text=label)
    button.click()
    values = {aid: rendered.metrics(aid)["figures"]["utilisation"]["value"] for aid in segments}
    known = sorted((v, a) for a, v in values.items() if v is not None)
    missing = sorted(a for a, v in values.items() if v is None)
    assert visible()[:len(known)] == [a for _, a in known]
    assert sorted(visible()[len(known):]) == missing
    button.click()
    assert visible()[:len(known)] == [a for _, a in reversed(known)]
    assert page.get_attribute(f"th:has(button:text-is('{label}'))", "aria-sort") == "descending"
    page.close()


def _fonts_drawing(page, char: str, limit: int = 40) -> dict[str, set[str]]:
    """For each kind of element whose own text has `char` (up to `limit` of them), the font
    families Chromium drew its text with (DevTools' ``CSS.getPlatformFontsForNode``)."""
    tags = page.evaluate(
        """([ch, limit]) => { const found = [];
             const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             while (walk.nextNode() && found.length < limit) {
               const el = walk.currentNode.parentElement;
               if (walk.currentNode.data.includes(ch) && !el.hasAttribute('data-probe')) {
                 el.setAttribute('data-probe', found.length); found.push(el.tagName); } }
             document.body.getBoundingClientRect();  // lay out with the fonts loaded since
             return found; }""", [char, limit])
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    drawn: dict[str, set[str]] = {}
    for node in cdp.send("DOM.querySelectorAll", {"nodeId": root,
                                                  "selector": "[data-probe]"})["nodeIds"]:
        probe = cdp.send("DOM.getAttributes", {"nodeId": node})["attributes"]
        tag = tags[int(probe[probe.index("data-probe") + 1])].lower()
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        drawn.setdefault(tag, set()).update(f["familyName"] for f in fonts)
    cdp.detach()
    return drawn


def test_the_dram_is_drawn_with_the_face_the_document_carries(rendered, browser):
    """An Armenian review gives amounts in dram (֏), which no font of a DejaVu-only machine
    draws: the review and the index carry the filler face, and Chromium draws the sign with
    it in the text and in the charts, the letters around it in the machine's own font."""
    from support import ACCOUNTS

    for path in (rendered.file(ACCOUNTS["hy"], "value-review.html"), rendered.index):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.as_uri(), wait_until="load")
        page.evaluate("document.fonts.ready")
        drawn = _fonts_drawing(page, "֏")
        page.close()
        assert drawn, f"{path.name}: no text with the dram"
        for tag, families in drawn.items():
            assert "VR Noto Sans Armenian" in families, (path.name, tag, families)
        if path.name == "value-review.html":
            assert "text" in drawn, "a chart's text has the dram too"
            assert any("DejaVu" in f for families in drawn.values() for f in families)


@pytest.mark.parametrize("width", [390, 800, 1280])
def test_no_headline_figure_breaks_on_screen(rendered, browser, width):
    """A card's figure ("27 605 700 ֏", "MWK 662,120,000") is never split over two lines at
    any screen width: each card is as wide as its row's widest figure, or the whole row. Only
    a figure in words ("not enough data") may wrap, at its spaces."""
    from support import ACCOUNTS

    for aid in sorted(set(ACCOUNTS.values())):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(rendered.file(aid, "value-review.html").as_uri(), wait_until="load")
        page.evaluate("document.fonts.ready")
        split = page.evaluate(
            """() => [...document.querySelectorAll('.vr-kpi__value')].filter(dd => {
                 const text = dd.textContent.trim();
                 if (/\\s/.test(text.replace(/\\u00a0/g, ''))) return false;  // words may wrap
                 const range = document.createRange(); range.selectNodeContents(dd);
                 const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                 return tops.size > 1; }).map(dd => dd.textContent.trim())""")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        page.close()
        assert split == [], f"{aid} at {width}px splits {split}"
        assert scroll <= width, f"{aid} scrolls sideways at {width}px"
