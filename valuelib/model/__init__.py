"""Review figures computed from bundles with `valuelib.metrics`: the compute half of a review.

Like ydata-profiling's `model/`, this package computes and never draws or formats; the
notebooks present what it returns. `account.build` gives a value review's figures,
`portfolio.build` the portfolio review's.
"""
