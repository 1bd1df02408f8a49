"""This process's consumer name, and taking over what a dead process of this host left pending.

A consumer name is unique per process (host, role and pid; or TARN_CONSUMER), so two copies of
a role on one host never share one. A restarted worker therefore no longer resumes its own
pending entries by name; instead, at start, it adopts the pending entries of the consumers of
its role on this host whose process is gone (an exact check here; another host's consumers
are left to the reclaim after the visibility timeout), and removes those consumers.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bus.keys import Keys
from bus.messages import INVOCATION_COMMANDS
from bus.processes import alive
from bus.settings import Settings
from bus.transport.heartbeats import DEAD_AFTER_MS
from bus.transport.streams import FIELD, StreamConsumer

log = logging.getLogger("tarn.worker")

# The pool workers' role, and their consumer group on the invocations stream.
POOL = "pool"
# The pending entries looked at, at most, to find one invocation among those held.
PENDING_SCAN_MAX = 10_000

# Moves a dead consumer's pending entries to the adopter and, once it holds none, removes it.
# One script, so two workers adopting at once never both take (and run) one entry.
ADOPT = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 500, ARGV[2])
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0}
for _, entry in ipairs(pending) do claim[#claim + 1] = entry[1] end
claim[#claim + 1] = 'JUSTID'
if #pending > 0 then redis.call(unpack(claim)) end
if #pending < 500 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return #pending
"""


def consumer_name(settings: Settings, role: str) -> str:
    """TARN_CONSUMER, else `<host>-<role>-<pid>`."""
    return settings.consumer or f"{socket.gethostname()}-{role}-{os.getpid()}"


async def adopt_orphans(consumer: StreamConsumer[Any]) -> int:
    """Take over the pending entries of this host's dead consumers of the role in
    `consumer`'s group, so they run now rather than after the visibility timeout; how many.
    Call before consuming: the consumer then reads them first, as its own."""
    redis, config = consumer.redis, consumer.config
    prefix = config.consumer.removesuffix(str(os.getpid()))
    if prefix == config.consumer or not prefix.startswith(f"{socket.gethostname()}-"):
        return 0  # a given name (TARN_CONSUMER) is stable: a restart resumes its own entries
    try:
        consumers = await redis.xinfo_consumers(config.stream, config.group)
    except ResponseError:  # no group yet: nobody left anything
        return 0
    adopted = 0
    for info in consumers:
        name = _text(info["name"])
        pid = name.removeprefix(prefix)
        if name == config.consumer or pid == name or not pid.isdigit() or alive(int(pid)):
            continue
        while True:
            taken = int(
                await redis.eval(ADOPT, 1, config.stream, config.group, name, config.consumer)
            )
            adopted += taken
            if taken < 500:
                break
    if adopted:
        log.warning("took over %d entries of %s left by dead workers", adopted, config.stream)
    return adopted


def local_process_gone(consumer: str) -> bool:
    """Whether `consumer` names a process of this host (`<host>-<role>-<pid>`) that is gone."""
    pid = consumer.rpartition("-")[2]
    if not consumer.startswith(f"{socket.gethostname()}-") or not pid.isdigit():
        return False
    return not alive(int(pid))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def consumers_by_liveness(redis: Redis, keys: Keys, role: str) -> tuple[list[str], list[str]]:
    """The consumers of `role` that have beaten, as (live, dead). Dead: this host's whose
    process is gone, and any (another container's, another machine's) silent for
    DEAD_AFTER_MS."""
    silent_since = time.time() * 1000 - DEAD_AFTER_MS
    live: list[str] = []
    dead: list[str] = []
    for raw, beat in await redis.zrange(keys.heartbeats, 0, -1, withscores=True):
        beaten_role, _, consumer = raw.decode().partition(":")
        if beaten_role == role:
            gone = beat < silent_since or local_process_gone(consumer)
            (dead if gone else live).append(consumer)
    return live, dead


async def held_by_a_live_worker(redis: Redis, keys: Keys, request_id: str) -> bool:
    """Whether a live pool worker holds the invocation `request_id` now: one of its pending
    entries in the invocations stream (rarely asked: after an async worker died)."""
    consumers, _ = await consumers_by_liveness(redis, keys, POOL)
    if not consumers:
        return False
    try:
        pending = await redis.xpending_range(keys.invocations, POOL, "-", "+", PENDING_SCAN_MAX)
    except ResponseError:  # no group yet: nothing was ever read
        return False
    held = [p["message_id"] for p in pending if _text(p["consumer"]) in consumers]
    if not held:
        return False
    async with redis.pipeline(transaction=False) as pipe:
        for entry_id in held:
            pipe.xrange(keys.invocations, entry_id, entry_id)
        found = await pipe.execute()
    for entries in found:
        for _entry_id, fields in entries:
            command = INVOCATION_COMMANDS.decode(fields[FIELD])
            if command.request_id == request_id:
                return True
    return False
