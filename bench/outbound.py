"""Outbound rate benchmark: 4 workers send 600 messages with OUTBOUND_MPS=20.

The Twilio sandbox stamps each message as it receives it. We print the achieved
rate per second over time, the largest number of messages in any one-second
window (sliding, not just whole seconds), and check that every message arrived
exactly once. Workers start while RQ is suspended, so their start-up is not
counted.

    python -m bench.outbound [--messages 600] [--mps 20] [--workers 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from bench import load
from standins import ServedApp, Worker, wait_until
from supportbot import create_app
from supportbot.extensions import db
from supportbot.sandbox.twilio import create_twilio_sandbox

DB = "supportbot_bench_outbound"
REDIS = "redis://127.0.0.1:6379/11"
SID, TOKEN = "AC" + "2" * 32, "bench-token"


def largest_window(times: list[float], width: float = 1.0) -> int:
    """Most stamps in any half-open window [t, t + width)."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--mps", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4)
    opts = parser.parse_args()

    import logging

    import redis
    from rq.suspension import resume, suspend
    from rq.worker import Worker as RQWorker

    logging.getLogger().setLevel(logging.WARNING)
    sandbox = ServedApp(create_twilio_sandbox(SID, TOKEN, max_per_second=opts.mps))
    conn = redis.Redis.from_url(REDIS)
    conn.flushdb()
    cfg = {
        **load.app_env(load.fresh_database(DB), REDIS, TOKEN, SID),
        "TWILIO_API_BASE_URL": sandbox.url,
        "OUTBOUND_MPS": opts.mps,
    }
    app = create_app({**cfg, "TESTING": True})
    logging.getLogger().setLevel(logging.WARNING)
    from flask_migrate import upgrade

    from supportbot.jobs import outbox
    from supportbot.jobs.dispatch import dispatch
    from supportbot.outbound.pipeline import queue_sms

    with app.app_context():
        upgrade()
        suspend(conn)
        rows = []
        for i in range(opts.messages):
            (message_id,) = queue_sms(f"+1415{2000000 + i:07d}", f"bench message {i}", f"bench-{i}", None)
            rows.append(outbox.add("send_sms", message_id=message_id))
        db.session.commit()
        dispatch(rows)

    tmp = Path(tempfile.mkdtemp(prefix="bench-outbound-"))
    workers = [Worker(cfg, tmp / f"w{i}.log") for i in range(opts.workers)]
    try:
        wait_until(lambda: RQWorker.count(connection=conn) == opts.workers, 60, "workers to register")
        resume(conn)
        sandbox_state = sandbox.app.extensions["twilio_sandbox"]
        wait_until(
            lambda: len(sandbox_state.messages) >= opts.messages, opts.messages / opts.mps * 3, "all messages"
        )
        time.sleep(1)  # anything sent twice would arrive now
    finally:
        resume(conn)
        for w in workers:
            w.stop()

    sent = sandbox_state.messages
    times = sorted(m["received_at"] for m in sent)
    t0 = times[0]
    per_second = Counter(int(t - t0) for t in times)
    print(f"{opts.messages} messages, OUTBOUND_MPS={opts.mps:g}, {opts.workers} workers")
    print("second: sent")
    line = []
    for s in range(max(per_second) + 1):
        line.append(f"{s:>3}:{per_second.get(s, 0):>3}")
        if len(line) == 10:
            print("  ".join(line))
            line = []
    if line:
        print("  ".join(line))
    achieved = (len(times) - 1) / (times[-1] - t0)
    bodies = Counter(m["body"] for m in sent)
    with app.app_context():
        statuses = Counter(db.session.scalars(sa.text("SELECT status FROM messages")).all())
    print(f"\nachieved {achieved:.2f}/s = {achieved / opts.mps:.1%} of the configured rate (aim: within 5%)")
    print(f"largest number in any one-second window: {largest_window(times)} (limit {opts.mps:g})")
    print(
        f"received {len(sent)}, distinct {len(bodies)}, sent twice {sum(1 for c in bodies.values() if c > 1)}"
    )
    print(f"message statuses in the database: {dict(statuses)}")
    sandbox.close()


if __name__ == "__main__":
    main()
