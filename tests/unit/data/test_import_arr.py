"""ARR history from billing lines (valuelib.data.ingest.arr): month-end snapshots, and where new,
expansion, contraction and churn fall. The worked example of docs/import.md is the first test."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from valuelib.data.ingest.arr import (
    annual_value,
    invoice_arr,
    month_movements,
    months_covered,
    subscription_arr,
)

D = date


def subs(*rows: tuple) -> pd.DataFrame:
    """Subscription lines: (account, start, end, amount, interval[, quantity])."""
    out = []
    for r in rows:
        a, s, e, amount, interval, *rest = r
        out.append({"account_id": a, "start": s, "end": e, "amount": amount,
                    "interval": interval, "quantity": rest[0] if rest else None})
    return pd.DataFrame(out)


def invoices(*rows: tuple) -> pd.DataFrame:
    """Invoice lines: (account, amount, period_start, period_end)."""
    return pd.DataFrame([{"account_id": a, "amount": x, "period_start": s, "period_end": e}
                         for a, x, s, e in rows])


def series(history: pd.DataFrame, account: str = "A") -> dict[str, float]:
    h = history[history["account_id"] == account]
    return {m.strftime("%Y-%m"): v for m, v in zip(h["month"], h["arr"], strict=True)}


def moves(history: pd.DataFrame, last: date, account: str = "A") -> dict[str, str]:
    m = month_movements(history, last)
    m = m[m["account_id"] == account]
    return {d.strftime("%Y-%m"): k for d, k in zip(m["month"], m["movement"], strict=True)}


def test_worked_example_of_the_docs():
    """docs/import.md, "Worked example": one customer over eight months."""
    lines = subs(
        ("A", D(2026, 1, 15), D(2026, 3, 15), 1000, "month", 1),  # starts mid-January
        ("A", D(2026, 3, 15), D(2026, 5, 20), 1000, "month", 2),  # upgrade to 2 seats
        ("A", D(2026, 4, 1), None, 1200, "year"),                 # an add-on, overlapping
        ("A", D(2026, 7, 10), None, 1500, "month"),               # a second product
    )
    h = subscription_arr(lines, D(2026, 8, 31))
    assert series(h) == {"2026-01": 12000.0, "2026-02": 12000.0, "2026-03": 24000.0,
                         "2026-04": 25200.0, "2026-05": 1200.0, "2026-06": 1200.0,
                         "2026-07": 19200.0, "2026-08": 19200.0}
    assert moves(h, D(2026, 8, 1)) == {
        "2026-01": "new", "2026-02": "flat", "2026-03": "expansion", "2026-04": "expansion",
        "2026-05": "contraction", "2026-06": "flat", "2026-07": "expansion",
        "2026-08": "flat"}


def test_line_ending_mid_month_churns_in_that_month():
    h = subscription_arr(subs(("A", D(2026, 1, 1), D(2026, 3, 20), 500, "month")),
                         D(2026, 6, 30))
    assert series(h) == {"2026-01": 6000.0, "2026-02": 6000.0}
    assert moves(h, D(2026, 4, 1)) == {"2026-01": "new", "2026-02": "flat", "2026-03": "churn"}


def test_line_ending_on_the_first_of_a_month_counts_through_the_month_before():
    h = subscription_arr(subs(("A", D(2026, 1, 1), D(2026, 4, 1), 500, "month")),
                         D(2026, 6, 30))
    assert list(series(h)) == ["2026-01", "2026-02", "2026-03"]
    assert moves(h, D(2026, 4, 1))["2026-04"] == "churn"


def test_upgrade_is_expansion_in_the_month_of_the_change():
    h = subscription_arr(subs(("A", D(2026, 1, 1), D(2026, 2, 10), 100, "month", 10),
                              ("A", D(2026, 2, 10), None, 100, "month", 15)), D(2026, 3, 31))
    assert series(h) == {"2026-01": 12000.0, "2026-02": 18000.0, "2026-03": 18000.0}
    assert moves(h, D(2026, 3, 1))["2026-02"] == "expansion"


def test_downgrade_is_contraction():
    h = subscription_arr(subs(("A", D(2026, 1, 1), D(2026, 2, 10), 20000, "year"),
                              ("A", D(2026, 2, 10), None, 15000, "year")), D(2026, 3, 31))
    assert series(h)["2026-02"] == 15000.0
    assert moves(h, D(2026, 3, 1))["2026-02"] == "contraction"


def test_overlapping_lines_add_up():
    h = subscription_arr(subs(("A", D(2026, 1, 1), None, 100, "month"),
                              ("A", D(2026, 1, 1), None, 2400, "year"),
                              ("B", D(2026, 1, 5), None, 50, "month", 3)), D(2026, 1, 31))
    assert series(h) == {"2026-01": 3600.0}
    assert series(h, "B") == {"2026-01": 1800.0}


def test_gap_and_return_counts_as_new_again():
    h = subscription_arr(subs(("A", D(2025, 11, 1), D(2026, 1, 10), 100, "month"),
                              ("A", D(2026, 4, 2), None, 120, "month")), D(2026, 5, 31))
    assert series(h) == {"2025-11": 1200.0, "2025-12": 1200.0, "2026-01": 0.0,
                         "2026-02": 0.0, "2026-03": 0.0, "2026-04": 1440.0, "2026-05": 1440.0}
    assert moves(h, D(2026, 5, 1)) == {
        "2025-11": "new", "2025-12": "flat", "2026-01": "churn", "2026-04": "new",
        "2026-05": "flat"}


def test_refund_credit_line_cancels_its_period():
    """Monthly invoices of 1,000; March is refunded in full, April half credited."""
    lines = invoices(("A", 1000, D(2026, 1, 1), D(2026, 2, 1)),
                     ("A", 1000, D(2026, 2, 1), D(2026, 3, 1)),
                     ("A", 1000, D(2026, 3, 1), D(2026, 4, 1)),
                     ("A", -1000, D(2026, 3, 1), D(2026, 4, 1)),  # refund of March
                     ("A", 1000, D(2026, 4, 1), D(2026, 5, 1)),
                     ("A", -500, D(2026, 4, 1), D(2026, 5, 1)),   # credit note
                     ("A", 1000, D(2026, 5, 1), D(2026, 6, 1)))
    h = invoice_arr(lines, D(2026, 5, 31))
    assert series(h) == {"2026-01": 12000.0, "2026-02": 12000.0, "2026-03": 0.0,
                         "2026-04": 6000.0, "2026-05": 12000.0}
    assert moves(h, D(2026, 5, 1))["2026-03"] == "churn"
    assert moves(h, D(2026, 5, 1))["2026-04"] == "new"


def test_credit_beyond_charges_counts_as_zero():
    h = invoice_arr(invoices(("A", 100, D(2026, 1, 1), D(2026, 3, 1)),
                             ("A", 1000, D(2026, 2, 1), D(2026, 3, 1)),
                             ("A", -3000, D(2026, 2, 1), D(2026, 3, 1))), D(2026, 2, 28))
    assert series(h) == {"2026-01": 600.0}


def test_annual_invoice_spreads_over_its_year_and_churns_after_it():
    h = invoice_arr(invoices(("A", 24000, D(2025, 9, 15), D(2026, 9, 15))), D(2026, 12, 31))
    s = series(h)
    assert list(s) == [f"{y}-{m:02d}" for y, m in
                       [(2025, 9), (2025, 10), (2025, 11), (2025, 12)]
                       + [(2026, m) for m in range(1, 9)]]
    assert set(s.values()) == {24000.0}
    assert moves(h, D(2026, 12, 1))["2026-09"] == "churn"


def test_proration_lines_of_an_upgrade_net_to_the_new_price():
    """Old plan 1,000 a month from 5 March; on 15 March the unused 21 days are credited and
    the new plan of 2,000 a month charged for them."""
    old, new = 1000 * 21 / 31, 2000 * 21 / 31
    h = invoice_arr(invoices(("A", 1000, D(2026, 3, 5), D(2026, 4, 5)),
                             ("A", -old, D(2026, 3, 15), D(2026, 4, 5)),
                             ("A", new, D(2026, 3, 15), D(2026, 4, 5))), D(2026, 3, 31))
    assert series(h) == {"2026-03": 24000.0}


def test_last_month_is_taken_on_the_as_of_date():
    h = subscription_arr(subs(("A", D(2026, 1, 1), D(2026, 3, 20), 100, "month"),
                              ("B", D(2026, 3, 25), None, 100, "month")), D(2026, 3, 10))
    assert series(h) == {"2026-01": 1200.0, "2026-02": 1200.0, "2026-03": 1200.0}
    assert series(h, "B") == {}


def test_annual_value_and_months_covered():
    assert annual_value(100, "month", quantity=3) == 3600.0
    assert annual_value(900, "quarter") == 3600.0
    assert annual_value(7200, "year", interval_count=2) == 3600.0
    assert months_covered(D(2026, 1, 5), D(2026, 2, 5)) == 1.0
    assert months_covered(D(2026, 1, 31), D(2026, 2, 28)) == pytest.approx(28 / 31)
    assert months_covered(D(2026, 3, 15), D(2026, 3, 30)) == pytest.approx(15 / 31)
    assert months_covered(D(2025, 9, 15), D(2026, 9, 15)) == 12.0
    with pytest.raises(ValueError, match="interval"):
        annual_value(1, "fortnight")
    with pytest.raises(ValueError, match="end after"):
        months_covered(D(2026, 2, 1), D(2026, 2, 1))
