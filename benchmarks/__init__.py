"""Runnable benchmarks: ``python -m benchmarks.<name>``; each prints medians and ratios."""
