"""Benchmark scripts (run by hand; not part of the test suite). See bench/RESULTS.md."""
