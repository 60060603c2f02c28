"""The document facts for the nbconvert template: the page footer's CSS, escaped, in order."""

from __future__ import annotations

import datetime as dt

from valuelib.report import document, i18n


def test_page_counter_css_is_escaped_and_in_order():
    assert document.page_counter_css(i18n.translator("en")) == (
        '"Page " counter(page) " of " counter(pages)'
    )
    assert document.page_counter_css(i18n.translator("ka")) == (
        '"გვერდი " counter(page) " / " counter(pages)'
    )
    assert document.css_string('a"<\\') == '"a\\22 \\3c \\5c "'


def test_document_facts_carry_language_title_footer_and_date():
    facts = document.document_facts(i18n.translator("en"), "Acme · Q1", dt.date(2026, 3, 31))
    assert facts == {"lang": "en", "title": "Acme · Q1",
                     "page_counter": '"Page " counter(page) " of " counter(pages)',
                     "date": "2026-03-31"}
