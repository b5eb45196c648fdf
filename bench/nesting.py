"""Benchmark 1, nesting cost: SQL queries and time for a page of 1, 20 and 100 compositions with
every nested field (tests.queries.COMPOSITIONS_PAGE), through /graphql, with the strawberry-django
optimizer on and turned off (DjangoOptimizerExtension.disabled(): see `variants`).

In-process, through the product's ASGI application (backend.asgi) at /graphql.
Queries are counted with CaptureQueriesContext; times are medians of runs without capture.
Aim: with the optimizer, the same number of queries for every page size, at most 12.

    .venv/bin/python -m bench.nesting [--sizes 1,20,100] [--repeat 3] [--budget 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from . import common

AIM_QUERIES = 12


def without_optimizer_fallbacks() -> list[str]:
    """What the unoptimized schema needs to answer at all: resolvers that read attributes only the
    optimizer's prefetch hints set get a plain (one query per object) fallback. Returns their names."""
    from strawberry_django.optimizer import DjangoOptimizerExtension

    from modules.composition.models import Composition

    class CurrentArtifacts:
        # Composition.artifacts reads root.current_artifacts, a Prefetch(to_attr=...) of the optimizer.
        def __get__(self, obj: Any, owner: Any = None) -> Any:
            if obj is None:
                return self
            if "current_artifacts" not in obj.__dict__:
                if DjangoOptimizerExtension.enabled.get():
                    # As without the fallback: Django's prefetch asks hasattr() before it sets it.
                    raise AttributeError("current_artifacts")
                obj.__dict__["current_artifacts"] = list(obj.artifacts.filter(current=True))
            return obj.__dict__["current_artifacts"]

        def __set__(self, obj: Any, value: Any) -> None:
            obj.__dict__["current_artifacts"] = value

    if "current_artifacts" not in vars(Composition):
        Composition.current_artifacts = CurrentArtifacts()  # type: ignore[attr-defined]
    return ["Composition.artifacts (reads current_artifacts, set only by the optimizer's Prefetch to_attr)"]


def variants() -> dict[str, Callable[[], contextlib.AbstractContextManager]]:
    """The product schema as served, and the same schema with the optimizer turned off.

    Turned off with DjangoOptimizerExtension.disabled() (a context variable the extension reads):
    a second strawberry.Schema built from schema.root's Query cannot exist beside the product's
    in one process, because the relay `node` field's extension mutates the shared field when the
    first schema is built (strawberry/relay/fields.py asserts `field.base_resolver is None` on the
    second build). The extension's resolve hook still runs, returning at once.
    """
    from strawberry_django.optimizer import DjangoOptimizerExtension

    return {"optimized": contextlib.nullcontext, "unoptimized": DjangoOptimizerExtension.disabled}


def run(variant: Callable[[], contextlib.AbstractContextManager], first: int) -> tuple[dict, float]:
    """One page through backend.asgi at /graphql. Called from this (the main) thread, so the ORM
    calls (sync_to_async, thread-sensitive) run here and CaptureQueriesContext sees them."""
    from asgiref.sync import async_to_sync

    from backend.asgi import application
    from tests.queries import COMPOSITIONS_PAGE

    body = json.dumps({"query": COMPOSITIONS_PAGE, "variables": {"first": first}}).encode()
    t0 = time.perf_counter()
    with variant():
        result = async_to_sync(common.asgi_post)(application, "/graphql", body)
    elapsed = time.perf_counter() - t0
    assert "errors" not in result, result["errors"]
    assert len(result["data"]["compositions"]["edges"]) == first
    return result, elapsed


def count_queries(variant: Callable[[], contextlib.AbstractContextManager], first: int) -> tuple[int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result, _ = run(variant, first)
    return len(captured.captured_queries), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,20,100", help="page sizes (default 1,20,100)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per page and schema (median)")
    parser.add_argument("--budget", type=float, default=20.0, help="no further repeat after this many s")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    with common.stack():
        common.header(
            "1. nesting cost: a page of compositions with every nested field, optimizer on / off",
            f"in-process through /graphql (backend.asgi); compositions sized like a real 60 s song; "
            f"median of {args.repeat} runs (fewer past {args.budget:g} s per size)",
        )
        common.seed_compositions(max(sizes))
        fallbacks = without_optimizer_fallbacks()
        apps = variants()
        counts: dict[str, dict[int, int]] = {"optimized": {}, "unoptimized": {}}
        times: dict[str, dict[int, float]] = {"optimized": {}, "unoptimized": {}}
        for variant in apps.values():
            run(variant, 1)  # warm: first-request imports, parser and validation caches
        for first in sizes:
            results = {}
            for name, variant in apps.items():
                counts[name][first], results[name] = count_queries(variant, first)
            assert common.unsigned(results["optimized"]) == common.unsigned(results["unoptimized"]), (
                "the two schemas answered differently"
            )
            samples: dict[str, list[float]] = {name: [] for name in apps}
            started = time.perf_counter()
            for i in range(args.repeat):  # interleaved, so drift hits both alike
                if i and time.perf_counter() - started > args.budget:
                    break
                for name, variant in apps.items():
                    samples[name].append(run(variant, first)[1])
            for name in apps:
                times[name][first] = common.median(samples[name])

        optimized = counts["optimized"]
        constant = len(set(optimized.values())) == 1
        for first in sizes:
            q = optimized[first]
            common.report(
                f"SQL queries, page of {first}, optimizer on",
                q,
                f"== all, <= {AIM_QUERIES}",
                constant and q <= AIM_QUERIES,
            )
        for first in sizes:
            common.report(f"SQL queries, page of {first}, optimizer off", counts["unoptimized"][first])
        for first in sizes:
            common.report(f"time, page of {first}, optimizer on", common.ms(times["optimized"][first]))
            common.report(f"time, page of {first}, optimizer off", common.ms(times["unoptimized"][first]))
            common.report(
                f"time ratio off / on, page of {first}",
                f"{times['unoptimized'][first] / times['optimized'][first]:.2f}x",
            )
        for fallback in fallbacks:
            common.note(f"optimizer off needed a bench-only fallback: {fallback}")
    return common.finish()


if __name__ == "__main__":
    raise SystemExit(main())
