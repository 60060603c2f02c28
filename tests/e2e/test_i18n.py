"""Every review in its account's language: catalogs, plural forms, locale fallbacks, and one
rendered demo account per language checked in its HTML and its PDF (text, formats, fonts)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import babel
import babel.dates
import babel.numbers
import pytest
from babel.messages.catalog import Catalog
from support import (
    ACCOUNTS,
    LANGUAGES,
    PORTFOLIO_ID,
    QuarterLayout,
    pdf_pages,
    read_html,
    squash,
    valuereview,
    visible_text,
)
from support.pdf import embedded_fonts

from valuelib.report import i18n, i18n_tools
from valuelib.report.fmt import Formatter

# ----------------------------------------------------------------------------- catalogs


def test_every_supported_language_has_a_compiled_catalog():
    assert set(i18n.SUPPORTED) == set(LANGUAGES)
    assert set(i18n.languages()) == set(LANGUAGES)


def test_every_catalog_translates_every_message():
    """The same check `make i18n` runs: extracted messages against every catalog."""
    problems = i18n_tools.check()
    assert not problems, "\n".join(map(str, problems))


def test_the_check_reports_a_missing_and_a_fuzzy_translation():
    template = Catalog(locale=None, domain=i18n.DOMAIN)
    template.add("Methodology")
    template.add("Adoption")
    template.add(("{count} account", "{count} accounts"))
    template.add("Page {page} of {pages}")
    catalog = Catalog(locale="ha", domain=i18n.DOMAIN)  # two plural forms
    catalog.add("Methodology", "Hanyoyin lissafi")
    catalog.add(("{count} account", "{count} accounts"), ("asusu {count}", "asusu {count}"))
    catalog.add("Page {page} of {pages}", "Shafi {page}", flags=["fuzzy"])
    problems = i18n_tools.check_catalog(template, catalog, "ha")
    assert [(p.language, p.msgid, p.what) for p in problems] == [
        ("ha", "Adoption", "no translation"),
        ("ha", "Page {page} of {pages}", "fuzzy translation"),
    ]
    catalog.get("Page {page} of {pages}").flags.discard("fuzzy")
    catalog.add("Adoption", "Amfani {oops}")
    catalog.get(("{count} account", "{count} accounts")).string = ("asusu {count}",)
    problems = i18n_tools.check_catalog(template, catalog, "ha")
    assert [p.msgid for p in problems] == ["Adoption", "{count} account", "Page {page} of {pages}"]
    assert "placeholders" in problems[0].what and "plural forms" in problems[1].what
    assert str(problems[0]).startswith("ha: placeholders")


def test_the_notebook_extractor_reads_code_cells_only():
    nb = (
        '{"cells": [{"cell_type": "markdown", "source": ["_(\\"not code\\")"]},'
        ' {"cell_type": "code", "source": ["x = 1\\n", "display(_(\\"Adoption\\"))"]},'
        ' {"cell_type": "code", "source": "tr.pgettext(\\"note\\", \\"Note\\")"}]}'
    )
    found = list(i18n_tools.extract_ipynb(io.BytesIO(nb.encode()), i18n_tools.keywords(), (), {}))
    assert [(line, msg) for line, _, msg, _ in found] == [(2, "Adoption"), (3, ("note", "Note"))]


def test_plural_forms_headers_follow_cldr():
    for lang in LANGUAGES[1:]:
        po = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        header = re.search(r'"Plural-Forms: (.*)\\n"', po.read_text(encoding="utf-8"))[1]
        assert i18n_tools.plural_forms_problem(lang, header) is None, (lang, header)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ngettext_with_one_and_two(lang):
    tr = i18n.translator(lang)
    one = tr.ngettext("{count} answer", "{count} answers", 1).format(count=1)
    two = tr.ngettext("{count} answer", "{count} answers", 2).format(count=2)
    expected = {
        "en": ("1 answer", "2 answers"),
        "ka": ("1 პასუხი", "2 პასუხი"),
        "hy": ("1 պատասխան", "2 պատասխան"),
        "ha": ("amsa 1", "amsoshi 2"),
        "ny": ("yankho 1", "mayankho 2"),
    }[lang]
    assert (one, two) == expected
    # A form where the languages' rules differ: Armenian counts 0 as "one", Hausa does not.
    zero = tr.ngettext("{count} account", "{count} accounts", 0).format(count=0)
    assert (
        zero
        == {
            "en": "0 accounts",
            "ka": "0 ანგარიში",
            "hy": "0 հաշիվ",
            "ha": "asusu 0",
            "ny": "maakaunti 0",
        }[lang]
    )
    assert (
        tr.ngettext("failed", "failed", 0)
        == {
            "en": "failed",
            "ka": "ვერ შესრულდა",
            "hy": "ձախողվել է",
            "ha": "sun kasa",
            "ny": "zalephera",
        }[lang]
    )


def test_pgettext_keeps_homonyms_apart():
    tr = i18n.translator("ka-GE")
    assert tr.pgettext("note", "Note") == "შენიშვნა"
    assert tr.gettext("Note") == "Note"  # no such message without a context
    assert tr.pgettext("health component", "value") == "ღირებულება"


# ----------------------------------------------------------------------------- locales


def test_resolution_falls_back_and_says_so_once(caplog):
    i18n.resolve.cache_clear()
    with caplog.at_level(logging.INFO, logger="valuelib.report.i18n"):
        r = i18n.resolve("ny-ZM")  # CLDR has Nyanja, not Nyanja in Zambia
        i18n.resolve("ny-ZM")
    assert (str(r.cldr), r.language) == ("ny", "ny")
    fallback = [m for m in caplog.messages if "CLDR has no data for ny-ZM" in m]
    assert len(fallback) == 1 and "ny-ZM → ny → en" in fallback[0]
    assert any("thin" in m and "date_formats" in m for m in caplog.messages)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="valuelib.report.i18n"):
        fr = i18n.resolve("fr-FR")
    assert (str(fr.cldr), fr.language) == ("fr_FR", "en")
    assert any("no catalog for language 'fr'" in m for m in caplog.messages)
    assert str(i18n.resolve("xx-YY").cldr) == "en"
    assert i18n.resolve("ha-NG").notes == ()  # full data, exact catalog: nothing to say
    assert i18n.translator("ka_ge").html_lang == "ka-GE"
    assert i18n.translator("fr-FR").html_lang == "en"


def test_formatter_speaks_the_locale():
    f = Formatter("hy-AM", "AMD")
    assert f.missing == "բավարար տվյալներ չկան"
    assert f.quarter("2026Q3") == "2026 թ. 3-րդ եռմս."
    assert Formatter("en-US", "USD").quarter("2026Q3") == "2026 Q3"
    assert Formatter("ka-GE", "GEL").signed_points(4.26, 1) == "+4,3 პ.პ."
    ka = babel.Locale.parse("ka_GE")
    assert (
        Formatter("ka-GE", "GEL").money(1234567)
        == babel.numbers.format_currency(
            1234567,
            "GEL",
            format=ka.currency_formats["standard"].pattern.replace("0.00", "0"),
            locale=ka,
            currency_digits=False,
        )
        == "1\u00a0234\u00a0567\u00a0₾"
    )
    assert Formatter("en-US", "USD").signed_pct(-12.5) == "−12.5%"


def test_cli_refuses_an_unknown_locale():
    run = valuereview("render", "--locale", "klingon", "--accounts", "ACC-0001")
    assert run.code == 2 and "--locale 'klingon'" in run.stderr


def test_params_files_check_their_locale(tmp_path):
    from valuelib.batch import params

    (tmp_path / "defaults.yaml").write_text("locale: not-a-tag\n", encoding="utf-8")
    with pytest.raises(params.ParamsError, match=r"defaults.yaml: locale 'not-a-tag'"):
        params.load(tmp_path, {"locale"})
    (tmp_path / "defaults.yaml").write_text("locale: hy-AM\n", encoding="utf-8")
    assert params.load(tmp_path, {"locale"})[0] == {"locale": "hy-AM"}


def test_index_page_in_the_batch_language():
    from valuelib.batch.index_page import render_index

    page = render_index(
        quarter="2026Q3",
        generated_at="2026-10-02",
        portfolio=None,
        locale="hy-AM",
        entries=[
            {
                "account_id": "A-1",
                "status": "failed",
                "keeps_previous": True,
                "headline": {"Value delivered this quarter": "1 234 ֏"},
            }
        ],
    )
    assert '<html lang="hy-AM">' in page
    for text in (
        "Արժեքի ակնարկներ՝ 2026Q3",
        "Այս եռամսյակում տրամադրված արժեք",
        "Ձախողվել է (նախորդ զեկույցը պահպանված է)",
        "1 հաշիվ",
        "Ձախողված նոթբուք",
    ):
        assert text in page, text


# ----------------------------------------------------------------------------- documents


def _expected(metrics: dict) -> tuple[str, str, str]:
    """A percent and an amount of this account, formatted by Babel directly, and its locale."""
    loc = babel.Locale.parse(metrics["locale"], sep="-")
    figs = metrics["figures"]
    pct = next(
        figs[k]["value"]
        for k in ("utilisation", "realized_vs_business_case")
        if figs[k]["value"] is not None
    )
    number = babel.numbers.format_percent(pct / 100, format="#,##0.0%", locale=loc)
    pattern = loc.currency_formats["standard"].pattern.replace("0.00", "0")
    amount = babel.numbers.format_currency(
        round(figs["value_to_date"]["value"]),
        metrics["currency"],
        format=pattern,
        locale=loc,
        currency_digits=False,
    )
    return number, amount, metrics["locale"]


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_review_is_in_its_language_in_html_and_pdf(rendered, lang):
    r = rendered
    aid = ACCOUNTS[lang]
    metrics = r.metrics(aid)
    assert metrics["language"] == lang and metrics["locale"].split("-")[0] == lang
    tr = i18n.translator(metrics["locale"])
    doc = read_html(r, aid)
    html = visible_text(doc)
    pdf = squash(" ".join(pdf_pages(r.file(aid, "value-review.pdf"))))
    assert f'<html lang="{metrics["locale"]}">' in doc
    number, amount, locale = _expected(metrics)
    as_of = babel.dates.format_date(
        dt.date.fromisoformat(metrics["as_of"]),
        "medium",
        locale=babel.Locale.parse(locale, sep="-"),
    )
    for heading in ("Executive summary", "Methodology", "Voice of the customer"):
        text = tr.gettext(heading)
        assert text != heading or lang == "en"
        assert text in html and text in pdf, (lang, text)
    for shown in (number, amount, as_of):
        assert squash(shown) in html, (lang, shown)
        assert squash(shown) in pdf, (lang, shown)
    footer = tr.gettext("Page {page} of {pages}").format(
        page=2, pages=len(pdf_pages(r.file(aid, "value-review.pdf")))
    )
    assert squash(footer) in pdf, (lang, footer)
    if lang != "en":  # no English heading or label slipped through
        for english in (
            "Executive summary",
            "Methodology",
            "Prepared for",
            "Page 2 of",
            "not enough data",
            "Seat utilisation",
            "Quarterly value review",
        ):
            assert english not in html and english not in pdf, (lang, english)


# ----------------------------------------------------------------------------- fonts

def _drawn_characters(pdf_path: Path) -> tuple[set[str], list[str]]:
    """Characters some embedded font has a real glyph for, and fonts that are not embedded."""
    covered: set[str] = set()
    problems: list[str] = []
    for font in embedded_fonts(pdf_path):
        if font.program is None:
            problems.append(f"{font.name} is not embedded")
            continue
        assert font.cid_to_gid == "/Identity"
        order = font.program.getGlyphOrder()
        glyf = font.program["glyf"]
        for code, chars in font.to_unicode.items():
            if code == 0 or code >= len(order):
                continue  # .notdef or no glyph: a box, never counted as drawn
            if glyf[order[code]].numberOfContours == 0 and chars.strip():
                continue  # an empty glyph draws nothing
            covered.update(chars)
    return covered, problems


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("pdffonts"), reason="needs poppler-utils")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_pdf_character_has_a_glyph_in_an_embedded_font(rendered, lang):
    pdf_path = rendered.file(ACCOUNTS[lang], "value-review.pdf")
    listing = subprocess.run(
        ["pdffonts", str(pdf_path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert listing and all(line.split()[-5] == "yes" for line in listing), listing
    covered, problems = _drawn_characters(pdf_path)
    assert not problems
    text = "".join(pdf_pages(pdf_path))
    missing = sorted({c for c in text if not c.isspace() and c not in covered})
    assert not missing, f"{lang}: drawn without a glyph: {missing}"
    script = {"ka": "\u10d0-\u10ff", "hy": "\u0531-\u058f", "ha": "ɓɗƙƴƁƊƘƳ", "ny": "ŵŴ"}
    if lang in script:  # the script's own letters really are in the document
        assert re.search(f"[{script[lang]}]", text), lang


@pytest.mark.slow
def test_locale_option_sets_every_document_and_the_index(tmp_path, demo_db):
    run = valuereview(
        "render",
        "--db",
        str(demo_db),
        "--out",
        str(tmp_path),
        "--accounts",
        "ACC-0001",
        "--locale",
        "ka-GE",
        "--formats",
        "html",
    )
    assert run.code == 0, run.stderr
    q = QuarterLayout(tmp_path, next(p for p in tmp_path.iterdir() if p.is_dir()).name)
    review = q.path("customer", "ACC-0001", "value-review.html").read_text(encoding="utf-8")
    index = q.index("customer").read_text(encoding="utf-8")
    portfolio = q.path("customer", PORTFOLIO_ID, "portfolio-review.html").read_text("utf-8")
    for doc, heading in (
        (review, "მოკლე შეჯამება"),
        (index, "ანგარიშები"),
        (portfolio, "პორტფელის მიმოხილვა"),
    ):
        assert '<html lang="ka-GE">' in doc and heading in visible_text(doc)
    assert "ამ კვარტალში მიწოდებული ღირებულება" in index  # headline label, translated
