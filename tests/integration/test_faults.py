"""Live progress that never lies, and a pipeline that survives faults (issue 4).

Real processes throughout: Daphne (two of them on one Redis), a Celery worker
(whose pool process is killed with SIGKILL mid-stage), a scratch PostgreSQL
database, and a private redis-server that is restarted under a subscriber and
under a queued task (which the stuck sweep then resumes). The websocket client
speaks graphql-transport-ws and, where a test says so, reconnects with the last
seq it saw.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import websockets

from tests.conftest import require_service
from tests.integration.live import LiveStack, RedisServer, scratch_database
from tests.queries import CREATE

pytestmark = pytest.mark.timeout(300)

EVENT_FIELDS = "compositionId seq stage status progress message terminal createdAt"
PROGRESS = f"""
subscription Progress($id: ID!, $afterSeq: Int!) {{
  compositionProgress(id: $id, afterSeq: $afterSeq) {{ {EVENT_FIELDS} }}
}}
"""
MINE = f"subscription Mine {{ myCompositionEvents {{ {EVENT_FIELDS} }} }}"
STATE = """
query State($id: ID!) {
  composition(id: $id) {
    status lastSeq error
    stages { name status attempts startedAt finishedAt message }
    layers { name }
    master { integratedLufs wav { url } }
    artifacts { name stage url }
  }
}
"""
CANCEL = "mutation Cancel($id: ID!) { cancelComposition(id: $id) { status } }"
STAGES = ["mood", "genre", "arrangement", "lyrics", "voice", "mastering"]
# Every stage really runs in these stacks: no result is borrowed from an earlier composition.
STACK_ENV = {"CODA_REUSE_RESULTS": "0", "LOG_LEVEL": "INFO"}


# --- a graphql-transport-ws client that keeps what it saw ------------------------------------


class Stalled(Exception):
    """No message for longer than the caller allowed."""


@dataclass
class Subscriber:
    """One subscription's view over one or more websocket connections (a reconnecting client)."""

    query: str
    root_field: str = "compositionProgress"
    headers: dict[str, str] | None = None
    token: str = ""  # an API token, sent in connection_init
    events: list[dict[str, Any]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # time.time() at each event's arrival
    errors: list[dict[str, Any]] = field(default_factory=list)
    completed: bool = False
    connections: int = 0

    @property
    def last_seq(self) -> int:
        return self.events[-1]["seq"] if self.events else 0

    async def run(
        self,
        url: str,
        variables: dict[str, Any],
        *,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        until: Callable[[dict[str, Any]], bool] | None = None,
        idle: float = 60.0,
    ) -> None:
        """One connection: returns on `complete`, an `error`, `until(event)` or the socket closing.

        Raises Stalled after `idle` seconds without a message, and websockets'/OS errors as they come.
        """
        async with websockets.connect(
            url, subprotocols=["graphql-transport-ws"], additional_headers=self.headers, open_timeout=10
        ) as ws:
            self.connections += 1
            init = {"authorization": f"Bearer {self.token}"} if self.token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ack["type"] == "connection_ack", ack
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": self.query, "variables": variables}}
                )
            )
            while True:
                try:
                    raw = await asyncio.wait_for(ws.recv(), idle)
                except TimeoutError:
                    raise Stalled(f"no message for {idle} s after seq {self.last_seq}") from None
                message = json.loads(raw)
                kind = message["type"]
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.errors.extend(payload["errors"])
                        continue
                    event = payload["data"][self.root_field]
                    self.events.append(event)
                    self.arrived.append(time.time())
                    if on_event is not None:
                        await asyncio.to_thread(on_event, event)
                    if until is not None and until(event):
                        return
                elif kind == "complete":
                    self.completed = True
                    return
                elif kind == "error":
                    self.errors.extend(message["payload"])
                    return


def follow(
    url: str,
    gid: str,
    *,
    after_seq: int = 0,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    timeout: float = 120.0,
    token: str = "",
) -> Subscriber:
    """compositionProgress(id, afterSeq) on one connection, until it completes."""
    subscriber = Subscriber(PROGRESS, token=token)

    async def go() -> None:
        async with asyncio.timeout(timeout):
            await subscriber.run(url, {"id": gid, "afterSeq": after_seq}, on_event=on_event)

    asyncio.run(go())
    return subscriber


# --- checks ---------------------------------------------------------------------------------


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


def assert_whole_story(subscriber: Subscriber, final: str, gid: str, log: str = "") -> None:
    """seq 1..n without a gap or a repeat, one final event (the last), then `complete`."""
    events = subscriber.events
    assert not subscriber.errors, subscriber.errors
    assert seqs(events) == list(range(1, len(events) + 1)), f"missing or repeated events: {seqs(events)}"
    assert events, "no event at all"
    assert events[0]["status"] == "QUEUED"
    assert all(e["compositionId"] == gid for e in events)
    last = events[-1]
    assert last["terminal"] and last["stage"] is None and last["status"] == final, (
        f"the last event is {last}, not the final {final}\n{log[-3000:]}"
    )
    assert [e["seq"] for e in events if e["terminal"]] == [last["seq"]], "a final event before the last"
    assert subscriber.completed, "the subscription did not complete after the final event"


def pk_of(gid: str) -> int:
    type_name, pk = base64.b64decode(gid).decode().split(":")
    assert type_name == "Composition"
    return int(pk)


def create(stack: LiveStack, seed: int, duration: int, *, daphne: str | None = None, **extra: Any) -> str:
    prompt = extra.pop("prompt", "uplifting electronic music with dreamy vocals")
    created = stack.graphql(
        CREATE,
        {"input": {"prompt": prompt, "seed": seed, "durationSeconds": duration}},
        daphne=daphne,
        **extra,
    )
    assert "errors" not in created, created
    assert created["data"]["createComposition"]["status"] == "QUEUED"
    return created["data"]["createComposition"]["id"]


def state(stack: LiveStack, gid: str, daphne: str | None = None) -> dict[str, Any]:
    data = stack.graphql(STATE, {"id": gid}, daphne=daphne)
    assert "errors" not in data, data
    return data["data"]["composition"]


def sql(stack: LiveStack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    assert stack.database_url is not None
    with psycopg.connect(stack.database_url) as conn:
        return conn.execute(query, params).fetchall()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# --- stacks ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """One Redis (a database of the test server's), one worker, two Daphne processes."""
    pg = require_service(os.environ.get("CODA_TEST_DATABASE_URL"), "PostgreSQL", 5432)
    redis_url = require_service(os.environ.get("CODA_TEST_REDIS_URL"), "Redis", 6379)
    redis_url = redis_url.rsplit("/", 1)[0] + "/8"  # a database of our own, flushed
    redis.Redis.from_url(redis_url).flushdb()
    with scratch_database(pg) as database_url:
        live = LiveStack(database_url, redis_url, tmp_path_factory.mktemp("media"), extra_env=dict(STACK_ENV))
        live.logs = tmp_path_factory.mktemp("logs")
        live.manage("migrate", "--noinput")
        live.sign_in()
        live.start_worker()
        live.start_daphne("daphne")
        live.start_daphne("daphne-b")
        try:
            yield live
        finally:
            live.stop()


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveStack, RedisServer]]:
    """A stack on a redis-server of its own (restartable); its worker is started by the tests."""
    pg = require_service(os.environ.get("CODA_TEST_DATABASE_URL"), "PostgreSQL", 5432)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        with scratch_database(pg) as database_url:
            live = LiveStack(
                database_url, server.url, tmp_path_factory.mktemp("media"), extra_env=dict(STACK_ENV)
            )
            live.logs = tmp_path_factory.mktemp("logs")
            live.manage("migrate", "--noinput")
            live.sign_in()
            live.start_daphne()
            try:
                yield live, server
            finally:
                live.stop()
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def settled(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, leave its stack idle, so a failure does not spill into the next test."""
    yield
    for name in ("stack", "private"):
        if name in request.fixturenames:
            value = request.getfixturevalue(name)
            settle(value[0] if isinstance(value, tuple) else value)


def settle(live: LiveStack) -> None:
    """Cancel what is still queued or running (only after a failed test), and let the worker drain."""
    unfinished = sql(live, "SELECT id FROM composition_composition WHERE status IN ('QUEUED', 'RUNNING')")
    for (pk,) in unfinished:
        live.graphql(CANCEL, {"id": base64.b64encode(f"Composition:{pk}".encode()).decode()})
    if unfinished:
        time.sleep(2.0)  # a running stage stops at its next progress report


# --- 1. two Daphne processes ----------------------------------------------------------------


def test_events_made_through_one_daphne_stream_live_through_another(stack: LiveStack) -> None:
    gid = create(stack, seed=101, duration=20, daphne="daphne")
    connected = time.time()
    subscriber = follow(stack.ws_url("daphne-b"), gid, token=stack.token)

    assert_whole_story(subscriber, "SUCCEEDED", gid, stack.log("worker"))
    finished = [e["stage"] for e in subscriber.events if e["status"] == "SUCCEEDED" and e["stage"]]
    assert finished == STAGES
    # Live, not caught up from the log now and then: each event made after the subscription
    # started reached Daphne B through the channel layer within moments of being made.
    lags = [
        arrived - created
        for e, arrived in zip(subscriber.events, subscriber.arrived, strict=True)
        if (created := _timestamp(e["createdAt"])) > connected + 0.5
    ]
    assert len(lags) >= 10, f"too few live events to judge: {len(lags)}"
    assert max(lags) < 2.0, f"events reached Daphne B late (s): {sorted(lags)[-5:]}"
    assert state(stack, gid, daphne="daphne-b")["status"] == "SUCCEEDED"
    assert state(stack, gid, daphne="daphne")["lastSeq"] == subscriber.last_seq


def _timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# --- 2. subscribing after the end -----------------------------------------------------------


def test_subscribing_after_the_end_replays_everything_then_completes(stack: LiveStack) -> None:
    gid = create(stack, seed=202, duration=15)
    live = follow(stack.ws_url("daphne"), gid, token=stack.token)
    assert_whole_story(live, "SUCCEEDED", gid, stack.log("worker"))

    for daphne in ("daphne", "daphne-b"):
        started = time.monotonic()
        replay = follow(stack.ws_url(daphne), gid, token=stack.token, timeout=30)
        took = time.monotonic() - started
        assert_whole_story(replay, "SUCCEEDED", gid)
        assert replay.events == live.events, f"the replay through {daphne} differs from what was streamed"
        assert took < 3.0, f"the replay through {daphne} took {took:.1f} s to complete"
        assert replay.connections == 1

    # Reconnecting after seq k of a finished composition gives exactly the rest.
    k = len(live.events) - 3
    rest = follow(stack.ws_url("daphne-b"), gid, token=stack.token, after_seq=k, timeout=30)
    assert rest.events == live.events[k:] and rest.completed


def test_subscribing_after_the_final_seq_completes_at_once(stack: LiveStack) -> None:
    # A client that saw the final event but lost the connection before `complete` reconnects
    # with afterSeq = the final seq: nothing is left to send, so the stream must end, not wait.
    gid = create(stack, seed=222, duration=15)
    live = follow(stack.ws_url(), gid, token=stack.token)
    assert_whole_story(live, "SUCCEEDED", gid, stack.log("worker"))
    started = time.monotonic()
    try:
        rest = follow(stack.ws_url("daphne-b"), gid, token=stack.token, after_seq=live.last_seq, timeout=20)
    except TimeoutError:
        raise AssertionError(f"afterSeq={live.last_seq} (the final event) never completed in 20 s") from None
    took = time.monotonic() - started
    assert rest.events == [] and rest.completed and not rest.errors
    assert took < 3.0, f"afterSeq={live.last_seq} (the final event) took {took:.1f} s to complete"


# --- 3. a worker process killed mid-stage ---------------------------------------------------

MASTERING_STATUS = "SELECT status FROM composition_stagerun WHERE composition_id = %s AND name = 'mastering'"
FILES_ON_RECORD = "SELECT file, stage FROM composition_artifact WHERE composition_id = %s"


def stopped(pid: int) -> bool:
    """Every thread of the process is stopped (signals arrive asynchronously: look in /proc)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # that thread has just ended
            continue
        if state not in "Tt":
            return False
    return True


def test_a_worker_process_killed_mid_stage_is_redelivered_without_duplicates(stack: LiveStack) -> None:
    main = stack.processes["worker"]
    wait_until(lambda: len(stack.children("worker")) == 1, 30, "the worker's pool process")
    gid = create(stack, seed=303, duration=45)
    pk = pk_of(gid)
    folder = Path(stack.media_root) / "compositions" / str(pk)
    killed: list[tuple[int, str]] = []  # (pool pid, what it was doing)
    done = threading.Event()
    problems: list[str] = []

    def kill_in_mastering() -> None:
        # Mastering renders, then writes its stems and the master formats one by one through the
        # storage. Kill its pool process at the worst moment, a file on disk with no row yet (being
        # written): freeze the process (SIGSTOP) when a new file appears, look, and kill it if so,
        # else let it go on (SIGCONT). Failing to catch one, kill it once three files are on record.
        assert stack.database_url is not None
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            while not done.is_set() and conn.execute(MASTERING_STATUS, (pk,)).fetchone() != ("RUNNING",):
                time.sleep(0.02)
            children = stack.children("worker")
            if len(children) != 1:
                problems.append(f"expected one pool process, found {children}")
                return
            recorded: set[str] = set()
            while not done.is_set():
                present = set(os.listdir(folder)) if folder.exists() else set()
                if present - recorded:
                    os.kill(children[0], signal.SIGSTOP)
                    wait_until(lambda: stopped(children[0]), 5, "the pool process to stop", 0.001)
                    rows = conn.execute(FILES_ON_RECORD, (pk,)).fetchall()
                    recorded = {Path(file).name for file, _ in rows}
                    torn = set(os.listdir(folder)) - recorded
                    if torn or sum(stage == "mastering" for _, stage in rows) >= 3:
                        os.kill(children[0], signal.SIGKILL)
                        what = f"writing {sorted(torn)}" if torn else "between files"
                        killed.append((children[0], what))
                        return
                    os.kill(children[0], signal.SIGCONT)
                time.sleep(0.001)

    killer = threading.Thread(target=kill_in_mastering, daemon=True)
    killer.start()
    try:
        subscriber = follow(stack.ws_url("daphne"), gid, token=stack.token, timeout=180)
    finally:
        done.set()
        killer.join(10)
    log = stack.log("worker")
    assert not problems, problems
    assert killed, f"never caught mastering mid-run: {[(e['stage'], e['status']) for e in subscriber.events]}"
    print(f"\nkilled pool process {killed[0][0]} {killed[0][1]}")
    assert_whole_story(subscriber, "SUCCEEDED", gid, log)
    assert main.poll() is None, "the worker's main process died"
    assert "WorkerLostError" in log or "SIGKILL" in log, log[-3000:]
    new_children = stack.children("worker")
    assert len(new_children) == 1 and new_children[0] != killed[0][0], (killed, new_children)

    # The stage ran twice, as the events and its attempts say; every other stage once.
    starts = [e["stage"] for e in subscriber.events if e["status"] == "STARTED"]
    assert starts == [*STAGES, "mastering"], starts
    song = state(stack, gid)
    assert song["status"] == "SUCCEEDED"
    attempts = {s["name"]: s["attempts"] for s in song["stages"]}
    assert attempts["mastering"] >= 2, attempts
    assert all(attempts[name] == 1 for name in STAGES[:-1]), attempts
    assert {s["status"] for s in song["stages"]} == {"SUCCEEDED"}

    # No duplicated rows: one master, one layer per name, current artifacts unique by name.
    assert sql(stack, "SELECT count(*) FROM mastering_master WHERE composition_id=%s", pk) == [(1,)]
    layer_rows = sql(stack, "SELECT name FROM arrangement_layer WHERE composition_id=%s", pk)
    assert len(layer_rows) == len({name for (name,) in layer_rows}) == len(song["layers"]) > 0
    artifacts = "SELECT name, file FROM composition_artifact WHERE composition_id=%s AND current = %s"
    current = sql(stack, artifacts, pk, True)
    names = [name for name, _ in current]
    assert len(names) == len(set(names)), sorted(names)
    assert sorted(a["name"] for a in song["artifacts"]) == sorted(names)
    assert {"master.wav", "master.flac", "master.mp3", "composition.json"} <= set(names)
    assert sql(stack, artifacts, pk, False) == []  # nothing replaced: no versions, no leftovers
    # No duplicated files: the composition's folder holds exactly the current artifacts' files.
    on_disk = {p.name for p in folder.iterdir()}
    referenced = {Path(f).name for _, f in current}
    assert on_disk == referenced, (
        f"killed {killed[0][1]}; files no artifact refers to: {sorted(on_disk - referenced)}; "
        f"artifacts without a file: {sorted(referenced - on_disk)}"
    )
    status, body = stack.download(song["master"]["wav"]["url"])
    assert status == 200 and body[:4] == b"RIFF"


# --- 5. cancelling while a stage runs -------------------------------------------------------


def test_cancel_while_a_stage_runs_ends_the_stream_with_cancelled_and_nothing_after(stack: LiveStack) -> None:
    gid = create(stack, seed=505, duration=60)
    pk = pk_of(gid)
    cancelled: list[dict[str, Any]] = []

    def cancel_in_voice(event: dict[str, Any]) -> None:
        if not cancelled and event["stage"] == "voice" and event["status"] == "PROGRESS":
            answer = stack.graphql(CANCEL, {"id": gid}, daphne="daphne-b")
            cancelled.append(answer)

    subscriber = follow(stack.ws_url("daphne"), gid, token=stack.token, on_event=cancel_in_voice)
    assert cancelled, "never caught the voice stage running"
    assert cancelled[0]["data"] == {"cancelComposition": {"status": "CANCELLED"}}, cancelled
    assert_whole_story(subscriber, "CANCELLED", gid, stack.log("worker"))

    # Let the worker notice and the rest of the chain drain, then look at what was kept.
    wait_until(
        lambda: not any(s["status"] == "RUNNING" for s in state(stack, gid)["stages"]), 30, "voice to stop"
    )
    time.sleep(2.0)
    song = state(stack, gid)
    stages = {s["name"]: s for s in song["stages"]}
    assert song["status"] == "CANCELLED"
    assert stages["voice"]["status"] == "CANCELLED", stages["voice"]
    assert stages["mastering"]["status"] == "CANCELLED" and stages["mastering"]["startedAt"] is None
    assert stages["mastering"]["attempts"] == 0
    assert song["master"] is None
    assert not [a for a in song["artifacts"] if a["stage"] in ("voice", "mastering")], song["artifacts"]
    assert sql(stack, "SELECT count(*) FROM mastering_master WHERE composition_id=%s", pk) == [(0,)]
    assert not [e for e in subscriber.events if e["stage"] == "mastering"]

    # Nothing was logged after the final event: a fresh subscription replays the same story.
    replay = follow(stack.ws_url("daphne-b"), gid, token=stack.token, timeout=30)
    assert replay.events == subscriber.events
    assert replay.events[-1]["status"] == "CANCELLED" and replay.events[-1]["terminal"]
    assert song["lastSeq"] == replay.last_seq
    assert sql(stack, "SELECT max(seq) FROM subscriptions_progressevent WHERE composition_id=%s", pk) == [
        (replay.last_seq,)
    ]


# --- 6. a signed-in user's own stream -------------------------------------------------------

SESSION_FOR_NEW_USER = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user("{name}", password="not-used-0")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SESSION", user.pk, session.session_key)
"""


def test_my_composition_events_streams_the_owners_compositions_only(stack: LiveStack) -> None:
    out = stack.manage("shell", "-c", SESSION_FOR_NEW_USER.format(name="ada"))
    _, user_id, key = next(line for line in out.splitlines() if line.startswith("SESSION ")).split()
    cookie = {"Cookie": f"sessionid={key}"}
    # A session's mutations pass Django's CSRF check: the csrftoken cookie echoed in a header.
    csrf = "c" * 32
    session_post = {"Cookie": f"sessionid={key}; csrftoken={csrf}", "X-CSRFToken": csrf}

    anonymous = Subscriber(MINE, root_field="myCompositionEvents")
    asyncio.run(asyncio.wait_for(anonymous.run(stack.ws_url(), {}), 30))
    assert not anonymous.events
    assert [e.get("extensions", {}).get("code") for e in anonymous.errors] == ["UNAUTHENTICATED"], (
        anonymous.errors
    )

    mine = Subscriber(MINE, root_field="myCompositionEvents", headers=cookie)
    ids: dict[str, str] = {}

    async def go() -> None:
        task = asyncio.create_task(
            mine.run(
                stack.ws_url("daphne-b"),
                {},
                until=lambda e: e["terminal"] and e["compositionId"] == ids.get("mine"),
            )
        )
        await asyncio.sleep(1.5)  # the subscription has joined the user's group
        assert not task.done(), mine.errors
        ids["other"] = await asyncio.to_thread(create, stack, 611, 15)
        ids["mine"] = await asyncio.to_thread(create, stack, 612, 15, headers=session_post)
        await asyncio.wait_for(task, 120)

    asyncio.run(go())
    assert not mine.errors, mine.errors
    assert sql(stack, "SELECT owner_id FROM composition_composition WHERE id=%s", pk_of(ids["mine"])) == [
        (int(user_id),)
    ]
    other_owner = sql(stack, "SELECT owner_id FROM composition_composition WHERE id=%s", pk_of(ids["other"]))
    assert other_owner != [(int(user_id),)]  # made with the stack's token, by another user
    assert {e["compositionId"] for e in mine.events} == {ids["mine"]}, "another composition's events"
    assert seqs(mine.events) == list(range(1, len(mine.events) + 1)), seqs(mine.events)
    assert mine.events[-1]["status"] == "SUCCEEDED" and mine.events[-1]["terminal"]
    # The same events the composition's own stream has.
    own = Subscriber(PROGRESS, headers=cookie)  # the owner's session: the stack's token may not read it
    asyncio.run(asyncio.wait_for(own.run(stack.ws_url(), {"id": ids["mine"], "afterSeq": 0}), 30))
    assert own.events == mine.events


# --- 7. an idle subscription on Redis -------------------------------------------------------


def test_an_idle_subscription_survives_20_seconds_on_redis(private: tuple[LiveStack, RedisServer]) -> None:
    live, _ = private
    assert "worker" not in live.processes, "this test needs the worker not yet started"
    gid = create(live, seed=707, duration=15)
    subscriber = Subscriber(PROGRESS, token=live.token)
    idle = 20.0

    async def go() -> None:
        task = asyncio.create_task(subscriber.run(live.ws_url(), {"id": gid, "afterSeq": 0}, idle=90))
        await asyncio.sleep(idle)
        if task.done():
            how = "completed" if subscriber.completed else f"closed: {task.exception()!r}"
            raise AssertionError(
                f"the subscription ended while idle ({how}) before the final event: {subscriber.events} "
                f"{subscriber.errors}"
            )
        assert seqs(subscriber.events) == [1]  # QUEUED, then nothing: no worker
        await asyncio.to_thread(live.start_worker)
        await asyncio.wait_for(task, 120)

    asyncio.run(go())
    assert_whole_story(subscriber, "SUCCEEDED", gid, live.log("worker"))
    assert subscriber.connections == 1
    assert subscriber.arrived[1] - subscriber.arrived[0] >= idle - 0.5
    assert state(live, gid)["status"] == "SUCCEEDED"


# --- 4. Redis restarted under a subscriber --------------------------------------------------


async def follow_reconnecting(
    subscriber: Subscriber,
    url: str,
    gid: str,
    trouble: list[str],
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_stall: Callable[[], None] | None = None,
    idle: float = 12.0,
) -> None:
    """The reconnecting client: subscribe again with the last seq seen until the final event came.

    Lost connections and errors are noted in `trouble` and retried; a completion without the final
    event is a lie and fails. A stall calls `on_stall` (once) or fails.
    """
    stalls = 0
    while not (subscriber.events and subscriber.events[-1]["terminal"]):
        try:
            variables = {"id": gid, "afterSeq": subscriber.last_seq}
            await subscriber.run(url, variables, on_event=on_event, idle=idle)
        except Stalled as exc:
            stalls += 1
            if on_stall is None or stalls > 1:
                raise
            trouble.append(f"stalled: {exc}")
            await asyncio.to_thread(on_stall)
            continue
        except (OSError, websockets.ConnectionClosed) as exc:
            trouble.append(f"{type(exc).__name__}: {exc}")
        if subscriber.errors:  # e.g. the layer unreachable while Redis restarts: try again
            trouble.append(f"errors: {subscriber.errors}")
            subscriber.errors.clear()
            subscriber.completed = False
        elif subscriber.completed and not subscriber.events[-1]["terminal"]:
            raise AssertionError(f"completed without the final event: {seqs(subscriber.events)}")
        await asyncio.sleep(0.5)


def test_a_subscriber_reconnects_across_a_redis_restart_and_misses_nothing(
    private: tuple[LiveStack, RedisServer],
) -> None:
    live, server = private
    if "worker" not in live.processes:
        live.start_worker()
    gid = create(live, seed=404, duration=45)
    subscriber = Subscriber(PROGRESS, token=live.token)
    restarted: list[int] = []
    trouble: list[str] = []
    swept: list[str] = []

    def restart_in_mastering(event: dict[str, Any]) -> None:
        if not restarted and event["stage"] == "mastering" and event["status"] == "PROGRESS":
            server.restart()
            restarted.append(event["seq"])

    def sweep() -> None:
        # The in-flight task message may be gone with Redis's memory: the stuck sweep resumes.
        swept.append(live.manage("sweep", env={"CODA_STUCK_AFTER_SECONDS": "5"}).strip())

    asyncio.run(
        asyncio.wait_for(
            follow_reconnecting(
                subscriber, live.ws_url(), gid, trouble, on_event=restart_in_mastering, on_stall=sweep
            ),
            180,
        )
    )
    print(f"\nredis restarted after seq {restarted}; connections {subscriber.connections}; "
          f"trouble {trouble}; sweep {swept}")  # fmt: skip
    assert restarted, "never caught mastering running"
    assert_whole_story(subscriber, "SUCCEEDED", gid, live.log("worker"))
    assert seqs(subscriber.events)[-1] > restarted[0]
    song = state(live, gid)
    assert song["status"] == "SUCCEEDED" and song["lastSeq"] == subscriber.last_seq
    assert {s["status"] for s in song["stages"]} == {"SUCCEEDED"}
    assert song["master"] is not None


def test_a_task_message_lost_with_redis_is_resumed_by_the_stuck_sweep(
    private: tuple[LiveStack, RedisServer],
) -> None:
    live, server = private
    if "worker" in live.processes:
        live.stop_process("worker")
    gid = create(live, seed=808, duration=15)
    server.restart()  # the queued task message was only in Redis's memory
    live.start_worker()
    time.sleep(6.0)
    stalled = state(live, gid)
    assert stalled["status"] == "QUEUED" and stalled["lastSeq"] == 1, "the message was not lost after all"

    out = live.manage("sweep", env={"CODA_STUCK_AFTER_SECONDS": "3"})
    swept = json.loads(out.strip().splitlines()[-1])
    assert pk_of(gid) in swept["resumed"] and swept["failed"] == [], out
    subscriber = Subscriber(PROGRESS, token=live.token)
    trouble: list[str] = []
    asyncio.run(asyncio.wait_for(follow_reconnecting(subscriber, live.ws_url(), gid, trouble), 120))
    print(f"\nafter the sweep: connections {subscriber.connections}; trouble {trouble}")
    assert_whole_story(subscriber, "SUCCEEDED", gid, live.log("worker"))
    resumed = [e for e in subscriber.events if e["message"] == "resumed after the pipeline stalled"]
    assert [e["status"] for e in resumed] == ["RUNNING"]
    finished = [e["stage"] for e in subscriber.events if e["status"] == "SUCCEEDED" and e["stage"]]
    assert finished == STAGES
    assert state(live, gid)["status"] == "SUCCEEDED"


def test_a_new_subscription_works_at_once_after_redis_restarted(
    private: tuple[LiveStack, RedisServer],
) -> None:
    live, server = private
    if "worker" not in live.processes:
        live.start_worker()
    gid = create(live, seed=909, duration=15)
    before = follow(live.ws_url(), gid, token=live.token)  # Daphne now holds pooled connections to Redis
    assert_whole_story(before, "SUCCEEDED", gid, live.log("worker"))
    server.restart()
    # Redis answers again: a client subscribing now must not see Redis's restart at all.
    after = follow(live.ws_url(), gid, token=live.token, timeout=30)
    assert not after.errors, f"a subscription after the restart failed: {after.errors}"
    assert after.events == before.events and after.completed
