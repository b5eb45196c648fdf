"""The product's settings plus the benchmark URLconf (bench/urls.py); nothing else changes.

Only benchmark processes use it (DJANGO_SETTINGS_MODULE=bench.settings, set by bench/common.py).
"""

from backend.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The benchmarks measure the endpoint's speed, not its limits: a page of 20 fully nested
# compositions costs ~8,800 points, over the public maximum of 1,000.
CODA_MAX_QUERY_COST = 10**9
CODA_RATE_LIMIT = False
# The benchmark user makes many compositions at once.
CODA_MAX_CONCURRENT_COMPOSITIONS = 10**6
CODA_COMPOSITIONS_PER_HOUR = 10**6
