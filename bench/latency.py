"""Progress latency: a worker publishes an event, a websocket subscriber receives it.

Production set-up, all real and all on 127.0.0.1: a scratch PostgreSQL database
(migrated), a Redis database of its own (the `channels_redis` core layer, as
`REDIS_URL` configures it in backend/settings.py), one Daphne process serving
/graphql, and a separate "worker" process that publishes with the product's own
code path, `subscriptions.events.publish_event` (event-log insert under a row
lock, then `group_send` on its long-lived loop).

The subscriber follows `compositionProgress(id, afterSeq)` over graphql-transport-ws.
Each event carries `time.time_ns()` taken just before `publish_event` in its
message, so receive - publish includes publish_event's own cost (measured and
printed separately, split into its database part and its `group_send` part).

Beside it, a client polls `composition { lastSeq status }` over HTTP once a
second: its staleness is, per event, the time from publish to the response of
the first poll that shows a lastSeq at or past the event's seq.

Run:  .venv/bin/python -m bench.latency [--events 300] [--rate 20] [--profile [--native]]
Experiments (the product's settings plus one change, in a temporary settings module):
      --layer pubsub (RedisPubSubChannelLayer), --gc-threshold 50000 (gc.freeze + thresholds)
Services: DATABASE_URL / REDIS_URL (or CODA_TEST_DATABASE_URL / CODA_TEST_REDIS_URL)
when set, else what scripts/services.sh prints; a scratch PostgreSQL database is
created beside the given one and dropped after. Redis database 12 is used and flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import bench_authorization, bench_owner  # noqa: E402
from tests.integration.live import LiveStack, scratch_database  # noqa: E402

REDIS_DB = 12
PROGRESS = """
subscription Progress($id: ID!, $afterSeq: Int!) {
  compositionProgress(id: $id, afterSeq: $afterSeq) { seq stage status progress message }
}
"""
POLL = "query Poll($id: ID!) { composition(id: $id) { lastSeq status } }"
STAMP = "bench t="  # message prefix of a timed event; "warmup" events are not counted


# --- shared helpers (bench/fanout.py uses them too) ----------------------------------------------


def command_line(module: str) -> str:
    exe = Path(sys.executable)
    with contextlib.suppress(ValueError):
        exe = exe.relative_to(ROOT)
    return " ".join([str(exe), "-m", module, *sys.argv[1:]])


def service_urls() -> tuple[str, str]:
    """(PostgreSQL server URL, Redis URL): DATABASE_URL/REDIS_URL or the test variables when set, else what
    scripts/services.sh prints. The database itself is never used: a scratch one is made beside it."""
    env = os.environ.get
    pg = env("DATABASE_URL") or env("CODA_TEST_DATABASE_URL")
    redis_url = env("REDIS_URL") or env("CODA_TEST_REDIS_URL")
    if not (pg and redis_url):
        out = subprocess.run(
            ["bash", "scripts/services.sh"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        found = dict(line.split("=", 1) for line in out.split() if "=" in line)
        pg, redis_url = pg or found["DATABASE_URL"], redis_url or found["REDIS_URL"]
    return pg, redis_url


def own_redis_db(redis_url: str, db: int) -> str:
    import redis

    url = redis_url.rsplit("/", 1)[0] + f"/{db}"
    redis.Redis.from_url(url).flushdb()
    return url


def raise_nofile(wanted: int) -> tuple[int, int]:
    """Raise this process's open-file limit (children such as Daphne inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# Experiments (--layer pubsub, --gc-threshold): the product's settings plus a change, as a settings
# module written to the bench's temporary directory; nothing in the repo changes.
EXPERIMENT_SETTINGS = """
from backend.settings import *  # noqa: F403
from backend.settings import REDIS_URL
"""
PUBSUB_SETTINGS = """
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
    }
}
"""
GC_SETTINGS = """
import gc

gc.freeze()  # what is loaded by now is never scanned again
gc.set_threshold({threshold}, 20, 100)
"""
LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer (backend/settings.py)",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer (experiment: settings swapped by the bench)",
}


@contextlib.contextmanager
def live_stack(
    redis_db: int, keep_logs: bool = False, layer: str = "core", gc_threshold: int = 0
) -> Iterator[LiveStack]:
    """Scratch database (migrated) + own Redis database; no processes started yet.

    This process's Django is set up against the same database, for the ORM set-up."""
    pg, redis_url = service_urls()
    redis_url = own_redis_db(redis_url, redis_db)
    tmp = Path(tempfile.mkdtemp(prefix="coda-bench-"))
    extra_env = {}
    if layer == "pubsub" or gc_threshold:
        text = EXPERIMENT_SETTINGS + (PUBSUB_SETTINGS if layer == "pubsub" else "")
        text += GC_SETTINGS.format(threshold=gc_threshold) if gc_threshold else ""
        (tmp / "settings").mkdir()
        (tmp / "settings" / "coda_bench_settings.py").write_text(text)
        sys.path.insert(0, str(tmp / "settings"))
        extra_env = {"DJANGO_SETTINGS_MODULE": "coda_bench_settings", "PYTHONPATH": str(tmp / "settings")}
    try:
        with scratch_database(pg) as database_url:
            stack = LiveStack(database_url, redis_url, tmp / "media", extra_env=extra_env)
            stack.logs = tmp / "logs"
            stack.logs.mkdir(parents=True)
            stack.manage("migrate", "--noinput")
            env = stack.env
            for key in (
                "DATABASE_URL",
                "REDIS_URL",
                "CODA_MEDIA_ROOT",
                "CODA_DATA_DIR",
                "DJANGO_SETTINGS_MODULE",
            ):
                os.environ[key] = env[key]
            import django

            django.setup()
            try:
                yield stack
            finally:
                stack.stop()
                from django.db import connections

                connections.close_all()
    finally:
        if keep_logs:
            print(f"logs kept in {tmp / 'logs'}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def create_composition() -> tuple[int, str]:
    """A QUEUED composition (its seq-1 event logged), no pipeline started: (pk, global id)."""
    from strawberry import relay

    from modules.composition.services import composition_create

    composition = composition_create(
        prompt="bench: progress latency", seed=1, duration_seconds=20, start=False
    )
    # Made by the system (no quota, no moderation), then given to the user the clients sign in as.
    type(composition).objects.filter(pk=composition.pk).update(owner=bench_owner())
    bench_authorization()  # made here, inherited by the client processes
    return composition.pk, relay.to_base64("Composition", composition.pk)


class Worker:
    """A separate process publishing through subscriptions.events.publish_event (the worker's path)."""

    def __init__(self, stack: LiveStack, module: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--worker"],
            cwd=ROOT,
            env=stack.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(stack.logs / "worker.log", "ab"),  # noqa: SIM115 - the child keeps it
            text=True,
        )

    def wait_ready(self) -> None:
        line = self.process.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"worker did not start: {line!r}")

    def go(
        self, composition_id: int, count: int, interval: float, warmup: int = 5, settle: float = 0.2
    ) -> None:
        config = {
            "composition_id": composition_id, "count": count, "interval": interval, "warmup": warmup,
            "settle": settle,
        }  # fmt: skip
        self.process.stdin.write(json.dumps(config) + "\n")
        self.process.stdin.flush()

    def result(self, timeout: float = 120.0) -> dict[str, Any]:
        out, _ = self.process.communicate(timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])


def worker_main() -> None:
    """--worker: set up Django, say READY, read one config line, publish, print a JSON result."""
    import django

    django.setup()
    from subscriptions import events

    deliver_ns: list[int] = []
    original = events._deliver

    def timed_deliver(payload: dict[str, Any], owner_id: int | None) -> None:
        start = time.perf_counter_ns()
        original(payload, owner_id)
        deliver_ns.append(time.perf_counter_ns() - start)

    events._deliver = timed_deliver  # the on_commit callback looks it up by name
    print("READY", flush=True)
    config = json.loads(sys.stdin.readline())
    pk, count, interval = config["composition_id"], config["count"], config["interval"]
    for i in range(config["warmup"]):  # connections to PostgreSQL and Redis, the loop thread
        events.publish_event(pk, status="PROGRESS", stage="mood", progress=0.0, message=f"warmup {i}")
        time.sleep(interval)
    deliver_ns.clear()
    published = []
    start = time.monotonic() + config["settle"]
    for i in range(count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t_pub = time.time_ns()
        t0 = time.perf_counter_ns()
        event = events.publish_event(
            pk, status="PROGRESS", stage="mood", progress=(i + 1) / count, message=f"{STAMP}{t_pub}"
        )
        cost = time.perf_counter_ns() - t0
        assert event is not None, "the composition ended; events are refused"
        published.append({"seq": event.seq, "t_pub_ns": t_pub, "cost_ns": cost})
    for row, d in zip(published, deliver_ns, strict=True):
        row["deliver_ns"] = d
    print(json.dumps({"published": published}), flush=True)


def machine_note(load_before: tuple[float, ...]) -> str:
    """CPUs and load: on a shared machine other processes' load skews every figure."""
    now = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} CPUs; load average (1 min) {load_before[0]:.2f} before the run, "
        f"{now[0]:.2f} after (this bench's own processes count too)"
    )


def gc_note(args: argparse.Namespace) -> str:
    if not args.gc_threshold:
        return ""
    return f", experiment: gc.freeze() + gc.set_threshold({args.gc_threshold}, 20, 100)"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def proc_status(pid: int, field: str) -> int:
    """A kB figure (VmRSS, VmHWM) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nofile_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


class Profiler:
    """py-spy (optional) recording a process; summarised as top self and inclusive costs."""

    def __init__(self, pid: int, out: Path, seconds: float, native: bool = False) -> None:
        exe = Path(sys.executable).parent / "py-spy"
        self.out = out
        self.process = None
        if not exe.exists():
            print("profile: py-spy is not installed (.venv/bin/pip install py-spy); not profiling")
            return
        self.process = subprocess.Popen(
            [str(exe), "record", "-p", str(pid), "-d", str(int(seconds) + 1), "-r", "200",
             "--format", "raw", "-o", str(out), *(["--native"] if native else ["--nonblocking"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def summary(self, top: int = 15) -> str:
        if self.process is None:
            return ""
        _, err = self.process.communicate(timeout=120)
        if not self.out.exists():
            return f"profile: py-spy failed: {err.strip()[-500:]}"
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        parts: Counter[str] = Counter()
        total = busy = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [_short(f) for f in stack.split(";")]
            total += n
            if any(_idle(f) for f in frames):  # waiting in select/epoll, or an idle pool thread
                continue
            busy += n
            parts[
                next(
                    (name for name, keys in _PARTS if any(k in f for f in frames for k in keys)),
                    "other (event loop, asyncio tasks)",
                )
            ] += n
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
        lines = [
            f"profile of Daphne ({total} samples, {busy} busy, i.e. not waiting for I/O or work; "
            f"raw stacks: {self.out})"
        ]
        lines.append("  where the busy time goes (each sample counted once, first matching part):")
        for part, n in parts.most_common():
            lines.append(f"    {100 * n / max(busy, 1):5.1f}%  {part}")
        lines.append("  top own time (% of busy samples):")
        for frame, n in own.most_common(top):
            lines.append(f"    {100 * n / max(busy, 1):5.1f}%  {frame}")
        lines.append("  top inclusive time (% of busy samples), below the event loop:")
        shown = [(f, n) for f, n in inclusive.most_common() if n < 0.85 * busy][:top]
        for frame, n in shown:
            lines.append(f"    {100 * n / max(busy, 1):5.1f}%  {frame}")
        return "\n".join(lines)


_PARTS = [  # (part, frame substrings), in priority order
    ("cyclic GC (gc_collect_main; needs --native)", ["gc_collect_main"]),
    (
        "websocket send (strawberry send_message -> channels -> daphne -> autobahn -> twisted)",
        ["send_message (handlers.py", "AsyncConsumer.send", "WebSocketProtocol.sendMessage", "handle_reply"],
    ),
    (
        "GraphQL execution of each event per subscriber (execute_subscription_event)",
        ["execute_subscription_event"],
    ),
    (
        "channel layer receive",
        ["RedisChannelLayer.receive", "_do_receiving", "_receive_message", "RedisPubSubLoopLayer.receive"],
    ),
    (
        "channels dispatch to strawberry's listen queue",
        ["await_many_dispatch", "ChannelsConsumer.dispatch", "AsyncConsumer.dispatch"],
    ),
    ("event-log re-read (stream.py _logged_after, in a thread)", ["_logged_after"]),
    ("subscriptions/stream.py + resolver", ["composition_events", "composition_progress", "from_payload"]),
    ("strawberry stream/extensions (rest of run_operation)", ["run_operation", "Schema._stream"]),
    ("GraphQL over HTTP", ["GraphQLHTTPConsumer", "AsyncHttpConsumer"]),
    (
        "twisted/daphne I/O (reads, writes, timers)",
        ["doWrite", "doRead", "_readOrWrite", "callWithLogger", "application_checker", "_onTimer"],
    ),
]


def _short(frame: str) -> str:
    """'name (path/to/file.py:12)' -> 'name (file.py:12)'."""
    name, sep, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if sep else frame


_IDLE = (
    "select (selectors.py",
    "poll (selectors.py",
    "epoll_wait",
    "_queue_SimpleQueue_get",
    "PyThread_acquire_lock_timed",
    "wait (threading.py",
)


def _idle(frame: str) -> bool:
    return frame.startswith(_IDLE) or "epoll" in frame


# --- the benchmark -------------------------------------------------------------------------------


async def subscribe_and_collect(
    url: str, gid: str, ready: asyncio.Event, stop: asyncio.Event, got: dict
) -> None:
    import websockets

    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], ping_interval=None) as ws:
        init = {"type": "connection_init", "payload": {"authorization": bench_authorization()}}
        await ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"id": gid, "afterSeq": 0}},
                }
            )
        )
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            t_recv = time.time_ns()
            message = json.loads(raw)
            if message["type"] != "next":
                raise RuntimeError(f"subscription ended: {message}")
            event = message["payload"]["data"]["compositionProgress"]
            if event["seq"] == 1:
                ready.set()  # seq 1 replayed from the log: we are in the group
            if event["message"].startswith(STAMP):
                got.setdefault(event["seq"], (int(event["message"][len(STAMP) :]), t_recv))


def poll_loop(url: str, gid: str, interval: float, stop: threading.Event, polls: list) -> None:
    body = json.dumps({"query": POLL, "variables": {"id": gid}}).encode()
    next_at = time.monotonic()
    while not stop.is_set():
        t_req = time.time_ns()
        headers = {"Content-Type": "application/json", "Authorization": bench_authorization()}
        request = urllib.request.Request(url, body, headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read())
        polls.append((t_req, time.time_ns(), data["data"]["composition"]["lastSeq"]))
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))


async def run(stack: LiveStack, args: argparse.Namespace, pk: int, gid: str) -> dict[str, Any]:
    worker = Worker(stack, "bench.latency")
    got: dict[int, tuple[int, int]] = {}
    ready, stop = asyncio.Event(), asyncio.Event()
    sub = asyncio.create_task(subscribe_and_collect(stack.ws_url(), gid, ready, stop, got))
    await asyncio.wait_for(ready.wait(), 20)
    await asyncio.to_thread(worker.wait_ready)
    interval = 1.0 / args.rate
    worker.go(pk, args.events, interval)
    warm = 5 * interval + 0.2
    await asyncio.sleep(warm - 0.1)
    polls: list[tuple[int, int, int]] = []
    poll_stop = threading.Event()
    poller = threading.Thread(
        target=poll_loop, args=(stack.http_url, gid, args.poll_interval, poll_stop, polls)
    )
    poller.start()
    profiler = None
    if args.profile:
        profiler = Profiler(
            stack.processes["daphne"].pid,
            stack.logs / "daphne-latency.pyspy.txt",
            args.events / args.rate,
            native=args.native,
        )
    daphne_cpu0, t0 = cpu_seconds(stack.processes["daphne"].pid), time.monotonic()
    result = await asyncio.to_thread(worker.result)
    daphne_cpu = (cpu_seconds(stack.processes["daphne"].pid) - daphne_cpu0) / (time.monotonic() - t0)
    # Let the last events arrive and the poller see them (a poll after the last publish).
    deadline = time.monotonic() + 3 + args.poll_interval
    expected = {row["seq"] for row in result["published"]}
    while time.monotonic() < deadline and not (
        expected <= got.keys() and polls and polls[-1][2] >= max(expected)
    ):
        await asyncio.sleep(0.05)
    poll_stop.set()
    await asyncio.to_thread(poller.join)
    stop.set()
    await sub
    return {
        "published": result["published"],
        "got": got,
        "polls": polls,
        "daphne_cpu": daphne_cpu,
        "profile": profiler.summary() if profiler else "",
    }


def report(args: argparse.Namespace, data: dict[str, Any]) -> bool:
    published, got, polls = data["published"], data["got"], data["polls"]
    ms = 1e-6
    lat = [(got[r["seq"]][1] - r["t_pub_ns"]) * ms for r in published if r["seq"] in got]
    lost = [r["seq"] for r in published if r["seq"] not in got]
    transit = [(got[r["seq"]][1] - r["t_pub_ns"] - r["cost_ns"]) * ms for r in published if r["seq"] in got]
    cost = [r["cost_ns"] * ms for r in published]
    deliver = [r["deliver_ns"] * ms for r in published]
    db = [c - d for c, d in zip(cost, deliver, strict=True)]
    stale = []
    for r in published:
        seen = [t_resp for _, t_resp, last in polls if last >= r["seq"] and t_resp >= r["t_pub_ns"]]
        if seen:
            stale.append((min(seen) - r["t_pub_ns"]) * ms)
    poll_rtt = [(t_resp - t_req) * ms for t_req, t_resp, _ in polls]
    duration = args.events / args.rate

    def row(name: str, values: list[float], aim: float | None = None, p: float = 50) -> list[str]:
        v = percentile(values, p)
        verdict = "" if aim is None else ("met" if v <= aim else "MISSED")
        return [name, f"{v:8.2f} ms", "" if aim is None else f"<= {aim:g} ms", verdict]

    rows = [
        ["figure", "measured", "aim", "verdict"],
        row("websocket latency p50 (publish -> received)", lat, args.aim_p50, 50),
        row("websocket latency p99", lat, args.aim_p99, 99),
        row("websocket latency max", lat, None, 100),
        ["websocket events lost", f"{len(lost):8d}", "0", "met" if not lost else "MISSED"],
        row("publish_event cost p50 (whole call)", cost, None, 50),
        row("publish_event cost p99", cost, None, 99),
        row("  of which DB (lock, seq, insert, commit) p50", db, None, 50),
        row("  of which group_send (_deliver) p50", deliver, None, 50),
        row("  of which group_send (_deliver) p99", deliver, None, 99),
        row("publish_event returned -> received p50", transit, None, 50),
        row("publish_event returned -> received p99", transit, None, 99),
        ["HTTP poll (1/s) mean staleness", f"{sum(stale) / max(len(stale), 1):8.2f} ms", "", ""],
        row("HTTP poll staleness p99", stale, None, 99),
        ["HTTP poll requests made", f"{len(polls):8d}", "", f"vs 1 websocket, {len(lat)} pushes"],
        row("HTTP poll round trip p50", poll_rtt, None, 50),
        ["Daphne CPU while publishing", f"{100 * data['daphne_cpu']:7.1f} %", "", "of one core"],
    ]
    print(f"command: {command_line('bench.latency')}")
    print(machine_note(data["load_before"]))
    print(
        f"set-up: PostgreSQL scratch DB + Redis db {REDIS_DB}, layer {LAYERS[args.layer]}{gc_note(args)}, "
        f"1 Daphne, 1 worker process (publish_event), {args.events} non-final events at {args.rate:g}/s "
        f"({duration:.1f} s), 1 websocket subscriber, 1 HTTP poller every {args.poll_interval:g} s"
    )
    print()
    print(table(rows))
    missed = [r[0] for r in rows[1:] if r[3] == "MISSED"]
    print()
    print("aims met" if not missed else "AIM MISSED: " + "; ".join(missed))
    if data["profile"]:
        print()
        print(data["profile"])
    return not missed


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags the latency and fan-out benchmarks share (after their own --profile)."""
    parser.add_argument("--native", action="store_true", help="with --profile: C frames too (e.g. the GC)")
    parser.add_argument(
        "--layer",
        choices=sorted(LAYERS),
        default="core",
        help="core: the product's settings; pubsub: an experiment with RedisPubSubChannelLayer",
    )
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=0,
        help="experiment: gc.freeze() and gc.set_threshold(N, 20, 100) in every process",
    )
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--aim-p50", type=float, default=12.0)
    parser.add_argument("--aim-p99", type=float, default=60.0)
    parser.add_argument("--profile", action="store_true", help="py-spy the Daphne process while publishing")
    add_experiment_arguments(parser)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    load_before = os.getloadavg()
    with live_stack(REDIS_DB, args.keep_logs or args.profile, args.layer, args.gc_threshold) as stack:
        stack.start_daphne()
        pk, gid = create_composition()  # the ORM, before any event loop runs here
        data = asyncio.run(run(stack, args, pk, gid))
    data["load_before"] = load_before
    report(args, data)


if __name__ == "__main__":
    main()
