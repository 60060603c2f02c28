"""Benchmarks of valuereview (run `make bench`; see benchmarks/bench.py)."""
