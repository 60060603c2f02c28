"""The rendered HTML as a reader's browser sees it: Debian's Chromium driven by Playwright.

Every request the page makes is recorded (fonts, scripts, images, stylesheets, on any host):
a self-contained review makes exactly one, for itself. At phone width the page must not
scroll sideways (wide tables scroll inside their own box).
"""

from __future__ import annotations

import os
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
