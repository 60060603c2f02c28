"""The filler faces an HTML document carries for the glyphs a reader's fonts may lack."""

from __future__ import annotations

import base64
import re

from valuelib.render.templates import STATIC_DIR
from valuelib.report import fonts

_RULE = re.compile(r'@font-face \{ font-family: "([^"]+)"; src: url\(data:font/ttf;base64,'
                   r'([A-Za-z0-9+/=]+)\) format\("truetype"\); font-weight: (\d+); '
                   r"font-style: normal; unicode-range: ([^;]+); \}")


def _faces(css: str) -> list[tuple[str, bytes, int, str]]:
    return [(m[1], base64.b64decode(m[2]), int(m[3]), m[4]) for m in _RULE.finditer(css)]


def test_a_dram_brings_only_the_armenian_filler_regular_and_bold():
    faces = _faces(fonts.web_stylesheet("Ընդամենը 14 434 000 ֏"))
    assert [(family, weight) for family, _, weight, _ in faces] == [
        ("VR Noto Sans Armenian", 400), ("VR Noto Sans Armenian", 700)]
    for family, data, weight, ranges in faces:
        face = next(f for f in fonts.FACES
                    if f.family == family and f.weight == weight and f.style == "normal")
        assert data == (fonts.FONTS_DIR / face.file).read_bytes()
        # Only what DejaVu Sans lacks: the Armenian letters stay in the reader's fonts.
        assert "58F" in ranges and "531" not in ranges and "561" not in ranges


def test_the_lari_comes_from_the_first_filler_and_georgian_capitals_from_theirs():
    assert {f for f, *_ in _faces(fonts.web_stylesheet("₾ 1 200"))} == {"VR Noto Sans"}
    assert {f for f, *_ in _faces(fonts.web_stylesheet("ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ"))} == {"VR Noto Sans Georgian"}
    assert len(_faces(fonts.web_stylesheet("₾ ֏ Ა"))) == 6


def test_text_dejavu_draws_needs_no_faces():
    assert fonts.web_stylesheet("Value €1,234 · საქართველო · Հայաստան · ƙarfi ŵ") == ""
    html = "<html><head><title>t</title></head><body>Value $1</body></html>"
    assert fonts.with_web_fonts(html) is html


def test_the_faces_go_in_the_head_and_come_out_again():
    html = "<!DOCTYPE html><html><head><title>֏</title></HEAD><body><p>5 000 ֏</p></body></html>"
    carried = fonts.with_web_fonts(html)
    head, body = carried.split("</HEAD>")
    assert head.count(f'<style id="{fonts.WEB_FONTS_ID}">') == 1 and "@font-face" not in body
    assert fonts.without_web_fonts(carried) == html


def test_the_house_css_stacks_name_every_filler():
    css = (STATIC_DIR / "review.css").read_text(encoding="utf-8")
    for prop in ("--vr-font", "--vr-font-serif", "--vr-font-mono"):
        stack = re.search(rf"{prop}:([^;]+);", css)[1]
        names = [name.strip().strip('"') for name in stack.split(",")]
        fillers = [name for name in names if name.startswith(fonts.PREFIX)]
        # First (limited to what they fill), so a browser waits for them: see review.css.
        assert names[:len(fillers)] == fillers == list(fonts.SANS[1:]), prop
