"""Benchmarks: each prints ratios measured side by side in one run. Not tests.

`bash scripts/bench.sh` (or `make bench`) runs every module of BENCHMARKS in order;
one alone: `.venv/bin/python -m bench.nesting`. See bench/README.md.
"""

# Run by scripts/bench.sh in this order; each is a module `bench.<name>` with a `main()`.
BENCHMARKS = [
    "nesting",
    "overhead",
    "one_request",
    "latency",
    "fanout",
    "pipeline",
]
