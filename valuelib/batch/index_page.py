"""The batch's ``output/<quarter>/index.html``: every account, its status and links.

A plain, self-contained page in the reviews' house style (same inlined CSS, no
JavaScript), so CS operations can open it from a CI artifact or a file share.
Everything shown comes through Jinja2 with autoescaping on: account names are data. The
page is in one language (the batch's ``--locale``, English by default): its words go through
that language's translator, and the headline figures' labels, which the batch records in
English, are translated as messages (they are ``valuelib.report.account.HEADLINE_LABELS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from valuelib.batch.layout import PORTFOLIO_ID
from valuelib.render.templates import TEMPLATE_DIR, TEMPLATE_NAME
from valuelib.report import fonts, i18n
from valuelib.report.i18n import C_

__all__ = ["STATUSES", "render_index"]

INDEX_TEMPLATE = "batch_index.html.j2"
#: ``href(account_id, file_name)``: a link to one of an account's files.
Href = Callable[[str, str], str]

#: Accepted entry statuses → (CSS class suffix, label shown).
STATUSES = {
    "rendered": ("rendered", C_("batch status", "Rendered")),
    "failed": ("failed", C_("batch status", "Failed")),
    "skipped-unchanged": ("unchanged", C_("batch status", "Unchanged")),
}
_STATUS_ALIASES = {
    "skipped_unchanged": "skipped-unchanged",
    "unchanged": "skipped-unchanged",
    "skipped": "skipped-unchanged",
}

_FORMAT_LABELS = {"html": "HTML", "pdf": "PDF"}
_DEFAULT_FORMATS = ("html", "pdf")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR / TEMPLATE_NAME)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )


def _status(value: str, where: str) -> str:
    status = _STATUS_ALIASES.get(value, value)
    if status not in STATUSES:
        raise ValueError(f"{where}: status must be one of {', '.join(STATUSES)}; got {value!r}")
    return status


def _first_line(error: Any) -> str:
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _default_href(account_id: str, name: str) -> str:
    """``<account_id>/<name>``, or ``<name>`` for the portfolio review."""
    return name if account_id == PORTFOLIO_ID else f"{quote(account_id, safe='')}/{name}"


def _links(href: Href, account_id: str, stem: str, formats: Iterable[str], notebook: bool,
           tr: i18n.Translator) -> list[dict[str, str]]:
    links = [
        {"href": href(account_id, f"{stem}.{fmt}"),
         "label": _FORMAT_LABELS.get(fmt, fmt.upper())}
        for fmt in formats
    ]
    if notebook:
        # The batch keeps a failed run's executed notebook beside the last good outputs.
        links.append({"href": href(account_id, f"{stem}.error.ipynb"),
                      "label": tr.gettext("Failed notebook")})
    return links


def _when(stamp: Any) -> Markup:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM UTC`` (the batch records UTC), on one line.

    At a phone's width the raw ISO text broke at its hyphens.
    """
    text = str(stamp)
    text = f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text
    return Markup('<span class="vr-nowrap">{}</span>').format(text)


def _headline(headline: Mapping[str, Any] | None, tr: i18n.Translator) -> dict[str, Any]:
    """Headline figures under their labels in the page's language."""
    return {tr.gettext(str(label)): value for label, value in dict(headline or {}).items()}


def _row(entry: Mapping[str, Any], i: int, tr: i18n.Translator, href: Href) -> dict[str, Any]:
    try:
        account_id = str(entry["account_id"])
    except KeyError as exc:
        raise ValueError(f"index entry {i} has no 'account_id': {dict(entry)!r}") from exc
    status = _status(str(entry.get("status", "")), f"index entry {i} ({account_id})")
    failed = status == "failed"
    formats = list(entry.get("formats") or _DEFAULT_FORMATS)
    # A failed account links to its executed notebook (the failing cell is in it) and,
    # when the batch kept one, to its previous good report.
    keep = not failed or bool(entry.get("keeps_previous", False))
    css_class, label = STATUSES[status]
    label = tr.pgettext("batch status", label)
    if failed and keep:
        label = tr.gettext("{status} (previous report kept)").format(status=label)
    return {
        "account_id": account_id,
        "name": entry.get("name") or account_id,
        "segment": entry.get("segment") or "",
        "csm": entry.get("csm") or "",
        "status_class": css_class,
        "status_label": label,
        "error": _first_line(entry.get("error")) if failed else "",
        # Which run produced the files listed (the manifest accumulates across runs).
        "produced": Markup(escape(tr.gettext("rendered {when}"))).format(
            when=_when(entry["rendered_at"]))
        if entry.get("rendered_at") else "",
        "gone": bool(entry.get("not_in_warehouse")),
        "headline": _headline(entry.get("headline"), tr),
        # Raw figures for sorting (a figure's number, in the account's own currency); ""
        # where the review had none (its text says "not enough data", shown muted).
        "sort": {tr.gettext(str(label)): "" if value is None else repr(float(value))
                 for label, value in dict(entry.get("headline_values") or {}).items()},
        "links": _links(href, account_id, "value-review", formats if keep else (),
                        notebook=failed, tr=tr),
    }


def render_index(
    *,
    quarter: str,
    generated_at: str,
    entries: list[dict[str, Any]],
    portfolio: dict[str, Any] | None,
    locale: str | None = None,
    href: Href | None = None,
) -> str:
    """The index page HTML for one quarter's batch.

    Each entry: ``account_id``, ``status`` (``rendered``, ``failed`` or
    ``skipped-unchanged``), and optionally ``name``, ``segment``, ``csm``, ``error``
    (its first line is shown for failed accounts), ``headline`` (formatted label →
    value, the same labels for every account), ``formats`` (default html and pdf) and
    ``keeps_previous`` (a failed account whose earlier report is still there).
    ``portfolio`` (or None): optional ``status``, ``error``, ``formats``, ``headline``.
    ``href(account_id, file_name)`` gives each link (``valuelib.batch.layout``; by default
    ``<account_id>/value-review.html`` and so on). ``locale`` (a BCP 47 tag, default
    English) is the page's language.
    """
    tr = i18n.translator(locale or i18n.DEFAULT_TAG)
    href = href or _default_href
    rows = [_row(entry, i, tr, href) for i, entry in enumerate(entries)]
    labels: list[str] = []
    for row in rows:
        labels.extend(label for label in row["headline"] if label not in labels)
    counts = {"rendered": 0, "failed": 0, "unchanged": 0}
    for row in rows:
        counts[row["status_class"]] += 1

    port = None
    if portfolio is not None:
        p_status = _status(str(portfolio.get("status", "rendered")), "portfolio")
        p_failed = p_status == "failed"
        port = {
            "status": p_status,
            "error": _first_line(portfolio.get("error")) if p_failed else "",
            "headline": _headline(portfolio.get("headline"), tr),
            "links": _links(
                href,
                PORTFOLIO_ID,
                "portfolio-review",
                () if p_failed else (portfolio.get("formats") or _DEFAULT_FORMATS),
                notebook=p_failed,
                tr=tr,
            ),
        }

    template = _environment().get_template(INDEX_TEMPLATE)
    statuses = {row["status_class"]: row["status_label"] for row in rows}
    return fonts.with_web_fonts(template.render(
        segments=sorted({row["segment"] for row in rows if row["segment"]}),
        csms=sorted({row["csm"] for row in rows if row["csm"]}),
        statuses=sorted(statuses.items()),
        quarter=quarter,
        generated_at=_when(generated_at),
        rows=rows,
        labels=labels,
        counts=counts,
        total=len(rows),
        portfolio=port,
        lang=tr.html_lang,
        _=tr.gettext,
        ngettext=tr.ngettext,
        pgettext=tr.pgettext,
    ))
