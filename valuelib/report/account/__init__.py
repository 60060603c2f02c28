"""Review figures turned into what a reader sees: cards, tables, captions and explanations.

The notebook calls these (``from valuelib.report import account as present``) so its cells
stay short; nothing here computes a figure (that is `valuelib.model` and `valuelib.metrics`),
it only formats and words them, in the language of the formatter's locale (`Formatter.tr`):
every sentence is one translatable template with named placeholders, never English fragments
joined together. One module per section of the document: `cover` (cover and executive
summary), `value`, `adoption`, `voice`, `commercial`, `plan`, `internal` (health and risks)
and `methodology`; `_shared` holds the labels and helpers they share.
"""

from __future__ import annotations

from valuelib.report.account._shared import (
    BAND_LABELS,
    COMPONENT_FORMULAS,
    COMPONENT_LABELS,
    EVENT_LABELS,
    GRADE_TEXT,
    NOTE_TITLES,
    SEVERITY_LABELS,
    STATUS_LABELS,
    TABLE_LABELS,
    band_label,
    component_label,
    event_labels,
    note,
    note_title,
)
from valuelib.report.account.adoption import (
    adoption_cards,
    peer_text,
)
from valuelib.report.account.commercial import (
    commercial_cards,
    expansion_signals,
    renewal_card,
)
from valuelib.report.account.cover import (
    as_of_text,
    cover_labels,
    headline_cards,
    headline_label,
    running_title,
)
from valuelib.report.account.internal import (
    RISK_TEXT,
    health_cards,
    health_table,
    missing_components_text,
    risk_table,
    risk_text,
)
from valuelib.report.account.methodology import (
    formulas,
    methodology_intro,
    not_provided_entry,
    provenance,
)
from valuelib.report.account.plan import (
    plan_badges,
    plan_caption,
    plan_table,
)
from valuelib.report.account.value import (
    GRADE_BADGES,
    driver_badges,
    driver_notes,
    driver_progress_frame,
    driver_table,
    value_cards,
    value_series_caption,
)
from valuelib.report.account.voice import (
    REVIEW_FORMULA,
    reviews_estimate_text,
    reviews_table,
    support_frame,
    support_table,
    trend_frame,
    verbatims,
    voice_cards,
)
from valuelib.report.record import HEADLINE_LABELS

__all__ = [
    "BAND_LABELS",
    "COMPONENT_FORMULAS",
    "COMPONENT_LABELS",
    "EVENT_LABELS",
    "GRADE_BADGES",
    "GRADE_TEXT",
    "HEADLINE_LABELS",
    "NOTE_TITLES",
    "REVIEW_FORMULA",
    "RISK_TEXT",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
    "TABLE_LABELS",
    "adoption_cards",
    "as_of_text",
    "band_label",
    "commercial_cards",
    "component_label",
    "cover_labels",
    "driver_badges",
    "driver_notes",
    "driver_progress_frame",
    "driver_table",
    "event_labels",
    "expansion_signals",
    "formulas",
    "headline_cards",
    "headline_label",
    "health_cards",
    "health_table",
    "methodology_intro",
    "missing_components_text",
    "not_provided_entry",
    "note",
    "note_title",
    "peer_text",
    "plan_badges",
    "plan_caption",
    "plan_table",
    "provenance",
    "renewal_card",
    "reviews_estimate_text",
    "reviews_table",
    "risk_table",
    "risk_text",
    "running_title",
    "support_frame",
    "support_table",
    "trend_frame",
    "value_cards",
    "value_series_caption",
    "verbatims",
    "voice_cards",
]
