"""Benchmarks of the platform (``make bench``). Each figure is reported next to a raw baseline
measured in the same run on the same servers, and as a ratio to it; results are written under
``bench/results/``. Tests never assert on timings; these numbers are for people."""
