"""Benchmarks: speed and scale, measured (issue 6). Run with `make bench` (`python -m bench`).

Every speed is reported beside a baseline measured in the same run and process, as a ratio;
the numbers are medians of repeats, timed with `time.perf_counter`. These are not tests:
`tests/test_bench.py` only checks that the suite runs on a tiny size.
"""
