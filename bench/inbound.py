"""Inbound webhook benchmark: supportbot beside the floor every webhook must pay.

Servers, all under the same gunicorn settings: `bare` (signature only),
`durable` (signature, one INSERT unique on MessageSid, TwiML: bench/durable_app.py),
`supportbot` (two stages: inline while the process keeps up, deferred past
INBOUND_INLINE_LIMIT) and `inline` (supportbot that never defers: its capacity is
the "inline capacity"). A separate process sends unique signed texts from new
numbers; open-loop latency counts from each request's scheduled time.

Runs (pick with --runs): ref (rates and max for each server), classes (gunicorn
worker class and counts), worker (200/s with a worker running), overload (3x the
inline capacity for 30 s, then normal load; then a worker drains and every
deferred text must get its reply SMS at the sandbox), big (a million messages and
100,000 contacts against an empty database), keywords (1,000 keywords against 10).
Compare ratios within one run, never absolutes across runs.

    python -m bench.inbound [--seconds 10] [--runs ref,worker,overload,big,keywords,classes]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from pathlib import Path

import redis

from bench import load
from bench.inbound_setup import (
    TOKEN,
    Server,
    fill,
    keywords_file,
    migrate,
    scalar,
    start_worker,
    supportbot_env,
)

DB, DB_BIG = "supportbot_bench", "supportbot_bench_big"
REDIS = "redis://127.0.0.1:6379/9"
GUNICORN = {"workers": 2, "threads": 16, "worker_class": "gthread"}  # the Procfile's
COLS = ("sent", "err", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "twiml%")


def _load_process(kind: str, port: int, base: str, args: dict, out: mp.Queue) -> None:
    run = args.get("run") or uuid.uuid4().hex[:8]
    body = args.get("body")
    # new numbers in every measurement: a repeated sender would join its open ticket
    shift = int(run, 16) % 8_000_000
    if kind == "rate":
        n = int(args["rate"] * args["seconds"])
        reqs = [load.signed_inbound(base, TOKEN, i + shift, run, body) for i in range(n)]
        out.put(load.run_fixed_rate(port, reqs, args["rate"], threads=args.get("threads", 32)))
    elif kind == "schedule":
        offsets = args["offsets"]
        reqs = [load.signed_inbound(base, TOKEN, i + shift, run, body) for i in range(len(offsets))]
        out.put(load.run_fixed_rate(port, reqs, 1.0, threads=args.get("threads", 64), offsets=offsets))
    else:
        make = lambda i: load.signed_inbound(base, TOKEN, i + shift, run, body)  # noqa: E731
        out.put(load.run_closed_loop(port, make, args["seconds"], clients=args.get("clients", 32)))


def measure(kind: str, server: Server, **args: object) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load_process, args=(kind, server.port, server.base, args, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def row(server: str, what: str, r: dict) -> None:
    if "samples" in r:
        share = 100 * sum(1 for s in r["samples"] if s[3]) / max(r["n"], 1)
    else:
        share = 100 * r.get("answered", 0) / max(r["n"], 1)
    print(
        f"{server:<28} {what:<16} {r['n']:>6} {r['errors']:>4} {r['rps']:>8.1f} {r['p50']:>8.1f}"
        f" {r['p95']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f} {share:>7.0f}",
        flush=True,
    )


def header(title: str) -> None:
    print(f"\n== {title}\n{'server':<28} {'load':<16} " + " ".join(f"{c:>8}" for c in COLS), flush=True)


def fresh(
    name: str, env_over: dict[str, str] | None = None, twilio_api: str | None = None
) -> tuple[str, dict]:
    redis.Redis.from_url(REDIS).flushdb()
    url = load.fresh_database(name)
    env = supportbot_env(url, REDIS, twilio_api, **(env_over or {}))
    migrate(env)
    return url, env


def run_ref(opts: argparse.Namespace, out: dict) -> None:
    url, env = fresh(DB)
    header(f"ref: every server, gunicorn {GUNICORN}")
    servers = [
        ("bare", "bench.bare_app:app", env),
        ("durable", "bench.durable_app:app", env),
        ("supportbot", "wsgi:app", env),
        ("inline", "wsgi:app", {**env, "INBOUND_INLINE_LIMIT": "1000"}),
    ]
    for name, app, server_env in servers:
        if name == "durable":
            _durable_table(url)
        s = Server(name, app, server_env, GUNICORN)
        try:
            measure("rate", s, rate=20, seconds=2)  # warm up
            for rate in opts.rate_list:
                r = measure("rate", s, rate=rate, seconds=opts.seconds)
                out[(name, rate)] = r
                row(name, f"{rate:.0f}/s open", r)
            r = measure("max", s, seconds=opts.seconds)
            out[(name, "max")] = r
            row(name, "max (32 conn)", r)
        finally:
            s.stop()
    d, sb, inl = (
        out[("durable", "max")]["rps"],
        out[("supportbot", "max")]["rps"],
        out[("inline", "max")]["rps"],
    )
    print(f"\nsupportbot / durable sustained accept rate: {sb / d:.2f} (goal >= 0.80)")
    print(f"inline-only / durable: {inl / d:.2f}; supportbot / bare: {sb / out[('bare', 'max')]['rps']:.2f}")


def _durable_table(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS durable_inbound (id bigserial PRIMARY KEY,"
                " sid varchar(64) UNIQUE NOT NULL, from_number varchar(64) NOT NULL,"
                " body text NOT NULL, raw bytea NOT NULL, created_at timestamptz NOT NULL)"
            )
        )
    engine.dispose()


CLASSES = (  # workers, threads, class, INBOUND_INLINE_LIMIT, INBOUND_WAKE
    (2, 4, "gthread", 4, "notify"),
    (2, 16, "gthread", 4, "notify"),
    (2, 16, "gthread", 2, "notify"),
    (2, 16, "gthread", 1, "notify"),
    (4, 8, "gthread", 1, "notify"),
    (4, 1, "sync", 4, "notify"),
)
WAKES = (
    (2, 16, "gthread", 0, "notify"),
    (2, 16, "gthread", 0, "redis"),
    (2, 16, "gthread", 0, "relay"),
    (2, 16, "gthread", 1, "notify"),
    (2, 16, "gthread", 1, "redis"),
    (2, 16, "gthread", 1000, "notify"),
    (2, 16, "gthread", 1000, "redis"),
)


def _settings(title: str, settings: tuple, opts: argparse.Namespace) -> None:
    header(title)
    for workers, threads, klass, limit, wake in settings:
        _, env = fresh(DB, {"INBOUND_INLINE_LIMIT": str(limit), "INBOUND_WAKE": wake})
        label = f"{klass} {workers}x{threads} L{limit} {wake}"
        s = Server(label, "wsgi:app", env, {"workers": workers, "threads": threads, "worker_class": klass})
        try:
            measure("rate", s, rate=20, seconds=2)
            row(label, "200/s open", measure("rate", s, rate=200, seconds=opts.seconds))
            row(label, "max (32 conn)", measure("max", s, seconds=opts.seconds))
        finally:
            s.stop()


def run_classes(opts: argparse.Namespace, out: dict) -> None:
    _settings("classes: gunicorn settings and INBOUND_INLINE_LIMIT (L)", CLASSES, opts)


def run_wake(opts: argparse.Namespace, out: dict) -> None:
    _settings(
        "wake: Postgres NOTIFY against an RQ enqueue in the request (L1000: never deferred)", WAKES, opts
    )


def _sandbox():
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per SMS otherwise
    from bench.inbound_setup import ACCOUNT
    from standins import Sandbox
    from supportbot.sandbox.twilio import create_twilio_sandbox

    return Sandbox(create_twilio_sandbox(ACCOUNT, TOKEN))


def run_worker(opts: argparse.Namespace, out: dict) -> None:
    sandbox = _sandbox()
    _, env = fresh(DB, twilio_api=sandbox.url)
    header("worker: supportbot at 200/s with a worker running (ticket jobs, replies)")
    s = Server("supportbot", "wsgi:app", env, GUNICORN)
    worker = start_worker(
        {**env, "PUBLIC_BASE_URL": s.base}, Path(tempfile.gettempdir()) / "bench-worker.log"
    )
    try:
        measure("rate", s, rate=20, seconds=2)
        r = measure("rate", s, rate=200, seconds=max(opts.seconds, 20))
        row("supportbot", "200/s + worker", r)
        out[("worker", 200)] = r
        print(f"\np99 at 200/s with a worker: {r['p99']:.1f} ms (goal <= 20 ms)")
    finally:
        load.stop(worker)
        s.stop()
        sandbox.close()


def run_overload(opts: argparse.Namespace, out: dict) -> None:
    capacity = out.get(("inline", "max"), {}).get("rps") or opts.capacity
    burst = 3 * capacity
    sandbox = _sandbox()
    url, env = fresh(DB, twilio_api=sandbox.url)
    s = Server("supportbot", "wsgi:app", env, GUNICORN)
    run = uuid.uuid4().hex[:8]
    normal = 50.0
    header(f"overload: {burst:.0f}/s (3 x inline capacity {capacity:.0f}/s) for 30 s, then {normal:.0f}/s")
    try:
        measure("rate", s, rate=20, seconds=2)
        base = measure("rate", s, rate=normal, seconds=10)
        row("supportbot", f"{normal:.0f}/s before", base)
        offsets = [i / burst for i in range(int(burst * 30))]
        end = offsets[-1]
        offsets += [end + (i + 1) / normal for i in range(int(normal * 15))]
        r = measure("schedule", s, offsets=offsets, run=run, threads=96)
        samples = r["samples"]
        during = [x for x in samples if x[0] <= end]
        after = [x for x in samples if x[0] > end]
        row(
            "supportbot",
            "burst 30 s",
            load.summarise([x[1] for x in during], [x[2] for x in during if x[2] != 200], 30),
        )
        row("supportbot", f"{normal:.0f}/s after", load.summarise([x[1] for x in after], [], 15))
        limit = max(2 * base["p99"], base["p99"] + 10)
        late = [x[0] - end for x in after if x[1] > limit]
        print(f"\nmax latency in the burst: {max(x[1] for x in during):.0f} ms (goal <= 2000)")
        print(
            f"back to normal (every later request <= {limit:.0f} ms) {max(late, default=0):.1f} s after"
            " the burst (goal <= 10 s)"
        )
        accepted = sum(1 for x in samples if x[2] == 200)
        stored = scalar(
            url, "SELECT count(*) FROM messages WHERE direction = 'in' AND sid LIKE :p", p=f"SM{run}%"
        )
        in_twiml = sum(1 for x in samples if x[2] == 200 and x[3])
        deferred = accepted - in_twiml
        print(
            f"sent {len(samples)}, accepted {accepted}, stored {stored} (lost: {accepted - stored}),"
            f" answered in TwiML {in_twiml}, deferred {deferred}"
        )
        worker_env = {**env, "PUBLIC_BASE_URL": s.base}
        workers = [
            start_worker(worker_env, Path(tempfile.gettempdir()) / f"bench-drain{i}.log") for i in range(2)
        ]
        t0 = time.perf_counter()
        query = (
            "SELECT count(*) FROM messages WHERE direction = 'out' AND sid IS NOT NULL"
            " AND idempotency_key LIKE :p"
        )
        sent = 0
        while time.perf_counter() - t0 < opts.drain:
            sent = scalar(url, query, p=f"inbound-reply-SM{run}%")
            if sent >= deferred:
                break
            time.sleep(2)
        took = time.perf_counter() - t0
        for w in workers:
            load.stop(w)
        print(
            f"2 workers sent {sent} of {deferred} deferred replies to the sandbox in {took:.0f} s"
            f" ({sent / took:.0f}/s); sandbox holds {len(sandbox.messages())} messages"
        )
    finally:
        s.stop()
        sandbox.close()


def run_big(opts: argparse.Namespace, out: dict) -> None:
    url, env = fresh(DB_BIG)
    header("big: 100/s on an empty database, then with 1,000,000 messages and 100,000 contacts")
    results = {}
    for label in ("empty", "filled"):
        if label == "filled":
            print(f"(filled in {fill(url):.0f} s)", flush=True)
        s = Server("supportbot", "wsgi:app", env, GUNICORN)
        try:
            measure("rate", s, rate=20, seconds=2)
            results[label] = measure("rate", s, rate=100, seconds=opts.seconds)
            row("supportbot", f"100/s {label}", results[label])
        finally:
            s.stop()
    ratio = results["filled"]["p50"] / results["empty"]["p50"]
    print(f"\np50 filled / empty: {ratio:.2f} (goal <= 1.20)")


def run_keywords(opts: argparse.Namespace, out: dict) -> None:
    from supportbot.keywords.schema import parse as load_config

    header("keywords: 100/s with 10 keywords, then with 1,000 (texts match none: the longest path)")
    tmp = Path(tempfile.mkdtemp())
    results = {}
    for count in (10, 1000):
        path = keywords_file(tmp / f"keywords{count}.yaml", count)
        _, env = fresh(DB, {"KEYWORDS_FILE": str(path)})
        s = Server("supportbot", "wsgi:app", env, GUNICORN)
        try:
            measure("rate", s, rate=20, seconds=2)
            results[count] = measure("rate", s, rate=100, seconds=opts.seconds)
            row("supportbot", f"{count} keywords", results[count])
        finally:
            s.stop()
        results[(count, "route")] = _route_cost(load_config, path)
    print(f"\np50 1,000 keywords / 10: {results[1000]['p50'] / results[10]['p50']:.2f} (goal <= 1.10)")
    print(
        f"engine.route in process: {results[(10, 'route')]:.2f} us with 10, "
        f"{results[(1000, 'route')]:.2f} us with 1,000"
    )


def _route_cost(load_config, path: Path) -> float:
    from supportbot.keywords import engine

    config = load_config(path.read_text())
    bodies = [f"My order {i} has not arrived" for i in range(1000)] + ["STATUS SB-12", "HOURS"] * 100
    t0 = time.perf_counter()
    for _ in range(20):
        for b in bodies:
            engine.route(config, b)
    return (time.perf_counter() - t0) / (20 * len(bodies)) * 1e6


RUNS = {
    "ref": run_ref,
    "classes": run_classes,
    "wake": run_wake,
    "worker": run_worker,
    "overload": run_overload,
    "big": run_big,
    "keywords": run_keywords,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rates", default="200,400")
    parser.add_argument("--runs", default="ref,worker,overload,big,keywords")
    parser.add_argument("--capacity", type=float, default=300, help="inline capacity when ref is not run")
    parser.add_argument("--drain", type=float, default=600, help="seconds the workers get to drain")
    opts = parser.parse_args()
    opts.rate_list = [float(r) for r in opts.rates.split(",")]
    print(f"load average at start: {os.getloadavg()}", flush=True)
    out: dict = {}
    for name in opts.runs.split(","):
        RUNS[name](opts, out)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
