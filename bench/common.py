"""What every benchmark shares: a scratch PostgreSQL database (migrated), seeded compositions
with every element, a Daphne process on a free port, a keep-alive HTTP load client, percentiles
and the printing of figures against their aims.

Benchmarks are not tests: they print figures (ratios measured side by side in one run), the
exact command that produced them, and say plainly when a figure misses its aim.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from tests.integration.live import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SETTINGS = "bench.settings"


# --- figures -----------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: str
    aim: str | None
    ok: bool | None


FIGURES: list[Figure] = []


def command() -> str:
    """The command line that is running now, as one would type it from the repository root."""
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    target = ["-m", spec.name] if spec is not None else [os.path.relpath(sys.argv[0], ROOT)]
    return shlex.join([python, *target, *sys.argv[1:]])


def header(title: str, what: str) -> None:
    print(f"\n== {title}")
    print(f"   {what}")
    print(f"   command: {command()}")
    print(
        f"   machine: {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the start), "
        f"Python {platform.python_version()}, PostgreSQL {os.environ.get('BENCH_DB_SERVER', '?')}"
    )


def report(name: str, value: object, aim: str | None = None, ok: bool | None = None) -> Figure:
    """Print one figure; with an aim, say whether it is met (MISSED, plainly, when it is not)."""
    text = value if isinstance(value, str) else fmt(value)
    figure = Figure(name, text, aim, ok)
    FIGURES.append(figure)
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    line = f"   {name:<58} {text:>14}"
    if aim:
        line += f"   aim {aim:<14} {verdict}"
    print(line, flush=True)
    return figure


def note(text: str) -> None:
    print(f"   - {text}", flush=True)


def missed() -> list[Figure]:
    return [f for f in FIGURES if f.ok is False]


def finish() -> int:
    """Print the verdict; the exit status stays 0 (a benchmark informs, it does not gate)."""
    misses = missed()
    if misses:
        listed = "; ".join(f"{f.name} = {f.value} (aim {f.aim})" for f in misses)
        print(f"   MISSED {len(misses)} aim(s): {listed}")
    else:
        print("   every aim met")
    return 0


def fmt(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return percentile(values, 50)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- services and the scratch database ----------------------------------------------------------


def services() -> dict[str, str]:
    """DATABASE_URL (a PostgreSQL server) and REDIS_URL: from the environment when set
    (scripts/bench.sh exports them), else from scripts/services.sh as the tests get them."""
    found = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if os.environ.get(k)}
    if not found.get("DATABASE_URL", "").startswith("postgres"):
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / "services.sh")], capture_output=True, text=True, check=True
        ).stdout
        found = dict(line.split("=", 1) for line in out.split() if "=" in line)
    return found


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on that PostgreSQL server, dropped afterwards."""
    import psycopg

    name = f"coda_bench_{uuid.uuid4().hex[:10]}"
    parsed = urlparse(server_url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["BENCH_DB_SERVER"] = str(conn.info.server_version // 10000)
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    """The environment of one benchmark run: its database, media directory and settings."""

    env: dict[str, str]
    tmp: Path
    daphnes: list[subprocess.Popen] = field(default_factory=list)
    pids: dict[int, int] = field(default_factory=dict)  # Daphne's port -> its pid


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    """A scratch PostgreSQL database, migrated, with Django set up in this process on the bench
    settings (backend.settings plus the bench URLconf); everything removed afterwards."""
    found = services()
    tmp = Path(tempfile.mkdtemp(prefix="coda-bench-"))
    try:
        with scratch_database(found["DATABASE_URL"]) as url:
            env = {
                "DATABASE_URL": url,
                "CODA_MEDIA_ROOT": str(tmp / "media"),
                "CODA_DATA_DIR": str(tmp / "data"),
                "DJANGO_SETTINGS_MODULE": SETTINGS,
                "DJANGO_DEBUG": "false",  # production-like: no query log in the server
                "CODA_PIPELINE": "sync",  # nothing is composed here; never reach for Celery
                "LOG_LEVEL": "WARNING",
            }
            if found.get("REDIS_URL"):
                env["REDIS_URL"] = found["REDIS_URL"]
            os.environ.update(env)
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            bench = Stack(env=env, tmp=tmp)
            try:
                yield bench
            finally:
                for process in bench.daphnes:
                    stop(process)
                from django.db import connections

                connections.close_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unsigned(answer: Any) -> Any:
    """An answer with its signed file links' signatures (which carry the second of signing) blanked."""
    return json.loads(re.sub(r"/files/[^/]+/", "/files/<signed>/", json.dumps(answer)))


# --- who asks: compositions are private to their owner, so the benchmarks own theirs --------------

BENCH_USER = "bench"
_AUTHORIZATION: dict[str, str] = {}  # database URL -> "Bearer <token>"


def bench_owner() -> Any:
    """The user every benchmark composition belongs to."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username=BENCH_USER)[0]


def bench_authorization() -> str:
    """`Bearer <token>` of the bench user (read and compose), made once per database; child
    processes get it in CODA_BENCH_AUTHORIZATION."""
    inherited = os.environ.get("CODA_BENCH_AUTHORIZATION")
    database = os.environ.get("DATABASE_URL", "")
    if inherited and database not in _AUTHORIZATION:
        return inherited
    if database not in _AUTHORIZATION:
        from modules.accounts.tokens import token_create

        _, raw = token_create(bench_owner(), name="bench", scopes=["read", "compose"])
        _AUTHORIZATION[database] = f"Bearer {raw}"
        os.environ["CODA_BENCH_AUTHORIZATION"] = _AUTHORIZATION[database]
    return _AUTHORIZATION[database]


# --- seeding -----------------------------------------------------------------------------------

# The shape of a real 60 s song ("uplifting electronic music with dreamy vocals", seed 7, made by
# `manage.py compose`): 4 sections, 5 layers with these note counts, 12 lyric lines of 90
# syllables, a 90-note vocal line with a 39-note harmony, 21 files, a 17 KB context.
SONG_LAYERS = [("drums", 584, 0, True), ("bass", 204, 38, False), ("chords", 1016, 4, False),
               ("pad", 124, 88, False), ("lead", 32, 80, False)]  # fmt: skip
SONG_SECTIONS = [("intro", 4, 0.26, False), ("verse", 12, 0.55, True), ("chorus", 12, 0.85, True),
                 ("outro", 2, 0.3, False)]  # fmt: skip
SONG_LINES = 12
SONG_SYLLABLES = 90
SONG_HARMONY = 39
MIME = {"midi": "audio/midi", "audio": "audio/flac", "json": "application/json"}
CHORDS = [("Bm7", 11, "min7"), ("Gmaj7", 7, "maj7"), ("Dmaj7", 2, "maj7"), ("A7", 9, "7")]
WORDS = ["we", "rise", "along", "the", "glow", "and", "watch", "clouds", "flow", "through", "twilight",
         "dreamy", "wings", "over", "haze"]  # fmt: skip


def notes(rng: random.Random, count: int, beats: float) -> list[list[float]]:
    step = beats / max(count, 1)
    return [
        [rng.randint(36, 84), round(i * step, 3), round(step, 3), rng.randint(60, 120)] for i in range(count)
    ]


def song_context(prompt: str, seed: int, rng: random.Random) -> dict:
    """A context the size and shape of a real 60 s song's."""
    from modules.composition import context as c

    sections, chords, phrases, lines = [], [], [], []
    bar = 0
    for i, (name, bars, energy, vocal) in enumerate(SONG_SECTIONS):
        sections.append(c.SectionPlan(i, name, start_bar=bar, bars=bars, energy=energy, vocal=vocal))
        for b in range(bars):
            symbol, root, quality = CHORDS[b % len(CHORDS)]
            pitches = [48 + root, 52 + root, 55 + root, 59 + root]
            chords.append(c.ChordEvent((bar + b) * 4.0, 4.0, root, quality, symbol, pitches, i))
        bar += bars
    per_line = SONG_SYLLABLES // SONG_LINES
    extra = SONG_SYLLABLES - per_line * SONG_LINES
    beat = 16.0
    for n in range(SONG_LINES):
        count = per_line + (1 if n < extra else 0)
        section = 1 if n < SONG_LINES // 2 else 2
        onsets = [[beat + k * 0.5, 0.5] for k in range(count)]
        phrases.append(c.VocalPhrase(section, onsets, [k % 2 == 0 for k in range(count)]))
        syllables = [
            c.Syllable(rng.choice(WORDS), s, d, rng.choice([0, 1]), k % 2 == 1)
            for k, (s, d) in enumerate(onsets)
        ]
        text = " ".join(s.text for s in syllables)
        lines.append(c.LyricLine(section, SONG_SECTIONS[section][0], text, syllables, "AB"[n % 2]))
        beat += 8.0
    grid = [round(rng.random(), 3) for _ in range(16)]
    context = c.CompositionContext(
        prompt=prompt,
        seed=seed,
        sources={k: "prompt" for k in ("mood", "energy", "genres")}
        | {k: "genre" for k in ("tempo", "instruments", "loudness_target")}
        | {"key": "seed", "scale": "mood", "vocal_style": "seed", "seed": "input"},
        mood=c.MoodInfo("uplifting", 0.575, 0.566, ["uplifting", "electronic", "dreamy"]),
        energy=0.566,
        genres=[c.GenreWeight("electronic", 0.8264), c.GenreWeight("dream-pop", 0.1736)],
        style=c.Style(
            drums={"36": grid, "38": grid[::-1], "42": grid, "46": grid[::-1]},
            programs={name: program for name, _, program, _ in SONG_LAYERS},
            bass_rhythm=grid,
            chord_rhythm=grid[::-1],
            progressions=["I-V-vi-IV", "vi-IV-I-V"],
            loudness_target=-9.9,
        ),
        tempo=120.0,
        instruments=[name for name, *_ in SONG_LAYERS],
        loudness_target=-9.9,
        key="D",
        scale="major",
        sections=sections,
        chords=chords,
        vocal_phrases=phrases,
        total_beats=bar * 4.0,
        lyrics=lines,
        vocal_style="tenor",
        vocal_range=[48, 69],
    )
    return context.to_dict()


def song_composition(prompt: str = "uplifting electronic music with dreamy vocals", seed: int = 1):
    """A composition with every element, sized like a real 60 s song, without running the engines
    (the files are listed, not written: their URLs are all any query reads)."""
    from django.utils import timezone

    from modules.arrangement.models import Layer, Section
    from modules.composition.models import Artifact, Composition, StageRun, Status, Version
    from modules.composition.stages import ordered_names
    from modules.genre.models import GenreBlend
    from modules.lyrics.models import LyricLine, Lyrics
    from modules.mastering.models import Master
    from modules.mood.models import Mood
    from modules.voice.models import VocalLine

    rng = random.Random(seed)
    context = song_context(prompt, seed, rng)
    now = timezone.now()
    c = Composition.objects.create(
        owner=bench_owner(), prompt=prompt, seed=seed, status=Status.SUCCEEDED, duration_seconds=60,
        context=context, last_seq=60, finished_at=now,
    )  # fmt: skip
    names = [("composition.json", "mastering", "json"), ("composition.mid", "mastering", "midi"),
             ("lyrics.lrc", "lyrics", "text"), ("vocal.mid", "voice", "midi"),
             ("vocal-sung.flac", "voice", "audio"), ("harmony-sung.flac", "voice", "audio"),
             ("master.wav", "mastering", "audio"), ("master.flac", "mastering", "audio"),
             ("master.mp3", "mastering", "audio")]  # fmt: skip
    names += [(f"layer-{name}.mid", "arrangement", "midi") for name, *_ in SONG_LAYERS]
    names += [(f"stem-{name}.flac", "mastering", "audio") for name, *_ in SONG_LAYERS]
    names += [("stem-vocal.flac", "mastering", "audio"), ("stem-harmony.flac", "mastering", "audio")]
    artifacts = Artifact.objects.bulk_create(
        Artifact(
            composition=c, stage=stage, kind=kind, name=name, file=f"compositions/{c.pk}/{name}",
            mime_type=MIME.get(kind, "text/plain"),
            size_bytes=rng.randint(1_000, 2_000_000), duration_seconds=60.0 if kind == "audio" else None,
        )
        for name, stage, kind in names
    )  # fmt: skip
    files = {a.name: a for a in artifacts}
    StageRun.objects.bulk_create(
        StageRun(
            composition=c, name=n, position=i, status="SUCCEEDED", progress=1.0, message="done", attempts=1,
            seed=seed, input_hash=f"{rng.getrandbits(128):032x}", started_at=now, finished_at=now,
        )
        for i, n in enumerate(ordered_names())
    )  # fmt: skip
    Mood.objects.create(
        composition=c, name="uplifting", valence=0.575, energy=0.566,
        tags=["uplifting", "electronic", "dreamy"], source="prompt",
    )  # fmt: skip
    GenreBlend.objects.create(
        composition=c, primary="electronic", source="prompt", tempo=120.0, swing=0.0, density=0.6,
        weights=[{"name": "electronic", "weight": 0.8264}, {"name": "dream-pop", "weight": 0.1736}],
        loudness_target=-9.9, programs={name: program for name, _, program, _ in SONG_LAYERS},
    )  # fmt: skip
    Section.objects.bulk_create(
        Section(
            composition=c, index=p.index, name=p.name, start_bar=p.start_bar, bars=p.bars,
            energy=p.energy, vocal=p.vocal,
            chords=[ch["symbol"] for ch in context["chords"] if ch["section_index"] == p.index],
        )
        for p in (SimpleSection(**s) for s in context["sections"])
    )  # fmt: skip
    beats = context["total_beats"]
    Layer.objects.bulk_create(
        Layer(
            composition=c, index=i, name=name, role=name, program=program, channel=9 if drum else i,
            is_drum=drum, note_count=count, notes=notes(rng, count, beats),
            automation=[{"parameter": "volume", "points": [[b * 8.0, 0.8] for b in range(15)]}],
            midi=files[f"layer-{name}.mid"],
        )
        for i, (name, count, program, drum) in enumerate(SONG_LAYERS)
    )  # fmt: skip
    lyrics = Lyrics.objects.create(
        composition=c, title="Dreamy Balloons", source="generated",
        text="\n".join(line["text"] for line in context["lyrics"]),
    )  # fmt: skip
    LyricLine.objects.bulk_create(
        LyricLine(
            lyrics=lyrics, index=i, section_index=line["section_index"], section_name=line["section_name"],
            text=line["text"], rhyme=line["rhyme"], syllables=line["syllables"],
        )
        for i, line in enumerate(context["lyrics"])
    )  # fmt: skip
    sung = [s for line in context["lyrics"] for s in line["syllables"]]
    VocalLine.objects.create(
        composition=c, voice="tenor", source="seed", low=48, high=69, program=53,
        notes=[[rng.randint(48, 69), s["start"], s["duration"], 90] for s in sung],
        syllables=[s["text"] for s in sung],
        harmony=[[rng.randint(45, 64), s["start"], s["duration"], 80] for s in sung[:SONG_HARMONY]],
        midi=files["vocal.mid"],
    )  # fmt: skip
    Master.objects.create(
        composition=c, target_lufs=-9.9, loudness_before=-21.3, integrated_lufs=-9.92, gain_db=11.4,
        sample_peak_dbfs=-1.3, true_peak_dbtp=-1.05, duration_seconds=60.0, sample_rate=44100,
        wav=files["master.wav"], flac=files["master.flac"], mp3=files["master.mp3"],
        midi=files["composition.mid"],
    )  # fmt: skip
    version = Version.objects.create(
        composition=c, number=1, reason="regenerate lyrics with seed 2", context=context,
        elements={"lyrics": {"title": "Earlier"}},
    )  # fmt: skip
    version.artifacts.set([files["vocal.mid"], files["lyrics.lrc"]])
    return c


@dataclass
class SimpleSection:
    index: int
    name: str
    start_bar: int
    bars: int
    energy: float
    vocal: bool


def seed_compositions(count: int, shape: str = "song") -> list[int]:
    """`count` compositions with every element; "song" sizes them like a real 60 s song,
    "factory" is tests.factories.full_composition (a few objects of each kind)."""
    from django.db import transaction

    if shape == "factory":
        sys.path.insert(0, str(ROOT))
        from tests.factories import full_composition as make
    else:
        make = song_composition
    with transaction.atomic():
        owner = bench_owner()
        made = [make(seed=i).pk for i in range(count)]
        from modules.composition.models import Composition

        Composition.objects.filter(pk__in=made).update(owner=owner)  # the factory's owner is "tester"
    bench_authorization()  # made now, while the ORM may be called (asgi_post runs in an event loop)
    return made


# --- Daphne ------------------------------------------------------------------------------------


# free_port and wait_for_port: shared with the integration tests (tests/integration/live.py).


def start_daphne(bench: Stack, env: dict[str, str] | None = None) -> int:
    """One Daphne process serving backend.asgi (with the bench settings, so the bench URLconf)
    on a free loopback port; stopped with the stack. Returns its port."""
    port = free_port()
    log = open(bench.tmp / f"daphne-{port}.log", "ab")  # noqa: SIM115 - the child keeps its copy
    process = subprocess.Popen(
        [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "backend.asgi:application"],
        cwd=ROOT,
        env={**os.environ, **bench.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    bench.daphnes.append(process)
    bench.pids[port] = process.pid
    wait_for_port(port)
    return port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- a keep-alive HTTP/1.1 client on asyncio ----------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"
    authorization: str = ""


def graphql_request(query: str, variables: dict | None = None, path: str = "/graphql") -> Request:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    return Request("POST", path, body, authorization=bench_authorization())


class Connection:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked responses)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**24)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            self.writer = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = f"{request.method} {request.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if request.authorization:
            head += f"Authorization: {request.authorization}\r\n"
        if request.body or request.method == "POST":
            head += f"Content-Type: {request.content_type}\r\nContent-Length: {len(request.body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + request.body)
        status_line = await self.reader.readline()
        if not status_line:  # the server closed an idle connection: once more on a new one
            await self.close()
            return await self.send(request)
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body


@dataclass
class Load:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float | None = None  # CPU seconds the server process used meanwhile

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_request(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu / self.requests

    def __add__(self, other: Load) -> Load:
        cpu = (
            None
            if self.server_cpu is None or other.server_cpu is None
            else self.server_cpu + other.server_cpu
        )
        return Load(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            self.errors + other.errors,
            cpu,
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(
    port: int,
    request: Request,
    concurrency: int,
    seconds: float,
    min_requests: int,
    max_requests: int,
    warmup: int,
    pid: int | None,
) -> Load:
    connections = [Connection(port) for _ in range(concurrency)]
    for conn in connections:
        await conn.open()
    for i in range(warmup):
        await connections[i % concurrency].send(request)
    latencies: list[float] = []
    errors = 0
    cpu0 = cpu_seconds(pid) if pid else 0.0
    started = time.perf_counter()
    deadline = started + seconds

    def more() -> bool:
        issued = len(latencies) + in_flight
        return issued < max_requests and (time.perf_counter() < deadline or issued < min_requests)

    in_flight = 0

    async def client(conn: Connection) -> None:
        nonlocal errors, in_flight
        while more():
            in_flight += 1
            t0 = time.perf_counter()
            status, _ = await conn.send(request)
            latencies.append(time.perf_counter() - t0)
            in_flight -= 1
            errors += status != 200

    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu0 if pid else None
    for conn in connections:
        await conn.close()
    return Load(len(latencies), elapsed, latencies, errors, cpu)


def load(
    port: int,
    request: Request,
    *,
    concurrency: int = 4,
    seconds: float = 2.0,
    min_requests: int = 6,
    max_requests: int = 20_000,
    warmup: int = 2,
    pid: int | None = None,
) -> Load:
    """`concurrency` clients, each on its own keep-alive connection, sending `request` back to
    back for `seconds` and at least `min_requests` (at most `max_requests`) in all, after `warmup`
    requests; with the server's `pid`, the CPU time it used meanwhile too."""
    return asyncio.run(_load(port, request, concurrency, seconds, min_requests, max_requests, warmup, pid))


def sequential(port: int, request: Request, count: int, seconds: float = 3.0) -> list[float]:
    """Latencies of up to `count` requests one after another on one keep-alive connection (after
    one unmeasured), stopping early after `seconds`."""

    async def go() -> list[float]:
        conn = Connection(port)
        out: list[float] = []
        try:
            await conn.send(request)
            deadline = time.perf_counter() + seconds
            while len(out) < count and (not out or time.perf_counter() < deadline):
                t0 = time.perf_counter()
                status, _ = await conn.send(request)
                out.append(time.perf_counter() - t0)
                assert status == 200, status
        finally:
            await conn.close()
        return out

    return asyncio.run(go())


def fetch(port: int, request: Request) -> tuple[int, bytes]:
    async def once() -> tuple[int, bytes]:
        conn = Connection(port)
        try:
            return await conn.send(request)
        finally:
            await conn.close()

    return asyncio.run(once())


# --- in-process, through the ASGI application -------------------------------------------------


async def asgi_post(app: Any, path: str, body: bytes) -> dict:
    """An HTTP POST straight into the ASGI application, in the caller's context (channels'
    HttpCommunicator starts the application in an empty context, which would drop `disabled()`)."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", bench_authorization().encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    received = False

    async def receive() -> dict:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects early
        raise AssertionError("unreachable")

    messages: list[dict] = []

    async def send(message: dict) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert start["status"] == 200, (start, payload[:500])
    return json.loads(payload)
