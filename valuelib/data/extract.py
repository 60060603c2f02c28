"""One bulk pass over the warehouse: a bundle per account, plus the portfolio bundle.

Each table is read once for all selected accounts (bound parameters only), cut at the
quarter's end, and split by account. Peer figures go into a bundle only as anonymous
segment aggregates, and only where the segment has at least `MIN_PEERS` other accounts.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from valuelib.data import bundle as bundles
from valuelib.data import schema, sql
from valuelib.data.warehouse import Warehouse
from valuelib.metrics import adoption, periods
from valuelib.metrics.peers import MIN_PEERS
from valuelib.metrics.periods import TREND_QUARTERS

#: The tables whose rows describe a whole month (dated by its first day): such a row counts
#: through the last day of its month when the warehouse's as-of date is worked out.
MONTHLY_TABLES = frozenset({"arr_history"})
_DATE_COLUMNS = {
    "arr_history": "month",
    "value_measurements": "period_end",
    "usage": "date",
    "nps_responses": "responded_at",
    "support_tickets": "opened_at",
    "online_reviews": "posted_at",
}
_TRENDED = {"usage", "nps_responses", "support_tickets", "online_reviews"}


#: The account columns ``--accounts COLUMN=VALUE`` may select on.
SELECTOR_COLUMNS = ("segment", "csm", "industry", "region")


class SelectionError(ValueError):
    """The account selector or quarter selects nothing usable; the message says why."""


@dataclass
class Extract:
    """What one extract pass produced."""

    quarter: str
    as_of: dt.date
    audience: str
    #: Bundle files, when the extract was asked to write them (``run(..., out_dir)``).
    bundles: dict[str, Path] = field(default_factory=dict)
    #: Every bundle's canonical bytes, in memory whether written or not.
    data: dict[str, bytes] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Each account's own locale (``accounts.locale``, empty when unset).
    locales: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: Every account id in the warehouse, active in the quarter or not.
    known: frozenset[str] = frozenset()
    portfolio: Path | None = None
    portfolio_data: bytes | None = None
    portfolio_hash: str = ""


def covered_through(table: str, latest: dt.date) -> dt.date:
    """The last day a table's latest row speaks for: its month's last day for a monthly table
    (a snapshot dated 2026-09-01 covers September), the date itself for the others."""
    if table in MONTHLY_TABLES:
        return periods.month_end(latest)
    return latest


def data_as_of(wh: Warehouse) -> dt.date:
    """The last day the warehouse's data covers (each table at its own grain): its as-of date."""
    latest: list[dt.date] = []
    present = set(wh.tables())
    for table, col in _DATE_COLUMNS.items():
        if table not in present:
            continue
        value = wh.query(sql.latest(table, col))["d"].iloc[0]
        if value is not None and not pd.isna(value):
            latest.append(covered_through(table, pd.Timestamp(value).date()))
    if not latest:
        raise SelectionError("the warehouse holds no dated rows, so it has no complete quarter")
    return max(latest)


def provided_tables(wh: Warehouse) -> frozenset[str]:
    """The contract tables the warehouse provides: present and holding at least one row
    (accounts always). A review leaves out the parts whose tables are not provided."""
    present = set(wh.tables())
    out = {"accounts"}
    for name in schema.TABLES:
        if name != "accounts" and name in present and not wh.query(sql.any_row(name)).empty:
            out.add(name)
    return frozenset(out)


def _read(wh: Warehouse, name: str, provided: frozenset[str],
          ids: list[str] | None) -> pd.DataFrame:
    """A table (of the accounts `ids`, or all) with contract types; an empty frame with its
    columns when not provided."""
    cols = schema.TABLES[name].column_names
    if name not in provided:
        return _normalised(name, pd.DataFrame({c: pd.Series(dtype=object) for c in cols}))
    return _normalised(name, wh.read_table(name, cols, account_ids=ids))


def resolve_quarter(wh: Warehouse, quarter: str | None, *,
                    allow_incomplete: bool = False) -> tuple[str, dt.date]:
    """The quarter to review (default: latest complete) and the data as-of date.

    A quarter the data does not reach the end of is refused unless `allow_incomplete`: its
    figures would silently cover only part of it (the cover then says so)."""
    as_of = data_as_of(wh)
    if not quarter:
        return periods.latest_complete_quarter(as_of), as_of
    try:
        first, last = periods.quarter_bounds(quarter)
    except ValueError as exc:
        raise SelectionError(f"--quarter {quarter!r} is not a quarter like 2026Q3") from exc
    if first > as_of:
        raise SelectionError(
            f"--quarter {quarter}: the warehouse has no data for it (data as of {as_of}; "
            f"latest complete quarter {periods.latest_complete_quarter(as_of)})"
        )
    if as_of < last and not allow_incomplete:
        raise SelectionError(
            f"--quarter {quarter} is not complete: the data runs to {as_of} and the quarter "
            f"ends {last}; add --allow-incomplete-quarter to render it anyway (the cover "
            f"says so), or render {periods.latest_complete_quarter(as_of)}, the latest complete one"
        )
    return quarter, as_of


def select_accounts(wh: Warehouse, selector: str, quarter: str) -> tuple[pd.DataFrame, dict]:
    """Accounts chosen by `all`, `ID,ID,...` or `segment=X`, active during `quarter`.

    Returns the chosen accounts and {account_id: reason} for those selected but not reviewed.
    """
    selector = (selector or "").strip()
    if not selector:
        raise SelectionError("--accounts is empty: give all, ID,ID,... or "
                             + ", ".join(f"{k}=X" for k in SELECTOR_COLUMNS))
    q_first, q_last = periods.quarter_bounds(quarter)
    if selector == "all":
        accounts = wh.read_table("accounts")
    elif re.match(r"^\w+\s*=", selector):
        key, value = selector.split("=", 1)
        key = key.strip()
        if key not in SELECTOR_COLUMNS:
            raise SelectionError(
                f"--accounts {selector}: {key!r} is not a selector; choose all, ID,ID,... or "
                + ", ".join(f"{k}=X" for k in SELECTOR_COLUMNS))
        accounts = wh.query(sql.select_equal("accounts", key, "v"), {"v": value.strip()})
        if accounts.empty:
            raise SelectionError(f"--accounts {selector}: no account has {key} {value.strip()!r}")
    else:
        ids = [s.strip() for s in selector.split(",") if s.strip()]
        if not ids:
            raise SelectionError(f"--accounts {selector!r} names no account")
        bad = [i for i in ids if not schema.ACCOUNT_ID_RE.match(i)]
        if bad:
            raise SelectionError(
                f"--accounts: {', '.join(repr(b) for b in bad)} is not an account id "
                "(1-64 characters of A-Z a-z 0-9 _ -)"
            )
        accounts = wh.read_table("accounts", account_ids=ids)
        missing = sorted(set(ids) - set(accounts["account_id"]))
        if missing:
            raise SelectionError(f"--accounts: no account with id {', '.join(missing)}")
    if accounts.empty:
        raise SelectionError("the warehouse has no accounts")
    accounts = accounts.sort_values("account_id").reset_index(drop=True)
    # Compare as timestamps: an all-null churn_date column has no dates to call .date() on.
    start = pd.to_datetime(accounts["start_date"])
    churn = pd.to_datetime(accounts["churn_date"])
    first, last = pd.Timestamp(q_first), pd.Timestamp(q_last)
    active = (start <= last) & (churn.isna() | (churn >= first))
    inactive = {}
    late, gone = (start > last).to_numpy(), (churn < first).to_numpy()
    for aid, st, ch, is_late, is_gone in zip(accounts["account_id"], start, churn, late, gone,
                                             strict=True):
        if is_late:
            inactive[aid] = f"starts {st.date()}, after {quarter}"
        elif is_gone:
            inactive[aid] = f"churned {ch.date()}, before {quarter}"
    return accounts[active.to_numpy()].reset_index(drop=True), inactive


def _normalised(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table with contract types (a number is a float or an int whichever database it came
    from) and rows in a fixed order (DuckDB scans in parallel), so a bundle's bytes, and its
    hash, depend only on its data."""
    table = schema.TABLES[name]
    df = df.copy()
    for col in table.columns:
        if col.name not in df.columns:
            continue
        if col.type == schema.FLOAT:
            df[col.name] = pd.to_numeric(df[col.name]).astype("float64")
        elif col.type == schema.INT:
            df[col.name] = pd.to_numeric(df[col.name]).astype("Int64")
        elif col.type in (schema.DATE, schema.TIMESTAMP):
            df[col.name] = pd.to_datetime(df[col.name])
        elif col.type == schema.BOOL:
            df[col.name] = df[col.name].astype("boolean")
    if df.empty:
        return df
    # A unique key that leads the columns orders the rows as all the columns would, cheaper.
    cols = list(df.columns)
    by = list(table.key) if table.key and cols[:len(table.key)] == list(table.key) else cols
    return df.sort_values(by, kind="mergesort", na_position="last", ignore_index=True)


def _cut(tables: dict[str, pd.DataFrame], quarter: str) -> dict[str, pd.DataFrame]:
    """Drop rows dated after the quarter's end, and trend tables' rows older than the
    TREND_QUARTERS quarters before it (a trend's quarters and the one before its first, for
    that quarter's change)."""
    _, q_last = periods.quarter_bounds(quarter)
    trend_first, _ = periods.quarter_bounds(periods.shift_quarter(quarter, -TREND_QUARTERS))
    out = {}
    for name, df in tables.items():
        col = _DATE_COLUMNS.get(name)
        if col and col in df.columns and not df.empty:
            d = pd.to_datetime(df[col])
            keep = d <= pd.Timestamp(q_last) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
            if name in _TRENDED:
                keep &= d >= pd.Timestamp(trend_first)
            df = df[keep.to_numpy()]
        if name == "success_plan" and not df.empty:
            allowed = {periods.shift_quarter(quarter, k) for k in range(-TREND_QUARTERS, 2)}
            df = df[df["quarter"].isin(allowed)]
        out[name] = df
    return out


def _peer_figures(
    usage: pd.DataFrame, accounts: pd.DataFrame, quarter: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per account: seat utilisation and feature adoption in the quarter (for peer aggregates)."""
    first, last = periods.quarter_bounds(quarter)
    weekly = adoption.weekly_active(usage)
    util = adoption.utilisation_by_account(weekly, first, last)
    features = adoption.feature_adoption_by_account(usage, first, last)
    out = accounts[["account_id", "segment"]].merge(util, on="account_id", how="left")
    return out, features


class _Peers:
    """Anonymous segment aggregates for each account, from figures grouped once per segment.

    An account's peers are the other active accounts of its segment with a utilisation
    figure; nothing is reported unless there are at least ``MIN_PEERS`` of them, and a
    feature's median only when at least ``MIN_PEERS`` of them use it. Each segment's figures
    are sorted once: an account's peer figures are that order less its own (`_Sorted`), so
    the accounts of a segment cost linear, not quadratic, time.
    """

    def __init__(self, peer_util: pd.DataFrame, features: pd.DataFrame) -> None:
        measured = peer_util.dropna(subset=["utilisation_pct"])
        self._util: dict[str, _Sorted] = {}
        self._features: dict[str, dict[str, _Sorted]] = {}
        for segment, grp in measured.groupby("segment", sort=False):
            ids = grp["account_id"].tolist()
            values = grp["utilisation_pct"].astype(float).tolist()
            self._util[str(segment)] = _Sorted(ids, [round(v, 1) for v in values])
            f = features[features["account_id"].isin(set(ids))]
            self._features[str(segment)] = {
                str(feature): _Sorted(g["account_id"].tolist(),
                                      g["adoption_pct"].astype(float).tolist())
                for feature, g in f.groupby("feature")
            }

    def for_account(self, account_id: str, segment: str) -> dict:
        util = self._util.get(segment)
        others = util.without(account_id) if util is not None else []
        result: dict = {"segment": segment, "count": len(others), "min_peers": MIN_PEERS}
        if len(others) < MIN_PEERS:
            return result
        result["utilisation_pct"] = others
        med = {}
        for feature, figures in self._features.get(segment, {}).items():
            if figures.count_without(account_id) >= MIN_PEERS:
                med[feature] = round(figures.median_without(account_id), 1)
        result["feature_adoption_median_pct"] = med
        return result


class _Sorted:
    """One figure per account (unique ids), sorted once (stably) so that the figures of all
    the accounts but one come out sorted, and their median, without sorting again."""

    def __init__(self, ids: list[str], values: list[float]) -> None:
        order = sorted(range(len(values)), key=values.__getitem__)
        self.values = [values[i] for i in order]
        self.position = {ids[i]: k for k, i in enumerate(order)}
        self.has_nan = any(v != v for v in values)

    def without(self, account_id: str) -> list[float]:
        """The figures of every account but `account_id`, sorted."""
        k = self.position.get(account_id)
        return list(self.values) if k is None else self.values[:k] + self.values[k + 1:]

    def count_without(self, account_id: str) -> int:
        return len(self.values) - (account_id in self.position)

    def median_without(self, account_id: str) -> float:
        """`numpy.median` of the figures of every account but `account_id` (same float)."""
        if self.has_nan:  # NaN does not sort: leave it to numpy
            return float(np.median(self.without(account_id)))
        k = self.position.get(account_id)
        n = len(self.values) - (k is not None)

        def at(i: int) -> float:  # the i-th of the remaining figures
            return self.values[i if k is None or i < k else i + 1]

        if n % 2:
            return at(n // 2)
        return (at(n // 2 - 1) + at(n // 2)) / 2


def run(
    wh: Warehouse,
    out_dir: Path | None,
    *,
    quarter: str | None = None,
    selector: str = "all",
    audience: str = "customer",
    portfolio: bool = True,
    as_of: dt.date | None = None,
) -> Extract:
    """Extract bundles for the selected accounts, and the portfolio bundle unless `portfolio` is
    False: in memory (`Extract.data`), and also as files in `out_dir` (one JSON file per
    account, in a folder only the user can read) unless `out_dir` is None. `as_of`: the data's
    as-of date (`data_as_of`), when the caller has read it already for `quarter`."""
    if audience not in ("customer", "internal"):
        raise SelectionError(f"--audience {audience!r} must be customer or internal")
    if quarter is None or as_of is None:
        quarter, as_of = resolve_quarter(wh, quarter, allow_incomplete=True)
    chosen, inactive = select_accounts(wh, selector, quarter)
    _, q_last = periods.quarter_bounds(quarter)
    doc_as_of = min(as_of, q_last)

    # One read per table: peers need every active account, the portfolio every account
    # (those that left before the quarter count in cohorts, trailing retention and the
    # back-test); each bundle takes only its own rows.
    active_all, inactive_all = select_accounts(wh, "all", quarter)
    ids = list(active_all["account_id"])
    provided = provided_tables(wh)
    raw = {name: _read(wh, name, provided, None if portfolio else ids)
           for name in schema.TABLES if name != "accounts"}
    tables = _cut(raw, quarter)
    peers = _Peers(*_peer_figures(tables["usage"], active_all, quarter))

    internal = schema.INTERNAL_COLUMNS if audience == "customer" else {}
    # Each table's rows of the chosen accounts are made JSON-safe once, then dealt out to
    # their accounts (in table order), instead of converting many small per-account frames.
    chosen_ids = set(chosen["account_id"])
    columns: dict[str, list[str]] = {}
    grouped: dict[str, dict[str, list[tuple]]] = {}
    for name, df in tables.items():
        df = df[df["account_id"].isin(chosen_ids).to_numpy()]
        df = df.drop(columns=[c for c in internal.get(name, ()) if c in df.columns])
        columns[name], rows = bundles.frame_to_rows(df.reset_index(drop=True))
        groups: dict[str, list[tuple]] = {}
        for aid, row in zip(df["account_id"].tolist(), rows, strict=True):
            if (group := groups.get(aid)) is None:
                group = groups[aid] = []
            group.append(row)
        grouped[name] = groups
    result = Extract(quarter=quarter, as_of=doc_as_of, audience=audience, skipped=inactive,
                     known=frozenset(ids) | frozenset(inactive_all))
    bundle_dir = out_dir / audience if out_dir is not None else None
    for row in chosen.to_dict("records"):
        aid = row["account_id"]
        account_tables = {
            name: {"columns": columns[name], "rows": groups.get(aid, [])}
            for name, groups in grouped.items()
        }
        payload = {
            "format": bundles.FORMAT_VERSION,
            "kind": "account",
            "quarter": quarter,
            "as_of": doc_as_of.isoformat(),
            "audience": audience,
            "account": {k: bundles.cell(v) for k, v in row.items()},
            "tables": account_tables,
            "peers": peers.for_account(aid, row["segment"]),
            "provided": sorted(provided),
        }
        data = bundles.dumps(payload)
        if bundle_dir is not None:
            result.bundles[aid] = _write_private(bundle_dir / f"{aid}.json", data)
        result.data[aid] = data
        result.hashes[aid] = bundles.sha256(data)
        result.locales[aid] = str(row.get("locale") or "")
        result.names[aid] = {
            "name": str(row["name"]),
            "segment": str(row["segment"]),
            "csm": str(row["csm"]),
        }

    if portfolio:
        data = bundles.dumps(_portfolio_payload(wh.read_table("accounts"), tables, quarter,
                                                doc_as_of, provided))
        if out_dir is not None:
            result.portfolio = _write_private(out_dir / "portfolio.json", data)
        result.portfolio_data, result.portfolio_hash = data, bundles.sha256(data)
    return result


def _write_private(path: Path, data: bytes) -> Path:
    """Write a bundle unless unchanged, in folders only the user can enter (mode 0700)."""
    for folder in (path.parent.parent, path.parent):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        bundles.write_atomic(path, data, private=True)
    return path


def _portfolio_payload(
    accounts: pd.DataFrame, cut: dict[str, pd.DataFrame], quarter: str, as_of: dt.date,
    provided: frozenset[str],
) -> dict:
    """Everything the portfolio review needs: all accounts, lean (no free text, weekly usage).

    `cut` holds every account's rows, cut to the quarter (`_cut`)."""
    weekly = adoption.weekly_active(cut["usage"])
    arr = cut["arr_history"]
    tables = {
        "accounts": accounts.sort_values("account_id"),
        # A month without ARR counts as 0 in every portfolio figure, so rows of 0 (a dense
        # export's months before the start and after churn) are left out of the bundle.
        "arr_history": arr[(arr["arr"] > 0).to_numpy()],
        "usage": weekly,
        "nps_responses": cut["nps_responses"].drop(columns=["comment"]),
        "support_tickets": cut["support_tickets"],
        "value_drivers": cut["value_drivers"],
        "value_measurements": cut["value_measurements"],
        "online_reviews": cut["online_reviews"],
        "success_plan": cut["success_plan"].drop(columns=["internal_note", "goal"]),
    }
    return {
        "format": bundles.FORMAT_VERSION,
        "kind": "portfolio",
        "quarter": quarter,
        "as_of": as_of.isoformat(),
        "audience": "internal",
        "provided": sorted(provided),
        "tables": {
            n: bundles.frame_to_columns(
                df.sort_values([c for c in df.columns[:2]], kind="mergesort")
                .reset_index(drop=True)
            )
            for n, df in tables.items()
        },
    }


def private_dir() -> Path:
    """Where bundles for notebooks run by hand go: outside any published folder, mode 0700
    (``$VALUEREVIEW_CACHE``, else the user's cache folder)."""
    base = os.environ.get("VALUEREVIEW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "valuereview")
    return Path(base) / "bundles"


def account_bundle(
    account_id: str, quarter: str | None = None, *, db: str | None = None,
    audience: str = "customer", out_dir: Path | None = None,
) -> Path:
    """Extract one account's bundle from the warehouse: for running a notebook by hand."""
    out_dir = out_dir or private_dir()
    with Warehouse.open(db) as wh:
        ex = run(wh, out_dir, quarter=quarter, selector=account_id, audience=audience)
    if account_id not in ex.bundles:
        raise SelectionError(f"account {account_id}: {ex.skipped.get(account_id, 'not active')}")
    return ex.bundles[account_id]


def portfolio_bundle(quarter: str | None = None, *, db: str | None = None,
                     out_dir: Path | None = None) -> Path:
    """Extract the portfolio bundle from the warehouse: for running the notebook by hand."""
    out_dir = out_dir or private_dir()
    with Warehouse.open(db) as wh:
        ex = run(wh, out_dir, quarter=quarter, selector="all", audience="internal")
    assert ex.portfolio is not None
    return ex.portfolio
