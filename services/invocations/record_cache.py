"""The API's cache of what Invoke reads on every call: function versions and aliases.

Every store write of a function's versions or aliases publishes the function's name on
`keys.record_changes` in the same transaction (bus/stores); each API process listens and drops
what it holds of that function, so a change made through any process is seen by all of them.
While the subscription is not up (at start, after Redis went away) nothing is cached: every
read goes to Redis, as it would without the cache. Only Active versions are kept: Invoke reads
any other again, so a function that becomes Active is run at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import Alias, FunctionVersion, State
from bus.stores import Stores

log = logging.getLogger("tarn.api")

T = TypeVar("T")
# Functions held at most; past it, the cache starts again empty.
MAX_FUNCTIONS = 10_000
RESUBSCRIBE_S = 0.5


class RecordCache:
    """Active function versions and aliases by function name, dropped when they change."""

    def __init__(self, redis: Redis, keys: Keys, stores: Stores) -> None:
        self.redis = redis
        self.keys = keys
        self.stores = stores
        self._held: dict[str, dict[tuple[str, str], Any]] = {}  # name -> (kind, name) -> record
        self._live = False  # the subscription is up: entries may be kept
        self._generation = 0  # counts drops: a read that spans one is not kept

    async def function(self, name: str, version: str) -> FunctionVersion | None:
        record = await self._read(name, ("v", version), self.stores.functions.get)
        return record if isinstance(record, FunctionVersion) else None

    async def alias(self, name: str, alias_name: str) -> Alias | None:
        alias = await self._read(name, ("a", alias_name), self.stores.aliases.get)
        return alias if isinstance(alias, Alias) else None

    async def _read(
        self, name: str, entry: tuple[str, str], read: Callable[[str, str], Awaitable[T]]
    ) -> T:
        held = self._held.get(name)
        if held is not None and entry in held:
            return held[entry]  # type: ignore[no-any-return]
        generation = self._generation
        record = await read(name, entry[1])
        if self._live and generation == self._generation and _keepable(record):
            if len(self._held) >= MAX_FUNCTIONS and name not in self._held:
                self._held.clear()
            self._held.setdefault(name, {})[entry] = record
        return record

    def drop(self, name: str | None = None) -> None:
        """Forget function `name`, or everything."""
        self._generation += 1
        if name is None:
            self._held.clear()
        else:
            self._held.pop(name, None)

    async def run(self) -> None:
        """Listen for changes until cancelled; after a lost connection, start over empty."""
        while True:
            try:
                await self._listen()
            except Exception as exc:
                log.warning("record cache off until Redis answers again: %r", exc)
            finally:
                self._live = False
                self.drop()
            await anyio.sleep(RESUBSCRIBE_S)

    async def _listen(self) -> None:
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(self.keys.record_changes)
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self._live = True  # changes from now on reach us
                elif message["type"] == "message":
                    self.drop(message["data"].decode())


def _keepable(record: object) -> bool:
    if isinstance(record, FunctionVersion):
        return record.state == State.ACTIVE
    return isinstance(record, Alias)
