"""The product's settings plus the benchmark URLconf (bench/urls.py); nothing else changes.

Only benchmark processes use it (DJANGO_SETTINGS_MODULE=bench.settings, set by bench/common.py).
"""

from backend.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
