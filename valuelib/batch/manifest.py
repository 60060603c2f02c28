"""The quarter's manifests: one account's (or the portfolio's) outcome in a run, the entries
kept from earlier runs, and the manifest file written at the end of each run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import valuelib
from valuelib.batch.layout import PORTFOLIO_ID, QuarterLayout
from valuelib.data.files import write_atomic


@dataclass
class Outcome:
    """One account's (or the portfolio's) result in this run."""

    account_id: str
    status: str  # rendered | unchanged | failed
    seconds: float = 0.0
    error: str | None = None
    cell: int | None = None
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """What a run did: every outcome, what it skipped and whether it was stopped."""

    quarter: str
    out_dir: Path
    outcomes: list[Outcome]
    seconds: float
    skipped_inactive: dict[str, str]
    interrupted: bool = False
    #: Accounts left unfinished by an interrupt (their previous outputs are untouched).
    pending: list[str] = field(default_factory=list)
    #: Their previous manifest entries, kept in the manifest and the index.
    kept: list[Outcome] = field(default_factory=list)
    layout: QuarterLayout | None = None
    #: The signal that stopped the run (SIGINT, SIGTERM), when `interrupted`.
    signum: int | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def load(path: Path) -> dict[str, Any]:
    """A manifest as written, or an empty one if there is none yet (or it is unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


#: The figures of a review that the index shows, by their keys in metrics.json.
INDEX_FIGURES = ("value_quarter", "roi_multiple", "utilisation", "nps", "arr", "tenure")


def headline(metrics_json: dict[str, Any] | None, field: str = "display") -> dict[str, Any]:
    """The index's figures of one review, label → `field` (as shown, or the raw value)."""
    if not metrics_json:
        return {}
    figs = metrics_json.get("figures", {})
    return {figs[k]["label"]: figs[k].get(field) for k in INDEX_FIGURES if k in figs}


def accumulate(old: dict[str, dict[str, Any]], result: Result,
               known: frozenset[str]) -> dict[str, dict[str, Any]]:
    """The quarter's manifest entries after this run: this run's accounts updated, every
    other account's entry kept as it was, marked when its account left the warehouse."""
    accounts = {aid: dict(e) for aid, e in old.items()}
    for o in result.outcomes + result.kept:
        if o.account_id != PORTFOLIO_ID:
            accounts[o.account_id] = {**o.entry, "status": o.status}
    for aid, entry in accounts.items():
        if aid in known:
            entry.pop("not_in_warehouse", None)
        else:
            entry["not_in_warehouse"] = True
    return dict(sorted(accounts.items()))


def now() -> str:
    """The time recorded in manifests and shown on the index: now, or `SOURCE_DATE_EPOCH` when
    set (the reproducible-builds convention), so a rebuild can be compared byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit()
            else dt.datetime.now(dt.UTC))
    return when.isoformat(timespec="seconds")


def write(path: Path, accounts: dict[str, dict[str, Any]], result: Result, *,
          audience: str, selection: str, formats: tuple[str, ...], as_of: dt.date,
          pdf_engine: str, fingerprint: dict[str, Any] | None = None) -> None:
    """Write the quarter's manifest for one audience: the accounts' entries (`accumulate`)
    and what this run was asked (`selection`, `formats`, the PDF engine) and did; with the
    run's `fingerprint` (`valuelib.batch.fingerprint`) and its documents' keys when every
    document it covers ended unchanged or rendered."""
    data = {
        "quarter": result.quarter,
        "as_of": as_of.isoformat(),
        "audience": PORTFOLIO_ID if PORTFOLIO_ID in accounts else audience,
        "valuelib_version": valuelib.__version__,
        "generated_at": now(),
        "last_run": {
            "accounts": selection,
            "formats": list(formats),
            "pdf_engine": pdf_engine,
            "summary": {s: result.count(s) for s in ("rendered", "unchanged", "failed")},
            "not_reviewed": result.skipped_inactive,
        },
        "accounts": accounts,
    }
    if result.interrupted:
        data["last_run"]["interrupted"] = {"pending": result.pending}
    if fingerprint is not None:
        data["last_run"]["fingerprint"] = fingerprint
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str).encode())
