"""The demo generator: every contract table drawn from one seed (conventions: the package
docstring of `valuelib.data.demo`)."""

from __future__ import annotations

import calendar
import functools
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from valuelib.data import schema
from valuelib.data.demo import vocabulary as vocab
from valuelib.data.warehouse import Warehouse
from valuelib.metrics import periods

DEFAULT_AS_OF = date(2026, 10, 31)
_EPOCH = date(1970, 1, 1)
_EPOCH64 = np.datetime64(_EPOCH, "D")
#: The generator counts quarters from 1970Q1 (a month index // 3); periods from year 0.
_EPOCH_QUARTER = periods.quarter_index(periods.quarter_of(_EPOCH))
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
INDUSTRIES = (
    "Logistics", "Healthcare", "Retail", "Manufacturing", "Financial Services", "Software",
)
CORE_FEATURE = "Core"
FEATURES = (
    CORE_FEATURE, "Dashboards", "Reports", "Automations", "Integrations", "Mobile App",
    "AI Assistant",
)

#: Accounts at fixed ids that exercise awkward data (dates are for the default as_of,
#: 2026-10-31, whose latest complete quarter is 2026Q3). Present when `accounts` reaches the id.
CHURNED_IN_QUARTER = "ACC-0002"
NO_NPS = "ACC-0004"
UNMEASURED_DRIVER = "ACC-0006"
BRAND_NEW = "ACC-0008"
NO_REVIEWS_NO_TICKETS = "ACC-0010"
HARD_CASES: dict[str, str] = {
    CHURNED_IN_QUARTER: (
        "churned mid-quarter: churn_date 2026-08-14, inside 2026Q3 (the latest complete quarter "
        "before as_of), at its second anniversary; arr_history and usage stop in August 2026"
    ),
    NO_NPS: "an active, two-year-old account with no NPS answers at all",
    UNMEASURED_DRIVER: (
        "has a value driver with no measurements at all (its last driver; the others are "
        "measured every quarter)"
    ),
    BRAND_NEW: (
        "brand new: start_date 2026-09-07, in the last month of 2026Q3, so it has exactly one "
        "month (September) in 2026Q3 (arr_history: September and October 2026) and no complete "
        "quarter of measurements yet"
    ),
    NO_REVIEWS_NO_TICKETS: "has no online reviews and no support tickets",
}

#: Illustrative fixed exchange rates the demo prices in (units of currency per USD). The
#: fx_rates of params/portfolio.yaml (USD per unit, as finance would set them) are these inverted
#: and rounded; tests/unit/data/test_demo.py fails if the two drift apart.
FX_PER_USD = {"USD": 1.0, "GBP": 0.79, "GEL": 2.7, "AMD": 390.0, "NGN": 1550.0, "MWK": 1735.0}
# locale, currency, region, share of accounts
_LOCALES = (
    ("en-US", "USD", "North America", 0.52),
    ("en-GB", "GBP", "UK & Ireland", 0.28),
    ("ka-GE", "GEL", "Caucasus", 0.05),
    ("hy-AM", "AMD", "Caucasus", 0.05),
    ("ha-NG", "NGN", "Sub-Saharan Africa", 0.05),
    ("ny-MW", "MWK", "Sub-Saharan Africa", 0.05),
)
_CSMS = {
    "North America": ("Maya Okafor", "Daniel Brooks", "Priya Raman", "Luis Ortega"),
    "UK & Ireland": ("Tom Whitaker", "Hannah Price"),
    "Caucasus": ("Nino Beridze", "Hannah Price"),
    "Sub-Saharan Africa": ("Samuel Banda", "Tom Whitaker"),
}
_SEGMENT_SHARES = (50, 45, 25)
_ARR_RANGE_USD = ((5_000, 30_000), (30_000, 150_000), (150_000, 1_200_000))
_SEAT_PRICE_USD = (480.0, 420.0, 360.0)
_NPS_RESPONDENTS = (2.5, 4.0, 7.0)
_TICKETS_PER_MONTH = (0.7, 1.8, 4.5)
_AI_LAUNCH = np.datetime64("2025-06-02")

_STREAMS = {
    "accounts": 1, "arr": 2, "drivers": 3, "usage": 4, "nps": 5, "tickets": 6, "reviews": 7,
    "plan": 8,
}

# -- helpers -------------------------------------------------------------------------------


class _Draws:
    """Uniform and normal draws generated in blocks: cheap per-row choices in Python loops."""

    def __init__(self, rng: np.random.Generator, block: int = 1 << 14) -> None:
        self._rng = rng
        self._block = block
        self._u: list[float] = []
        self._n: list[float] = []

    def u(self) -> float:
        if not self._u:
            self._u = self._rng.random(self._block).tolist()[::-1]
        return self._u.pop()

    def normal(self) -> float:
        if not self._n:
            self._n = self._rng.standard_normal(self._block).tolist()[::-1]
        return self._n.pop()

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.u()

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi)."""
        return lo + min(int(self.u() * (hi - lo)), hi - lo - 1)

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[self.integer(0, len(options))]


def _rng(seed: int, stream: str) -> np.random.Generator:
    """An independent stream per table, so changing one table's recipe leaves the others."""
    return np.random.default_rng([seed, _STREAMS[stream]])


def _allocate(n: int, shares: tuple[float, ...], rng: np.random.Generator,
              minimum: int = 0) -> np.ndarray:
    """Exactly apportioned labels (largest remainder), at least `minimum` each, shuffled."""
    s = np.asarray(shares, dtype=float) / float(sum(shares))
    raw = n * s
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    if minimum and n >= minimum * len(shares):
        for i in range(len(counts)):
            while counts[i] < minimum:
                counts[int(np.argmax(counts))] -= 1
                counts[i] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _days(d: np.ndarray | np.datetime64) -> np.ndarray:
    return np.asarray(d, dtype="datetime64[D]").astype(np.int64)


def _month_index(d: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (quarter index = this // 3)."""
    return np.asarray(d, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_start(mi: np.ndarray) -> np.ndarray:
    return np.asarray(mi, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]")


def _quarter_label(qi: int) -> str:
    """The quarter `qi` quarters after 1970Q1, as periods writes it (1970Q1 + 226 = "2026Q3")."""
    return periods.quarter_at(_EPOCH_QUARTER + qi)


def _weekday(d: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (_days(d) + 3) % 7


def _latest_complete_quarter(as_of: date) -> int:
    return periods.quarter_index(periods.latest_complete_quarter(as_of)) - _EPOCH_QUARTER


@functools.cache
def _quarter_bounds(qi: int) -> tuple[int, int]:
    """First and last day of quarter `qi`, as days since 1970-01-01."""
    first, last = periods.quarter_bounds(_quarter_label(qi))
    return (first - _EPOCH).days, (last - _EPOCH).days


def _quarter_of(day: int) -> int:
    d = _EPOCH + timedelta(days=int(day))
    return periods.quarter_index(periods.quarter_of(d)) - _EPOCH_QUARTER


def _anniversary(start: date, year: int) -> date:
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return date(year, start.month, day)


def _nice(x: np.ndarray) -> np.ndarray:
    """Round to three significant digits, at least whole units (how contract prices look)."""
    x = np.asarray(x, dtype=float)
    mag = np.floor(np.log10(np.maximum(x, 1.0)))
    step = np.maximum(10.0 ** (mag - 2), 1.0)
    return np.round(x / step) * step


def _sig3(x: float) -> float:
    return float(f"{x:.3g}")


def _group_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For groups of `counts` rows laid end to end: group of each row, position, group offsets."""
    counts = np.asarray(counts, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    group = np.repeat(np.arange(len(counts)), counts)
    pos = np.arange(int(counts.sum()), dtype=np.int64) - offsets[group]
    return group, pos, offsets


def _dates(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="datetime64[D]").astype("datetime64[s]"))


# -- accounts ------------------------------------------------------------------------------


@dataclass
class _Accounts:
    """Per-account facts shared by every table's generator (index i = account i)."""

    ids: list[str]
    seg: np.ndarray
    ind: np.ndarray
    loc: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], exclusive: churn_date, or as_of + 1 day
    churned: np.ndarray
    health: np.ndarray  # 0..1, latent: drives adoption, NPS, CSAT, expansion
    csm: list[str]
    frame: pd.DataFrame

    def index(self, account_id: str) -> int | None:
        try:
            return self.ids.index(account_id)
        except ValueError:
            return None


def _company_name(rng: np.random.Generator, locale: str, industry: str, used: set[str]) -> str:
    """A fictitious company name in the locale's language and script, unique in `used`."""
    stems, nouns, forms = vocab.NAMING[locale]
    for _ in range(40):
        stem = stems[rng.integers(len(stems))]
        noun = nouns[industry][rng.integers(len(nouns[industry]))]
        core = f"{stem} {noun}"
        if core not in used:
            break
    else:  # a crowded locale (thousands of accounts): number the last name drawn
        k = 2
        while f"{core} {k}" in used:
            k += 1
        core = f"{core} {k}"
    used.add(core)
    form = forms[rng.integers(len(forms))]
    if noun.endswith(("Co.", "Union", "Bancorp", "Bank", "Limited")):
        form = "{}"
    return form.format(core)


def _make_accounts(n: int, seed: int, as_of: date) -> _Accounts:
    rng = _rng(seed, "accounts")
    ids = [f"ACC-{i:04d}" for i in range(1, n + 1)]
    seg = _allocate(n, _SEGMENT_SHARES, rng)
    loc = _allocate(n, tuple(x[3] for x in _LOCALES), rng, minimum=1)
    ind = rng.integers(len(INDUSTRIES), size=n)

    as_of64 = np.datetime64(as_of, "D")
    lcq = _latest_complete_quarter(as_of)
    lcq_first, lcq_last = _quarter_bounds(lcq)
    lcq_start = _EPOCH64 + lcq_first
    lo = _days(as_of64) - 3 * 365
    hi = lcq_last - 75
    start = (lo + rng.integers(0, hi - lo + 1, size=n)).astype("datetime64[D]")
    churn = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")

    def at(account_id: str) -> int | None:
        i = int(account_id[4:]) - 1
        return i if i < n else None

    hard = {at(a) for a in HARD_CASES} - {None}
    if (i := at(CHURNED_IN_QUARTER)) is not None:
        c = pd.Timestamp(lcq_start + np.timedelta64(44, "D")).date()
        churn[i] = np.datetime64(c)
        start[i] = np.datetime64(_anniversary(c, c.year - 2))
    for account_id, days_before in ((NO_NPS, 700), (UNMEASURED_DRIVER, 800),
                                    (NO_REVIEWS_NO_TICKETS, 430)):
        if (i := at(account_id)) is not None:
            start[i] = as_of64 - np.timedelta64(days_before, "D")
    if (i := at(BRAND_NEW)) is not None:
        last_month = periods.quarter_months(_quarter_label(lcq))[2]
        start[i] = np.datetime64(last_month, "D") + np.timedelta64(6, "D")

    # ~12% churned overall, each at a renewal anniversary on or before as_of.
    eligible = [i for i in range(n) if i not in hard and start[i] <= as_of64 - 366]
    n_churn = max(0, round(0.12 * n) - (1 if at(CHURNED_IN_QUARTER) is not None else 0))
    for i in sorted(rng.choice(eligible, size=min(n_churn, len(eligible)), replace=False)):
        s = pd.Timestamp(start[i]).date()
        years = [y for y in range(s.year + 1, as_of.year + 1) if _anniversary(s, y) <= as_of]
        churn[i] = np.datetime64(_anniversary(s, years[int(rng.integers(len(years)))]))
    churned = ~np.isnat(churn)

    health = np.where(churned, rng.beta(2.0, 3.5, size=n), rng.beta(5.0, 2.0, size=n))
    end = np.where(churned, churn, as_of64 + np.timedelta64(1, "D"))

    names, regions, csms, renewals = [], [], [], []
    used: set[str] = set()
    for i in range(n):
        locale, _, region, _ = _LOCALES[loc[i]]
        names.append(_company_name(rng, locale, INDUSTRIES[ind[i]], used))
        regions.append(region)
        pool = _CSMS[region]
        csms.append(pool[int(rng.integers(len(pool)))])
        s = pd.Timestamp(start[i]).date()
        if churned[i]:
            renewals.append(churn[i])
        else:
            year = as_of.year if _anniversary(s, as_of.year) > as_of else as_of.year + 1
            renewals.append(np.datetime64(_anniversary(s, year)))

    frame = pd.DataFrame(
        {
            "account_id": ids,
            "name": names,
            "segment": [SEGMENTS[s] for s in seg],
            "industry": [INDUSTRIES[k] for k in ind],
            "region": regions,
            "csm": csms,
            "currency": [_LOCALES[k][1] for k in loc],
            "locale": [_LOCALES[k][0] for k in loc],
            "start_date": _dates(start),
            "renewal_date": _dates(np.array(renewals, dtype="datetime64[D]")),
            "churn_date": _dates(churn),
        }
    )
    return _Accounts(ids, seg, ind, loc, start, end, churned, health, csms, frame)


# -- ARR -----------------------------------------------------------------------------------


@dataclass
class _Arr:
    frame: pd.DataFrame
    offsets: np.ndarray  # first arr row of each account
    months: np.ndarray  # rows per account
    usd: np.ndarray  # ARR in USD per row (before rounding)
    seats: np.ndarray  # licensed seats per row


def _seats(arr_usd: np.ndarray, seg: np.ndarray) -> np.ndarray:
    raw = arr_usd / np.asarray(_SEAT_PRICE_USD)[seg]
    step = np.where(raw < 50, 1, np.where(raw < 500, 5, 25))
    return np.maximum(3, (np.round(raw / step) * step)).astype(np.int64)


def _make_arr(a: _Accounts, seed: int) -> _Arr:
    rng = _rng(seed, "arr")
    n = len(a.ids)
    first = _month_index(a.start)
    last = _month_index(a.end - np.timedelta64(1, "D"))
    months = last - first + 1
    acc, k, offsets = _group_positions(months)
    m = len(acc)

    lo = np.log([r[0] for r in _ARR_RANGE_USD])[a.seg]
    hi = np.log([r[1] for r in _ARR_RANGE_USD])[a.seg]
    init = np.exp(lo + (hi - lo) * rng.random(n))

    h = a.health[acc]
    u = rng.random(m)
    renewal = (k % 12 == 0) & (k > 0)
    # No change in a churned account's last month (it is leaving, not renewing).
    final = k == months[acc] - 1
    churn_month = final & a.churned[acc]
    p_exp = np.where(renewal, 0.30 + 0.45 * h, 0.015 + 0.025 * h)
    p_con = np.where(renewal, 0.25 - 0.20 * h, 0.012 * (1 - h))
    up = np.where(renewal, rng.uniform(1.05, 1.40, m), rng.uniform(1.04, 1.20, m))
    down = np.where(renewal, rng.uniform(0.70, 0.95, m), rng.uniform(0.85, 0.97, m))
    uplift = np.where(renewal, rng.uniform(1.0, 1.06, m), 1.0)
    mult = np.where(u < p_exp, up, np.where(u < p_exp + p_con, down, uplift))
    mult = np.where(churn_month, 1.0, mult)
    logm = np.log(mult)
    cum = np.cumsum(logm)
    cum = cum - (cum[offsets] - logm[offsets])[acc]
    usd = init[acc] * np.exp(cum)
    fx = np.array([FX_PER_USD[_LOCALES[k][1]] for k in range(len(_LOCALES))])[a.loc]
    local = _nice(usd * fx[acc])

    frame = pd.DataFrame(
        {
            "account_id": np.asarray(a.ids, dtype=object)[acc],
            "month": _dates(_month_start(first[acc] + k)),
            "arr": local.astype(float),
        }
    )
    return _Arr(frame, offsets, months, usd, _seats(usd, a.seg[acc]))


# -- value drivers and measurements --------------------------------------------------------


def _round(x: float, decimals: int) -> float:
    return float(round(x, decimals))


def _make_value(a: _Accounts, arr: _Arr, seed: int, as_of: date
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = _rng(seed, "drivers")
    n = len(a.ids)
    as_of_d = int(_days(np.datetime64(as_of, "D")))
    start_d = _days(a.start).tolist()
    stop_d = np.minimum(_days(a.end) - 1, as_of_d).tolist()
    fx = [FX_PER_USD[_LOCALES[k][1]] for k in a.loc]
    rebase_pool = [i for i in range(n) if start_d[i] <= as_of_d - 270 and a.ids[i] != BRAND_NEW]
    n_rebase = min(len(rebase_pool), round(0.15 * n))
    rebased = set(rng.choice(rebase_pool, size=n_rebase, replace=False).tolist()) \
        if n_rebase else set()
    draw = _Draws(rng)
    d_rows: list[tuple] = []
    m_rows: list[tuple] = []
    for i in range(n):
        account_id = a.ids[i]
        specs = vocab.DRIVERS[INDUSTRIES[a.ind[i]]]
        k = draw.integer(2, 5)
        if account_id == UNMEASURED_DRIVER:
            k = max(k, 3)
        order = sorted(range(len(specs)), key=lambda _: draw.u())[:k]
        chosen = [specs[j] for j in sorted(order)]
        arr0 = float(arr.usd[arr.offsets[i]])
        roi = draw.uniform(2.0, 4.5)
        start_q = _quarter_of(start_d[i])
        last_q = _quarter_of(stop_d[i])
        if _quarter_bounds(last_q)[1] > stop_d[i]:
            last_q -= 1
        unmeasured = len(chosen) - 1 if account_id == UNMEASURED_DRIVER else -1
        rebase_j = draw.integer(0, len(chosen) - (unmeasured >= 0)) if i in rebased else -1
        for j, spec in enumerate(chosen):
            b = _round(draw.uniform(spec.lo, spec.hi), spec.decimals)
            gain = draw.uniform(spec.gain_lo, spec.gain_hi) * b
            t = b + gain if spec.direction == vocab.HIGHER else b - gain
            t = _round(min(max(t, spec.floor), spec.ceil), spec.decimals)
            if t == b:
                t = b + 10 ** -spec.decimals * (1 if spec.direction == vocab.HIGHER else -1)
            delta = abs(t - b)
            unit_value = _sig3(arr0 * roi / (4.0 * k * delta) * fx[i])
            u = draw.u()
            conf = vocab.CONFIDENCE[0 if u < 0.5 else 1 if u < 0.8 else 2]
            b_date = start_d[i] - draw.integer(0, 46)
            d_rows.append((account_id, spec.driver_id, spec.name, spec.unit, spec.direction,
                           unit_value, b, t, b_date, 1, "business_case", conf))
            b2, b2_date = b, None
            if j == rebase_j:
                latest = as_of_d - 90 - start_d[i]
                b2_date = start_d[i] + draw.integer(120, max(121, min(400, latest)))
                # Re-measured: the business-case baseline was off by 10-40% of the gap.
                shift = draw.uniform(0.1, 0.4) * (1 if draw.u() < 0.5 else -1)
                b2 = _round(min(max(b + (t - b) * shift, spec.floor), spec.ceil), spec.decimals)
                if b2 == b:
                    b2 = _round(b - np.sign(t - b) * 10 ** -spec.decimals, spec.decimals)
                d_rows.append((account_id, spec.driver_id, spec.name, spec.unit, spec.direction,
                               unit_value, b2, t, b2_date, 2, "rebaseline",
                               vocab.CONFIDENCE[draw.integer(0, 2)]))
            if j == unmeasured:
                continue
            tau = draw.uniform(1.2, 4.0)
            att = min(max(draw.uniform(0.45, 0.95) + 0.4 * float(a.health[i]), 0.3), 1.35)
            for q in range(start_q + 1, last_q + 1):
                period_end = _quarter_bounds(q)[1]
                base = b2 if b2_date is not None and b2_date <= period_end else b
                progress = 1.0 - math.exp(-(q - start_q) / tau)
                v = base + (t - base) * att * progress + draw.normal() * 0.07 * delta
                v = _round(min(max(v, spec.floor), spec.ceil), spec.decimals)
                c = conf if draw.u() < 0.8 else vocab.CONFIDENCE[draw.integer(0, 3)]
                m_rows.append((account_id, spec.driver_id, period_end, v, c))
    dcols = schema.TABLES["value_drivers"].column_names
    drivers = pd.DataFrame(d_rows, columns=dcols)
    drivers["baseline_date"] = _dates(np.array([r[8] for r in d_rows], dtype="datetime64[D]"))
    drivers["baseline_version"] = drivers["baseline_version"].astype(np.int64)
    mcols = schema.TABLES["value_measurements"].column_names
    measurements = pd.DataFrame(m_rows, columns=mcols)
    measurements["period_end"] = _dates(np.array([r[2] for r in m_rows], dtype="datetime64[D]"))
    measurements["value"] = measurements["value"].astype(float)
    return drivers, measurements


# -- usage ---------------------------------------------------------------------------------


def _make_usage(a: _Accounts, arr: _Arr, seed: int, as_of: date) -> pd.DataFrame:
    rng = _rng(seed, "usage")
    n = len(a.ids)
    as_of64 = np.datetime64(as_of, "D")
    first_mon = a.start + ((-_weekday(a.start)) % 7).astype("timedelta64[D]")
    last_day = np.minimum(as_of64, a.end - np.timedelta64(1, "D"))
    last_mon = last_day - _weekday(last_day).astype("timedelta64[D]")
    weeks = np.maximum(0, (_days(last_mon) - _days(first_mon)) // 7 + 1)
    acc_w, k, _ = _group_positions(weeks)
    dates = first_mon[acc_w] + (7 * k).astype("timedelta64[D]")
    row = arr.offsets[acc_w] + (_month_index(dates) - _month_index(a.start)[acc_w])
    seats = arr.seats[row]

    plateau = np.clip(0.35 + 0.6 * a.health + rng.normal(0, 0.05, n), 0.2, 0.97)
    ramp = rng.uniform(3, 14, n)
    frac = plateau[acc_w] * (0.25 + 0.75 * (1 - np.exp(-k / ramp[acc_w])))
    mi = _month_index(dates)
    month = mi % 12 + 1
    day = _days(dates) - _days(_month_start(mi)) + 1
    holiday = ((month == 12) & (day >= 22)) | ((month == 1) & (day <= 3))
    frac = frac * np.where(holiday, 0.55, np.where(month == 8, 0.92, 1.0))
    to_end = (_days(a.end[acc_w]) - _days(dates)) / 7.0
    frac = frac * np.where(a.churned[acc_w], np.clip(0.45 + 0.55 * to_end / 26, 0.45, 1.0), 1.0)
    frac = frac * np.exp(rng.normal(0, 0.06, len(k)))
    core = np.clip(np.round(seats * frac), 0, seats).astype(np.int64)

    # Features per account: the first five always, Mobile App and AI Assistant for some.
    has = np.ones((n, len(FEATURES)), dtype=bool)
    has[:, 5] = rng.random(n) < 0.5
    has[:, 6] = rng.random(n) < 0.45
    share = np.column_stack(
        [
            np.ones(n),
            rng.uniform(0.5, 0.9, n),
            rng.uniform(0.3, 0.7, n),
            rng.uniform(0.1, 0.3, n) + 0.25 * a.health,
            rng.uniform(0.05, 0.3, n),
            rng.uniform(0.1, 0.4, n),
            rng.uniform(0.05, 0.35, n),
        ]
    )
    feat_acc, feat_code = np.nonzero(has)  # row-major: grouped by account, features in order
    nf = has.sum(axis=1)
    feat_off = np.concatenate([[0], np.cumsum(nf)[:-1]])

    w_row, pos, _ = _group_positions(nf[acc_w])
    acc_r = acc_w[w_row]
    feat = feat_code[feat_off[acc_r] + pos]
    core_r = core[w_row]
    fr = np.where(feat == 0, 1.0, 1 - np.exp(-k[w_row] / (2 * ramp[acc_r])))
    fr = np.where((feat == 6) & (dates[w_row] < _AI_LAUNCH), 0.0, fr)
    users = np.round(core_r * share[acc_r, feat] * fr * np.exp(rng.normal(0, 0.1, len(feat))))
    active = np.where(feat == 0, core_r, np.minimum(core_r, users)).astype(np.int64)
    rate = np.array([40.0, 12.0, 5.0, 25.0, 60.0, 8.0, 6.0])[feat]
    events = rng.poisson(active * rate * np.exp(rng.normal(0, 0.15, len(feat)))).astype(np.int64)

    return pd.DataFrame(
        {
            "account_id": np.asarray(a.ids, dtype=object)[acc_r],
            "date": _dates(dates[w_row]),
            "active_users": active,
            "licensed_seats": seats[w_row],
            "feature": np.asarray(FEATURES, dtype=object)[feat],
            "events": events,
        }
    )


# -- voice of the customer -----------------------------------------------------------------


def _make_nps(a: _Accounts, seed: int, as_of: date) -> pd.DataFrame:
    rng = _rng(seed, "nps")
    n = len(a.ids)
    as_of64 = np.datetime64(as_of, "D")
    q0 = _quarter_of(_days(a.start.min()))
    q1 = _quarter_of(_days(as_of64))
    rows_acc, rows_date = [], []
    mu_acc = 3.5 + 6.2 * a.health
    for q in range(q0, q1 + 1):
        mid = _month_start(q * 3 + 1)
        wave = mid + np.timedelta64(int((1 - _weekday(mid)) % 7) + 7, "D")  # 2nd Tuesday
        ok = (a.start <= wave - np.timedelta64(45, "D")) & (a.end > wave)
        ok &= rng.random(n) < 0.85
        if (i := a.index(NO_NPS)) is not None:
            ok[i] = False
        idx = np.nonzero(ok)[0]
        count = 1 + rng.poisson(np.asarray(_NPS_RESPONDENTS)[a.seg[idx]] - 1)
        acc = np.repeat(idx, count)
        when = wave + rng.integers(0, 22, len(acc)).astype("timedelta64[D]")
        keep = (when <= as_of64) & (when < a.end[acc])
        rows_acc.append(acc[keep])
        rows_date.append(when[keep])
    acc = np.concatenate(rows_acc) if rows_acc else np.array([], dtype=np.int64)
    when = np.concatenate(rows_date) if rows_date else np.array([], dtype="datetime64[D]")
    order = np.lexsort((_days(when), acc))
    acc, when = acc[order], when[order]
    # Churned accounts sour in the months before they leave.
    souring = a.churned[acc] & ((_days(a.end[acc]) - _days(when)) < 270)
    mu = mu_acc[acc] - 1.5 * souring
    score = np.clip(np.round(rng.normal(mu, 1.7)), 0, 10).astype(np.int64)
    comments: list[str | None] = []
    draw = _Draws(rng)
    locales = [_LOCALES[k][0] for k in a.loc]
    for j, kind in enumerate(rng.random(len(acc)).tolist()):
        if kind < 0.45:
            cat = "promoter" if score[j] >= 9 else "passive" if score[j] >= 7 else "detractor"
            local = vocab.LOCAL_COMMENTS.get(locales[acc[j]], {}).get(cat)
            comments.append(draw.pick(local if local and draw.u() < 0.5 else vocab.COMMENTS[cat]))
        else:
            comments.append("" if kind < 0.53 else None)
    return pd.DataFrame(
        {
            "account_id": np.asarray(a.ids, dtype=object)[acc],
            "responded_at": _dates(when),
            "score": score,
            "comment": pd.Series(comments, dtype=object),
        }
    )


def _make_tickets(a: _Accounts, arr: _Arr, seed: int, as_of: date) -> pd.DataFrame:
    rng = _rng(seed, "tickets")
    acc_m, k, _ = _group_positions(arr.months)
    month = _month_start(_month_index(a.start)[acc_m] + k)
    lam = np.asarray(_TICKETS_PER_MONTH)[a.seg[acc_m]] * (1.5 - a.health[acc_m])
    count = rng.poisson(lam)
    if (i := a.index(NO_REVIEWS_NO_TICKETS)) is not None:
        count[acc_m == i] = 0
    acc = np.repeat(acc_m, count)
    base = np.repeat(month, count)
    t = len(acc)
    second = (_days(base) * 86400 + rng.integers(0, 31, t) * 86400
              + rng.integers(8 * 3600, 18 * 3600, t))
    opened = second.astype("datetime64[s]")
    end_s = (_days(np.minimum(a.end[acc], np.datetime64(as_of, "D") + 1)) * 86400) \
        .astype("datetime64[s]")
    keep = (opened >= a.start[acc].astype("datetime64[s]")) & (opened < end_s)
    acc, opened, end_s = acc[keep], opened[keep], end_s[keep]
    order = np.lexsort((opened.astype(np.int64), acc))
    acc, opened, end_s = acc[order], opened[order], end_s[order]
    t = len(acc)
    sev = rng.choice(4, size=t, p=[0.45, 0.35, 0.15, 0.05])
    median_h = np.array([96.0, 48.0, 20.0, 6.0])[sev]
    hours = median_h * np.exp(rng.normal(0, 0.8, t))
    resolved = opened + np.round(hours * 3600).astype("timedelta64[s]")
    as_of_end = (np.datetime64(as_of, "D") + 1).astype("datetime64[s]")
    open_now = (resolved >= as_of_end) | (rng.random(t) < 0.015)
    resolved = np.where(open_now, np.datetime64("NaT", "s"), resolved)
    answered = (rng.random(t) < 0.55) & ~open_now
    mu = 2.4 + 2.6 * a.health[acc] - 0.35 * np.log(hours / median_h)
    csat = np.clip(np.round(rng.normal(mu, 0.8)), 1, 5)
    return pd.DataFrame(
        {
            "account_id": np.asarray(a.ids, dtype=object)[acc],
            "opened_at": pd.Series(opened),
            "resolved_at": pd.Series(resolved),
            "severity": np.asarray(("low", "medium", "high", "critical"), dtype=object)[sev],
            "csat": pd.array(np.where(answered, csat, np.nan), dtype="Int64"),
        }
    )


def _make_reviews(a: _Accounts, seed: int, as_of: date) -> pd.DataFrame:
    rng = _rng(seed, "reviews")
    n = len(a.ids)
    pool = [i for i in range(n) if a.ids[i] not in (NO_REVIEWS_NO_TICKETS, BRAND_NEW)]
    chosen = np.sort(rng.choice(pool, size=min(len(pool), round(0.3 * n)), replace=False))
    count = 1 + rng.poisson(1.5, len(chosen))
    acc = np.repeat(chosen, count)
    last = _days(np.minimum(a.end[acc] - np.timedelta64(1, "D"), np.datetime64(as_of, "D")))
    first = _days(a.start[acc])
    when = (first + (rng.random(len(acc)) * (last - first + 1)).astype(np.int64))
    order = np.lexsort((when, acc))
    acc, when = acc[order], when[order].astype("datetime64[D]")
    rating = np.clip(np.round(rng.normal(1.5 + 3.5 * a.health[acc], 0.9)), 1, 5).astype(np.int64)
    positive = (rating >= 4) | ((rating == 3) & (rng.random(len(acc)) < 0.5))
    resolved = ~positive & (rng.random(len(acc)) < 0.5)
    return pd.DataFrame(
        {
            "account_id": np.asarray(a.ids, dtype=object)[acc],
            "posted_at": _dates(when),
            "rating": rating,
            "sentiment": np.where(positive, "positive", "negative").astype(object),
            "resolved": resolved.astype(bool),
        }
    )


# -- success plan --------------------------------------------------------------------------


def _make_plan(a: _Accounts, drivers: pd.DataFrame, seed: int, as_of: date) -> pd.DataFrame:
    draw = _Draws(_rng(seed, "plan"))
    as_of_d = int(_days(np.datetime64(as_of, "D")))
    next_q = _quarter_of(as_of_d) + 1
    lcq = _latest_complete_quarter(as_of)
    v1 = drivers[drivers["baseline_version"] == 1]
    own: dict[str, list[str]] = {}
    for account_id, name, unit, target in zip(v1["account_id"], v1["name"], v1["unit"],
                                              v1["target"], strict=True):
        goal = f"{target:g}%" if unit == "%" else f"{target:g} {unit}"
        own.setdefault(account_id, []).append(f"Bring {name[0].lower() + name[1:]} to {goal}")
    start_d = _days(a.start).tolist()
    end_d = _days(a.end).tolist()
    renewal_q = (_month_index(a.frame["renewal_date"].to_numpy()) // 3).tolist()
    cols: dict[str, list] = {c: [] for c in schema.TABLES["success_plan"].column_names}
    for i, account_id in enumerate(a.ids):
        churned = bool(a.churned[i])
        h = float(a.health[i])
        q0 = _quarter_of(start_d[i])
        q1 = _quarter_of(end_d[i] - 1) if churned else next_q
        for q in range(q0, q1 + 1):
            q_first, q_last = _quarter_bounds(q)
            goals: list[str] = []
            if q == q0:
                goals.append("Complete onboarding and go live")
            if q == renewal_q[i] and not churned:
                goals.append("Agree renewal scope and timeline")
            if account_id in own and draw.u() < 0.5:
                goals.append(draw.pick(own[account_id]))
            wanted = draw.integer(2, 5)
            templates = sorted(range(len(vocab.GOALS)), key=lambda _: draw.u())
            for t in templates[: max(0, wanted - len(goals))]:
                goals.append(vocab.GOALS[t].format(
                    feature=draw.pick(FEATURES[1:]), team=draw.pick(vocab.TEAMS),
                    pct=draw.integer(6, 10) * 10, n=draw.integer(2, 6),
                    system=draw.pick(vocab.SYSTEMS), role=draw.pick(vocab.ROLES),
                ))
            goals = goals[:4]
            # At most one internal note per account and quarter, on one of its goals.
            noted = draw.integer(0, len(goals)) if draw.u() < 0.45 else -1
            lo = q_first + 14 if q != q0 else min(start_d[i] + 14, q_last)
            for g, goal in enumerate(goals):
                due = draw.integer(lo, q_last + 1)
                weekday = (due + 3) % 7
                if weekday > 4 and due - (weekday - 4) >= lo:
                    due -= weekday - 4  # the Friday before a weekend
                u = draw.u()
                if churned and due >= end_d[i]:
                    status = "not_available"
                elif due <= as_of_d:
                    status = ("completed" if u < 0.5 + 0.4 * h
                              else "not_available" if u > 0.96 else "overdue")
                elif q == next_q:
                    status = "in_progress" if u < 0.6 else "not_available"
                else:
                    status = ("completed" if u < 0.15 else "in_progress" if u < 0.9
                              else "not_available")
                owner = a.csm[i] if draw.u() < 0.35 else draw.pick(vocab.OWNERS)
                note = None
                leaving = churned and end_d[i] - due < 200
                if g == noted:
                    note = draw.pick(
                        vocab.NOTES_RISK if leaving or draw.u() > h else vocab.NOTES_GOOD)
                if account_id == CHURNED_IN_QUARTER and q == lcq:
                    note = "Champion left in August; exec sponsor unconfirmed" if g == 0 else None
                for c, v in zip(cols, (account_id, _quarter_label(q), goal, owner, due, status,
                                       note), strict=True):
                    cols[c].append(v)
    plan = pd.DataFrame({c: v for c, v in cols.items() if c not in ("due_date", "internal_note")})
    plan.insert(4, "due_date", _dates(np.array(cols["due_date"], dtype="datetime64[D]")))
    plan["internal_note"] = pd.Series(cols["internal_note"], dtype=object)
    return plan


# -- public API ----------------------------------------------------------------------------


def generate(accounts: int = 120, seed: int = 7,
             as_of: date = DEFAULT_AS_OF) -> dict[str, pd.DataFrame]:
    """Build every contract table for `accounts` fictitious accounts, as of `as_of`.

    Deterministic: the same arguments give identical tables. Hard cases (`HARD_CASES`) sit at
    fixed ids whenever `accounts` reaches them.
    """
    if accounts < 1:
        raise ValueError(f"accounts must be at least 1, got {accounts}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    a = _make_accounts(int(accounts), int(seed), as_of)
    arr = _make_arr(a, seed)
    drivers, measurements = _make_value(a, arr, seed, as_of)
    return {
        "accounts": a.frame,
        "arr_history": arr.frame,
        "value_drivers": drivers,
        "value_measurements": measurements,
        "usage": _make_usage(a, arr, seed, as_of),
        "nps_responses": _make_nps(a, seed, as_of),
        "support_tickets": _make_tickets(a, arr, seed, as_of),
        "online_reviews": _make_reviews(a, seed, as_of),
        "success_plan": _make_plan(a, drivers, seed, as_of),
    }


def write(wh: Warehouse, tables: dict[str, pd.DataFrame]) -> None:
    """Create or replace each table in `wh`, typed by the contract (`schema.TABLES`)."""
    for name, df in tables.items():
        wh.write_table(name, df)


def billing_only(accounts: int = 1000, *, months: int = 72, last_month: date = date(2026, 9, 1),
                 segments: int = 3, csms: int = 12, seed: int = 7,
                 dense: bool = False) -> dict[str, pd.DataFrame]:
    """A billing-only warehouse: `accounts` and monthly `arr_history`, no other table.

    Shaped like a team's billing export, to try reviews on data of any shape: start months
    spread evenly over the `months` months that end with `last_month` (so the portfolio has
    about months / 3 start-quarter cohorts), `segments` segments and `csms` CSMs, each account
    churning with a small monthly hazard and expanding at some anniversaries. `dense` writes a
    row for every account and every one of the `months` months (ARR 0 before the start and
    after churn), as a dense monthly export does. Deterministic for equal arguments.
    """
    if accounts < 1 or months < 1 or segments < 1 or csms < 1:
        raise ValueError("accounts, months, segments and csms must each be at least 1")
    if last_month.day != 1:
        raise ValueError(f"last_month must be the first day of a month, got {last_month}")
    rng = np.random.default_rng([seed, 0xB111])
    n = int(accounts)
    end_mi = last_month.year * 12 + last_month.month - 1
    first_mi = end_mi - months + 1
    start_mi = first_mi + (np.arange(n) * months) // n
    start_day = 1 + rng.integers(0, 28, n)
    seg = rng.integers(0, segments, n)
    csm = rng.integers(0, csms, n)
    base = np.round(rng.lognormal(np.log(2_000.0) + 0.9 * (seg % 3), 0.5, n) / 10) * 10
    # Months as a customer: a geometric draw per account (about 1.5% leave each month).
    life = rng.geometric(0.015, n)
    churn_mi = start_mi + life
    churned = churn_mi <= end_mi
    width = len(str(n))
    ids = [f"B-{i + 1:0{width}d}" for i in range(n)]

    def first_days(mi: np.ndarray) -> list[date]:
        return [date(int(m) // 12, int(m) % 12 + 1, 1) for m in mi]

    starts = [d.replace(day=int(k)) for d, k in zip(first_days(start_mi), start_day,
                                                   strict=True)]
    renew_years = np.maximum((end_mi - start_mi) // 12 + 1, 1)
    renewals = [_anniversary(s, s.year + int(y)) for s, y in zip(starts, renew_years,
                                                                 strict=True)]
    churn_dates = [d if c else None for d, c in zip(first_days(churn_mi), churned, strict=True)]
    frame = pd.DataFrame({
        "account_id": ids,
        "name": [f"Customer {i + 1:0{width}d}" for i in range(n)],
        "segment": [f"Segment {s + 1:03d}" if segments > 3 else SEGMENTS[s] for s in seg],
        "industry": [INDUSTRIES[i % len(INDUSTRIES)] for i in range(n)],
        "region": "EMEA",
        "csm": [f"CSM {c + 1:03d}" for c in csm],
        "currency": "USD",
        "locale": "en-US",
        "start_date": starts,
        "renewal_date": [c if c is not None else r for c, r in zip(churn_dates, renewals,
                                                                   strict=True)],
        "churn_date": churn_dates,
    })
    stop = np.minimum(churn_mi, end_mi + 1)  # first month without ARR
    lo = np.full(n, first_mi) if dense else start_mi
    hi = np.full(n, end_mi + 1) if dense else stop
    counts = np.maximum(hi - lo, 0)
    acc = np.repeat(np.arange(n), counts)
    mi = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts,
                                                                     counts))
    years_in = (mi - start_mi[acc]) // 12
    grow = rng.choice([0.9, 1.0, 1.0, 1.1, 1.2], size=(n, months // 12 + 2))
    factor = np.cumprod(grow, axis=1)[acc, np.clip(years_in, 0, grow.shape[1] - 1)]
    live = (mi >= start_mi[acc]) & (mi < stop[acc])
    arr = np.where(live, np.round(base[acc] * factor / 10) * 10 * 12, 0.0)
    history = pd.DataFrame({
        "account_id": np.asarray(ids, dtype=object)[acc],
        "month": pd.to_datetime(pd.DataFrame({"year": mi // 12, "month": mi % 12 + 1,
                                              "day": 1})),
        "arr": arr.astype(float),
    })
    return {"accounts": frame, "arr_history": history}
