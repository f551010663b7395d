"""Benchmarks at national scale (issue #8): a data generator and the hot paths measured against
baselines taken in the same run. See docs/performance.md."""
