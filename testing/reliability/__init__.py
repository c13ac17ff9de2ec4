"""The reliability engine (docs/reliability.md) behind tests/reliability and
bench/reliability_*.py: real processes, the paths driven through them, and the API fuzzer."""
