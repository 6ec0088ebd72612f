"""Messages per second per sender, shared by every worker through Redis.

GCRA as a reservation: each send reserves the next free slot on the sender's
timeline and waits until it; a message of n segments takes n slots, because
Twilio's limits count segments. One Lua script keeps it atomic across workers.
No library fits: rate limiters on PyPI either count requests in fixed windows
(two windows' worth can pass within one second) or do not reserve future slots.
"""

from __future__ import annotations

import time

from redis import Redis

from supportbot import metrics

# pace a little under the limit, so that network jitter between us and Twilio
# never puts one message too many into one of Twilio's seconds
HEADROOM = 0.97

_RESERVE = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return -wait end
redis.call('SET', key, tat + interval * cost, 'PX', math.ceil((wait + interval * cost) / 1000) + 1000)
return wait
"""


class RateLimited(Exception):
    """No slot within max_wait: try again after `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(f"sender busy for {seconds:.1f}s")
        self.seconds = seconds


class SenderRate:
    def __init__(self, redis: Redis, per_second: float, max_wait: float = 20.0):
        self.redis = redis
        self.interval_us = int(1_000_000 / (per_second * HEADROOM))
        self.max_wait_us = int(max_wait * 1_000_000)
        self._script = redis.register_script(_RESERVE)

    def reserve(self, sender: str, cost: int = 1) -> float:
        """Reserve `cost` slots for this sender; seconds to wait before sending."""
        wait = int(
            self._script(keys=[f"supportbot:rate:{sender}"], args=[self.interval_us, cost, self.max_wait_us])
        )
        if wait < 0:
            raise RateLimited(-wait / 1_000_000)
        return wait / 1_000_000

    def acquire(self, sender: str, cost: int = 1) -> None:
        """Reserve and sleep until the slot comes."""
        wait = self.reserve(sender, cost)
        if wait > 0:
            metrics.rate_limit_wait(wait)
            time.sleep(wait)
