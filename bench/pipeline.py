"""Pipeline speed: wall time per stage for 30, 60 and 120 s songs, the real-time factor,
and throughput with one and with two Celery workers.

    .venv/bin/python -m bench.pipeline

Needs PostgreSQL and Redis (scripts/services.sh finds or starts them). Result reuse is off
(CODA_REUSE_RESULTS=false): every composition is really computed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = ".venv/bin/python -m bench.pipeline"
PROMPT = "uplifting electronic music with dreamy vocals"
AIM_RTF = 20.0
AIM_SCALING = 1.8
THROUGHPUT_SONGS = 4
THROUGHPUT_SECONDS = 30


def services() -> dict[str, str]:
    root = Path(__file__).resolve().parents[1]
    lines = subprocess.run(
        ["bash", "scripts/services.sh"], cwd=root, capture_output=True, text=True, check=True
    )
    return dict(line.split("=", 1) for line in lines.stdout.split())


def verdict(ok: bool) -> str:
    return "meets the aim" if ok else "MISSES the aim"


def main() -> None:
    urls = services()
    from tests.integration.live import LiveStack, scratch_database

    with scratch_database(urls["DATABASE_URL"]) as database_url, tempfile.TemporaryDirectory() as scratch:
        os.environ.update(
            DATABASE_URL=database_url,
            REDIS_URL=urls["REDIS_URL"].rsplit("/", 1)[0] + "/6",
            CODA_PIPELINE="sync",
            CODA_REUSE_RESULTS="false",
            CODA_MEDIA_ROOT=str(Path(scratch) / "media"),
            DJANGO_SETTINGS_MODULE="backend.settings",
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        per_stage(scratch)
        throughput(LiveStack, database_url, Path(scratch))


def per_stage(scratch: str) -> None:
    from modules.composition.models import Composition
    from modules.composition.pipeline import run_inline
    from modules.composition.services import composition_create

    print(f"\n== pipeline speed per stage (in-process, one composition at a time) — {COMMAND}")
    header = f"{'song':>6} " + " ".join(
        f"{n:>11}" for n in ("mood", "genre", "arrangement", "lyrics", "voice", "mastering")
    )
    print(header + f" {'total':>7} {'real-time':>10}")
    for seconds in (30, 60, 120):
        composition = composition_create(prompt=PROMPT, seed=seconds, duration_seconds=seconds, start=False)
        started = time.perf_counter()
        status = run_inline(composition.pk)
        wall = time.perf_counter() - started
        composition = Composition.objects.get(pk=composition.pk)
        assert status == "SUCCEEDED", composition.error
        times = [(s.finished_at - s.started_at).total_seconds() for s in composition.stages.all()]
        audio = composition.master.duration_seconds
        rtf = audio / wall
        print(f"{seconds:>5}s " + " ".join(f"{t:>10.2f}s" for t in times) + f" {wall:>6.2f}s {rtf:>9.1f}x")
        if seconds == 60:
            print(
                f"   real-time factor of a 60 s song: {rtf:.1f}x "
                f"(aim ≥ {AIM_RTF:g}x): {verdict(rtf >= AIM_RTF)}"
            )


def throughput(stack_class: type, database_url: str, scratch: Path) -> None:
    from modules.composition.models import Composition
    from modules.composition.services import composition_create

    print(f"\n== throughput: {THROUGHPUT_SONGS} songs of {THROUGHPUT_SECONDS} s through Celery — {COMMAND}")
    stack = stack_class(database_url, os.environ["REDIS_URL"], scratch / "media")
    stack.logs = scratch
    # One thread per worker: with as many workers as cores they would otherwise compete.
    stack.extra_env = {"CODA_REUSE_RESULTS": "false", "CODA_RENDER_THREADS": "1"}
    os.environ["CODA_PIPELINE"] = "celery"
    from django.conf import settings

    settings.CODA_PIPELINE = "celery"
    rates: dict[int, float] = {}
    try:
        for workers in (1, 2):
            while len([n for n in stack.processes if n.startswith("worker")]) < workers:
                stack.start_worker(f"worker{len(stack.processes)}")
            time.sleep(3)  # let the workers connect before the clock starts
            started = time.perf_counter()
            ids = [
                composition_create(
                    prompt=PROMPT, seed=1000 * workers + i, duration_seconds=THROUGHPUT_SECONDS
                ).pk
                for i in range(THROUGHPUT_SONGS)
            ]
            while Composition.objects.filter(pk__in=ids, status__in=["QUEUED", "RUNNING"]).exists():
                time.sleep(0.2)
            wall = time.perf_counter() - started
            failed = Composition.objects.filter(pk__in=ids).exclude(status="SUCCEEDED").count()
            rates[workers] = THROUGHPUT_SONGS / wall * 60
            print(
                f"   {workers} worker(s): {rates[workers]:.2f} compositions/minute "
                f"({wall:.1f} s, {failed} failed)"
            )
    finally:
        stack.stop()
    ratio = rates[2] / rates[1]
    print(f"   2 workers / 1 worker: {ratio:.2f} (aim ≥ {AIM_SCALING:g}): {verdict(ratio >= AIM_SCALING)}")
    print(f"   (machine: {os.cpu_count()} cores; workers run with CODA_RENDER_THREADS=1)")


if __name__ == "__main__":
    sys.exit(main())
