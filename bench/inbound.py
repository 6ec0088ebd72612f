"""Inbound webhook benchmark: the full path against a bare signature-checking handler.

Both run under gunicorn (2 workers x 4 threads, gthread) on this machine; the
full path uses Postgres and Redis. A separate process sends signed inbound
messages (a) at fixed rates, measuring latency from each request's scheduled
time, and (b) as fast as 8 connections go, for sustained throughput. Every
message is a new contact with a new text, so each one opens a ticket: the
heaviest ordinary path (message, contact, ticket, outbox rows, enqueue).

    python -m bench.inbound [--seconds 10] [--rates 50,100,200]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import uuid

from bench import load

DB = "supportbot_bench"
TOKEN = "bench-auth-token"
REDIS = "redis://127.0.0.1:6379/9"


def _load_process(kind: str, port: int, base: str, args: dict, out: mp.Queue) -> None:
    run = uuid.uuid4().hex[:8]
    if kind == "rate":
        n = int(args["rate"] * args["seconds"])
        reqs = [load.signed_inbound(base, TOKEN, i, run) for i in range(n)]
        out.put(load.run_fixed_rate(port, reqs, args["rate"]))
    else:
        out.put(
            load.run_closed_loop(port, lambda i: load.signed_inbound(base, TOKEN, i, run), args["seconds"])
        )


def measure(kind: str, port: int, base: str, **args: float) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load_process, args=(kind, port, base, args, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rates", default="50,100,200")
    opts = parser.parse_args()
    rates = [float(r) for r in opts.rates.split(",")]

    import redis

    redis.Redis.from_url(REDIS).flushdb()
    url = load.fresh_database(DB)
    port_full, port_bare = load.free_port(), load.free_port()
    base_full, base_bare = f"http://127.0.0.1:{port_full}", f"http://127.0.0.1:{port_bare}"
    env = load.app_env(url, REDIS, TOKEN)
    import subprocess

    subprocess.run(
        [str(load.BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=load.ROOT,  # noqa: S603
        env={**__import__("os").environ, **env},
        check=True,
        capture_output=True,
    )
    full = load.start_gunicorn("wsgi:app", port_full, {**env, "PUBLIC_BASE_URL": base_full})
    bare = load.start_gunicorn("bench.bare_app:app", port_bare, {**env, "PUBLIC_BASE_URL": base_bare})
    try:
        load.wait_for(port_full)
        load.wait_for(port_bare, "/")
        cols = ("sent", "err", "req/s", "p50 ms", "p95 ms", "p99 ms")
        print(f"{'server':<6} {'load':<14} " + " ".join(f"{c:>8}" for c in cols))
        results = {}
        for name, port, base in (("bare", port_bare, base_bare), ("full", port_full, base_full)):
            measure("rate", port, base, rate=20, seconds=2)  # warm up
            for rate in rates:
                r = measure("rate", port, base, rate=rate, seconds=opts.seconds)
                results[(name, rate)] = r
                print(
                    f"{name:<6} {f'{rate:.0f}/s fixed':<14} {r['n']:>6} {r['errors']:>4} {r['rps']:>8.1f} "
                    f"{r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f}",
                    flush=True,
                )
            r = measure("max", port, base, seconds=opts.seconds)
            results[(name, "max")] = r
            print(
                f"{name:<6} {'max (8 conn)':<14} {r['n']:>6} {r['errors']:>4} {r['rps']:>8.1f} "
                f"{r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f}",
                flush=True,
            )
        ratio = results[("full", "max")]["rps"] / results[("bare", "max")]["rps"]
        print(f"\nfull/bare sustained throughput: {ratio:.2f} (aim >= 0.50)")
        if ("full", 100.0) in results:
            print(f"full path p99 at 100/s: {results[('full', 100.0)]['p99']:.1f} ms (aim < 50 ms)")
    finally:
        load.stop(full)
        load.stop(bare)


if __name__ == "__main__":
    main()
