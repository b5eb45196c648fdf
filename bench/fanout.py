"""Fan-out: 100, 500 and 1,000 websocket subscribers of one composition on one Daphne process.

Same production set-up as bench/latency.py (scratch PostgreSQL database, Redis
with the `channels_redis` core layer, Daphne, a separate worker process
publishing through `subscriptions.events.publish_event`). For each size a fresh
Daphne process is started (so its memory figures are its own), N subscribers
connect over graphql-transport-ws to `compositionProgress(id, afterSeq: 0)` of
one composition (the replay of its seq-1 event proves each is in the group),
then the worker publishes non-final events at a steady interval, each carrying
its publish time. Reported per size: p50/p99/max delivery latency over every
subscriber x event pair, events lost (must be 0), Daphne's RSS per connection
(VmRSS from /proc/<pid>/status before and after connecting, divided by N), and
the CPU used by Daphne and by the client process while the events flowed (a
client near 100 % of a core would be the bottleneck: then pass --clients 2).

Once all are connected (largest size only), a 6 s idle window measures what quiet subscriptions
cost: each re-reads the event log after 5 s without a message
(subscriptions/stream.py RESYNC_SECONDS), counted from PostgreSQL's table
statistics, and Daphne's CPU. "ended early" counts subscriptions the server
completed without a final event (it must stay 0: the stream once ended after
5 s of quiet).

Run:  .venv/bin/python -m bench.fanout [--sizes 100,500,1000] [--events 20] [--interval 0.5]
                                        [--clients 1] [--profile [--native]]
Experiments (the product's settings plus one change, in a temporary settings module):
      --layer pubsub (RedisPubSubChannelLayer), --gc-threshold 50000 (gc.freeze + thresholds)
Services: as bench/latency.py. Redis database 13 is used and flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import bench_authorization  # noqa: E402
from bench.latency import (  # noqa: E402
    LAYERS,
    PROGRESS,
    STAMP,
    Profiler,
    Worker,
    add_experiment_arguments,
    command_line,
    cpu_seconds,
    create_composition,
    gc_note,
    live_stack,
    machine_note,
    nofile_limit,
    percentile,
    proc_status,
    raise_nofile,
    table,
    worker_main,
)
from tests.integration.live import LiveStack  # noqa: E402

REDIS_DB = 13
CONNECT_CONCURRENCY = 50  # Twisted listens with a backlog of 50
CONNECT_ATTEMPTS = 4  # a failed connection is retried (and counted), as a real client would
DRAIN_SECONDS = 12.0  # after the last publish: more than the stream's 5 s log re-read (RESYNC_SECONDS)
IDLE_SECONDS = 6.0  # quiet window after connecting: more than RESYNC_SECONDS
SETTLE_SECONDS = 3.0  # after the worker's untimed warm-up events, so their fan-out is over


# --- a client process: N websockets in one asyncio loop ------------------------------------------


async def _subscriber(
    url: str,
    gid: str,
    gate: asyncio.Semaphore,
    ready: list,
    got: dict,
    cpu: list,
    ended: list,
    retries: list,
) -> None:
    import websockets

    for attempt in range(CONNECT_ATTEMPTS):
        try:
            async with gate:
                ws = await websockets.connect(
                    url, subprotocols=["graphql-transport-ws"], ping_interval=None, open_timeout=60,
                    max_queue=None,
                )  # fmt: skip
                init = {"type": "connection_init", "payload": {"authorization": bench_authorization()}}
                await ws.send(json.dumps(init))
                ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
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
            break
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
            # e.g. Daphne rejecting a handshake that took over its 5 s websocket_connect_timeout
            retries.append(1)
            if attempt == CONNECT_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    joined = False
    try:
        while True:  # until cancelled
            raw = await ws.recv()
            t_recv = time.time_ns()
            message = json.loads(raw)
            if message["type"] == "complete":  # ended without a final event: counted, then lost events
                ended.append(time.time_ns())
                if not joined:
                    ready.append(1)  # not to wait for it forever
                return
            if message["type"] != "next":
                raise RuntimeError(f"subscription failed: {message}")
            event = message["payload"]["data"]["compositionProgress"]
            if event["seq"] == 1:
                joined = True
                ready.append(1)  # the replay of seq 1 came after joining the group
            elif event["message"].startswith(STAMP):
                got[event["seq"]] = -1 if event["seq"] in got else t_recv  # -1 marks a duplicate
                cpu.append((t_recv, time.process_time()))
    finally:
        await asyncio.wait_for(ws.close(), 10)


async def _client(url: str, gid: str, n: int) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    ready: list[int] = []
    got: list[dict[int, int]] = [{} for _ in range(n)]
    cpu: list[tuple[int, float]] = []  # (receive time, this process's CPU seconds) per timed event
    ended: list[int] = []  # subscriptions the server completed (no final event was sent)
    retries: list[int] = []  # failed connection attempts (retried)
    t0 = time.monotonic()
    tasks = [
        asyncio.create_task(_subscriber(url, gid, gate, ready, got[i], cpu, ended, retries)) for i in range(n)
    ]
    while len(ready) < n:
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()
        if time.monotonic() - t0 > 120:
            raise TimeoutError(f"only {len(ready)} of {n} subscribed after 120 s")
        await asyncio.sleep(0.05)
    print(json.dumps({"ready": n, "connect_s": time.monotonic() - t0, "retries": len(retries)}), flush=True)
    order = json.loads(await asyncio.to_thread(sys.stdin.readline))  # {"expected": [...], "wait": s}
    expected = set(order["expected"])
    deadline = time.monotonic() + order["wait"]
    while time.monotonic() < deadline and not all(expected <= g.keys() for g in got):
        await asyncio.sleep(0.05)
    span = (cpu[0], cpu[-1]) if cpu else None  # before closing the sockets
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = {"got": [{str(k): v for k, v in g.items()} for g in got], "cpu": span, "ended": len(ended)}
    print(json.dumps(result), flush=True)


def client_main(url: str, gid: str, n: int) -> None:
    raise_nofile(n + 1024)
    asyncio.run(_client(url, gid, n))


class Clients:
    def __init__(self, stack: LiveStack, url: str, gid: str, n: int, processes: int) -> None:
        shares = [n // processes + (i < n % processes) for i in range(processes)]
        self.log = stack.logs / "clients.log"
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.fanout", "--client", url, gid, str(k)],
                cwd=ROOT, env=stack.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=open(stack.logs / "clients.log", "ab"), text=True,  # noqa: SIM115
            )
            for k in shares
        ]  # fmt: skip

    def wait_ready(self) -> tuple[float, int]:
        slowest, retries = 0.0, 0
        for p in self.procs:
            line = p.stdout.readline()
            if not line:
                tail = (self.log.read_text(errors="replace").strip().splitlines() or ["?"])[-1]
                raise RuntimeError(f"a client process failed (exit {p.wait()}): {tail}")
            ready = json.loads(line)
            slowest, retries = max(slowest, ready["connect_s"]), retries + ready["retries"]
        return slowest, retries

    def finish(self, expected: list[int], wait: float) -> tuple[list[dict[int, int]], list, int]:
        for p in self.procs:
            p.stdin.write(json.dumps({"expected": expected, "wait": wait}) + "\n")
            p.stdin.flush()
        got: list[dict[int, int]] = []
        cpu, ended = [], 0
        for p in self.procs:
            out, _ = p.communicate(timeout=wait + 120)
            result = json.loads(out.strip().splitlines()[-1])
            got += [{int(k): v for k, v in g.items()} for g in result["got"]]
            cpu.append(result["cpu"])
            ended += result["ended"]
        return got, cpu, ended


# --- the benchmark -------------------------------------------------------------------------------


def warm_up(stack: LiveStack, name: str, gid: str) -> None:
    """One subscription and one HTTP query, so lazily built state is not counted per connection."""

    async def once() -> None:
        import websockets

        async with websockets.connect(stack.ws_url(name), subprotocols=["graphql-transport-ws"]) as ws:
            init = {"type": "connection_init", "payload": {"authorization": bench_authorization()}}
            await ws.send(json.dumps(init))
            await ws.recv()
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": PROGRESS, "variables": {"id": gid, "afterSeq": 0}},
                    }
                )
            )
            await asyncio.wait_for(ws.recv(), 10)

    asyncio.run(once())
    stack.graphql("query { moods { name } }", daphne=name)


def log_reads() -> int:
    """Scans of the event-log table so far: during the run, each is a subscription re-reading the
    log (stream.py: a gap in the sequence, i.e. a message the layer lost or reordered, or 5 s quiet)."""
    from django.db import connection

    from subscriptions.models import ProgressEvent

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relname = %s",
            [ProgressEvent._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


class CpuSampler:
    """Samples a process's CPU seconds every 20 ms, so any window can be read afterwards."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            try:
                self.samples.append((time.time_ns(), cpu_seconds(self.pid)))
            except OSError:
                return

    def between(self, t0_ns: int, t1_ns: int) -> float:
        self.stop.set()
        self.thread.join()
        before = [c for t, c in self.samples if t <= t0_ns] or [self.samples[0][1]]
        after = [c for t, c in self.samples if t >= t1_ns] or [self.samples[-1][1]]
        return after[0] - before[-1]


def run_size(
    stack: LiveStack, args: argparse.Namespace, n: int, warm_gid: str, profile: bool, idle: bool
) -> dict[str, Any]:
    name = f"daphne-{n}"
    stack.start_daphne(name)
    daphne = stack.processes[name].pid
    pk, gid = create_composition()
    worker = Worker(stack, "bench.fanout")
    warm_up(stack, name, warm_gid)
    time.sleep(1.0)
    rss0 = proc_status(daphne, "VmRSS")
    clients = Clients(stack, stack.ws_url(name), gid, n, args.clients)
    connect_s, connect_retries = clients.wait_ready()
    time.sleep(1.0)
    rss1 = proc_status(daphne, "VmRSS")
    idle_rereads = idle_cpu = float("nan")
    if idle:  # the largest size only, to keep the run short
        idle_reads0, idle_cpu0 = log_reads(), cpu_seconds(daphne)
        time.sleep(IDLE_SECONDS)
        idle_rereads = (log_reads() - idle_reads0) / IDLE_SECONDS
        idle_cpu = (cpu_seconds(daphne) - idle_cpu0) / IDLE_SECONDS
    worker.wait_ready()
    profiler = (
        Profiler(daphne, stack.logs / f"daphne-fanout-{n}.pyspy.txt", args.events * args.interval + 3,
                 native=args.native)
        if profile else None
    )  # fmt: skip
    reads0 = log_reads()
    sampler = CpuSampler(daphne)
    worker.go(pk, args.events, args.interval, warmup=2, settle=SETTLE_SECONDS)
    published = worker.result()["published"]
    got, client_cpu, ended = clients.finish([r["seq"] for r in published], DRAIN_SECONDS)
    time.sleep(1.2)  # PostgreSQL publishes a backend's table statistics at most once a second
    rereads = log_reads() - reads0
    rss2 = proc_status(daphne, "VmRSS")
    hwm = proc_status(daphne, "VmHWM")
    limit = nofile_limit(daphne)
    lat, lost, dup, per_event_last, per_event_first = [], 0, 0, [], []
    for r in published:
        seq, t_pub = r["seq"], r["t_pub_ns"]
        arrivals = [g.get(seq) for g in got]
        lost += sum(1 for a in arrivals if a is None)
        dup += sum(1 for a in arrivals if a == -1)
        ok = [(a - t_pub) / 1e6 for a in arrivals if a and a > 0]
        lat += ok
        if ok:
            per_event_last.append(max(ok))
            per_event_first.append(min(ok))
    # CPU per event, from the first publish to the last arrival: compared with how long one
    # event takes to reach everyone, it says which process is saturated during a burst.
    last_arrival = max((a for g in got for a in g.values() if a > 0), default=published[-1]["t_pub_ns"])
    daphne_cpu = sampler.between(published[0]["t_pub_ns"], last_arrival)
    client_cpu_s = sum(c[1][1] - c[0][1] for c in client_cpu if c)
    stack.stop_process(name)
    worker.process.wait(10)
    return {
        "n": n,
        "events": len(published),
        "lat": lat,
        "lost": lost,
        "dup": dup,
        "connect_s": connect_s,
        "connect_retries": connect_retries,
        "ended": ended,
        "rereads": rereads,
        "idle_rereads": idle_rereads,
        "idle_cpu": idle_cpu,
        "rss0": rss0,
        "rss1": rss1,
        "rss2": rss2,
        "hwm": hwm,
        "per_event_last": per_event_last,
        "nofile": limit,
        "per_event_first": per_event_first,
        "daphne_cpu_ms": 1000 * daphne_cpu / len(published),
        "client_cpu_ms": 1000 * client_cpu_s / max(len(published) - 1, 1),
        "publish_ms": percentile([r["cost_ns"] / 1e6 for r in published], 50),
        "profile": profiler.summary() if profiler else "",
    }


def idle_cell(value: float, scale: float, unit: str) -> str:
    return "-" if value != value else f"{scale * value:.0f}{unit}"  # NaN: not measured at this size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    parser.add_argument("--clients", type=int, default=1, help="client processes sharing the websockets")
    parser.add_argument("--aim-p99", type=float, default=250.0, help="for the largest size")
    parser.add_argument("--profile", action="store_true", help="py-spy Daphne during the largest size")
    add_experiment_arguments(parser)
    parser.add_argument("--client", nargs=3, metavar=("URL", "GID", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    if args.client:
        client_main(args.client[0], args.client[1], int(args.client[2]))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    soft, _ = raise_nofile(max(sizes) * 2 + 1024)  # Daphne inherits it
    load_before = os.getloadavg()
    results = []
    with live_stack(REDIS_DB, args.keep_logs or args.profile, args.layer, args.gc_threshold) as stack:
        _, warm_gid = create_composition()
        for n in sizes:
            results.append(
                run_size(stack, args, n, warm_gid, args.profile and n == max(sizes), n == max(sizes))
            )
    report(args, results, soft, load_before)


def report(
    args: argparse.Namespace, results: list[dict[str, Any]], nofile: int, load_before: tuple[float, ...]
) -> None:
    largest = max(r["n"] for r in results)
    rows = [
        [
            "subscribers",
            "pairs",
            "p50 ms",
            "p99 ms",
            "max ms",
            "lost",
            "dup",
            "RSS before MB",
            "RSS after MB",
            "KB/conn",
            "connect s",
            "connect retries",
            "ended early",
            "log re-reads",
            "idle re-reads/s",
            "idle CPU",
            "spread ms",
            "Daphne CPU ms/ev",
            "client CPU ms/ev",
            "verdict",
        ]
    ]
    missed = []
    for r in results:
        p99 = percentile(r["lat"], 99)
        verdict = ""
        if r["lost"]:
            verdict = "MISSED (lost)"
        if r["n"] == largest:
            verdict = verdict or ("met" if p99 <= args.aim_p99 else f"MISSED (p99 > {args.aim_p99:g} ms)")
        if verdict.startswith("MISSED"):
            missed.append(f"{r['n']} subscribers: {verdict}")
        rows.append([
            str(r["n"]), str(r["n"] * r["events"]), f"{percentile(r['lat'], 50):.1f}", f"{p99:.1f}",
            f"{max(r['lat'], default=float('nan')):.1f}", str(r["lost"]), str(r["dup"]),
            f"{r['rss0'] / 1024:.1f}", f"{r['rss1'] / 1024:.1f}", f"{(r['rss1'] - r['rss0']) / r['n']:.1f}",
            f"{r['connect_s']:.1f}", str(r["connect_retries"]), str(r["ended"]), str(r["rereads"]),
            idle_cell(r["idle_rereads"], 1, ""), idle_cell(r["idle_cpu"], 100, " %"),
            f"{percentile(r['per_event_last'], 50):.1f}",
            f"{r['daphne_cpu_ms']:.1f}", f"{r['client_cpu_ms']:.1f}", verdict,
        ])  # fmt: skip
    print(f"command: {command_line('bench.fanout')}")
    print(machine_note(load_before))
    print(
        f"set-up: PostgreSQL scratch DB + Redis db {REDIS_DB}, layer {LAYERS[args.layer]}{gc_note(args)}, "
        f"a fresh Daphne per size (open files {results[0]['nofile']}), "
        f"1 worker process publishing {args.events} non-final events "
        f"every {args.interval:g} s via publish_event, {args.clients} client process(es) with all websockets "
        f"(open files {nofile}); latency = subscriber receive - worker publish, over every subscriber x event"
    )
    print()
    print(table(rows))
    print()
    for r in results:
        print(
            f"{r['n']:5d} subscribers: an event reached its last subscriber after p50 "
            f"{percentile(r['per_event_last'], 50):.1f} ms, "
            f"max {max(r['per_event_last'], default=float('nan')):.1f} ms; "
            f"publish_event p50 {r['publish_ms']:.1f} ms; Daphne RSS after the events "
            f"{r['rss2'] / 1024:.1f} MB (peak {r['hwm'] / 1024:.1f} MB)"
        )
    for r in results:
        print(
            f"{r['n']:5d} subscribers, per event in publish order, ms from publish to first/last subscriber: "
            + " ".join(
                f"{a:.0f}/{b:.0f}" for a, b in zip(r["per_event_first"], r["per_event_last"], strict=True)
            )
        )
    print(
        "(log re-reads = subscriptions re-reading the event log while events flowed: a gap or 5 s quiet; "
        f"idle = the {IDLE_SECONDS:g} s quiet window after connecting: re-reads per second, Daphne's CPU)"
    )
    print(
        "(spread = p50 time for an event to reach its last subscriber; CPU ms/ev = CPU seconds from the "
        "first publish to the last arrival / events: a process whose CPU per event nears the spread is "
        "saturated)"
    )
    print()
    print(f"aim: {largest} subscribers p99 <= {args.aim_p99:g} ms and no event lost at any size")
    print("aims met" if not missed else "AIM MISSED: " + "; ".join(missed))
    for r in results:
        if r["profile"]:
            print()
            print(f"{r['n']} subscribers: {r['profile']}")


if __name__ == "__main__":
    main()
