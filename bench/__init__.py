"""The benchmarks (``make bench``: bench/evaluate.py). See bench/README.md."""
