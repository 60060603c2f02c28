"""Tests for benchmarks.bench's repeated runs (`make bench` passes --repeat 3): the run of
median C is recorded with the B of that same run, and the notes name every run."""

from __future__ import annotations

from benchmarks import bench


def _run(floor: float, render: float, *, failed: bool = False) -> dict[str, bench.Phase]:
    return {"floor": bench.Phase("floor", "B", floor, 40, 40, 1.0),
            "render": bench.Phase("render", "C", render, 40, 40, 1.0,
                                  failures=["1 accounts not rendered"] if failed else [])}


def test_the_median_c_is_recorded_with_its_own_b():
    runs = [_run(25.2, 38.1), _run(24.8, 35.4), _run(29.5, 33.8)]
    chosen, note = bench.median_run(runs)
    assert chosen == 1
    assert runs[chosen]["floor"].seconds == 24.8  # not the median B (25.2)
    assert note == ("3 alternating runs of B and C (floor 25.2 / 24.8 / 29.5 s, "
                    "render 38.1 / 35.4 / 33.8 s); recorded: run 2, the median C")


def test_an_even_count_takes_the_lower_middle_and_one_run_needs_no_note():
    chosen, _ = bench.median_run([_run(1, 40.0), _run(1, 30.0), _run(1, 20.0), _run(1, 50.0)])
    assert chosen == 1  # 30.0 of 20 / 30 / 40 / 50
    assert bench.median_run([_run(1, 9.0)]) == (0, "")


def test_a_failed_run_that_is_not_recorded_is_still_named():
    _, note = bench.median_run([_run(1, 30.0, failed=True), _run(1, 20.0), _run(1, 25.0)])
    assert note.endswith("recorded: run 3, the median C; run 1 render FAILED")


def test_repeat_below_one_exits_2(capsys):
    assert bench.main(["--repeat", "0", "--no-record"]) == 2
    assert "--repeat must be at least 1" in capsys.readouterr().err
