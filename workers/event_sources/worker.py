"""The event-source worker: holds a fair share of the event source mappings through leases,
settles their states, and runs one poller for each enabled mapping it holds.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html
Four times a second it reads every mapping, renews its leases (a lease lost stops that
poller at once), sheds a mapping when over its share, takes unowned ones, and starts, restarts
or stops pollers to match each mapping's state and configuration.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Collection

import anyio
import msgspec
from anyio.abc import TaskGroup

from bus.concurrency import inbox_with_limits
from bus.records import EventSourceMapping, MappingState
from bus.stores import RecordMissing
from workers.context import WorkerContext
from workers.event_sources.base import Backoff, Poller, PollerContext
from workers.event_sources.leases import LEASE_TTL_MS, Leases, Roster, fair_share

log = logging.getLogger("tarn.event_sources")

RECONCILE_INTERVAL_S = 0.25
# An unowned mapping beyond this process's share is taken anyway after this long: the poller
# whose share it is may be gone, before the roster says so.
UNOWNED_GRACE_S = 1.0
# A poller that fails (no such queue, companion down) starts again after these delays.
RESTART_FIRST_S = 1.0
RESTART_MAX_S = 30.0
RESTART_RESET_AFTER_S = 60.0
# How long a deleted mapping's poller may take to stop before its state is dropped anyway.
STOP_TIMEOUT_S = 5.0


@dataclasses.dataclass
class RunningPoller:
    config: bytes  # the mapping's polling configuration it was started with
    scope: anyio.CancelScope
    stopped: anyio.Event = dataclasses.field(default_factory=anyio.Event)


class EventSourceWorker:
    """Owns a share of the mappings and polls them until cancelled."""

    def __init__(self, context: WorkerContext) -> None:
        settings, redis, keys = context.settings, context.redis, context.keys
        if context.aws is None:
            raise RuntimeError("event source pollers need a companion endpoint (TARN_AWS_ENDPOINT)")
        self.settings = settings
        self.owner = f"{context.consumer}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # one per process
        self.store = context.stores.event_source_mappings
        self.leases = Leases(redis, keys, self.owner)
        self.roster = Roster(redis, keys, self.owner)
        self.inbox = inbox_with_limits(redis, keys, settings)
        self.context = PollerContext(settings, redis, keys, context.stores, context.aws, self.inbox)
        self.held: set[str] = set()
        self.renewed_at = time.monotonic()
        self.pollers: dict[str, RunningPoller] = {}
        self.unowned_since: dict[str, float] = {}

    async def run(self) -> None:
        await self.inbox.open()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self.inbox.run)
            # Pollers run in cancel scopes of their own, so their detached tasks outlive them.
            self.context = dataclasses.replace(self.context, detached=tasks)
            await self._reconcile_forever(tasks)

    async def aclose(self) -> None:
        """Hand the leases back at once, so the other pollers need not wait for expiry."""
        for mapping_uuid in list(self.pollers):
            self._stop(mapping_uuid)
        await self.leases.release(self.held)
        await self.roster.leave()

    async def _reconcile_forever(self, tasks: TaskGroup) -> None:
        errors = Backoff(RECONCILE_INTERVAL_S, 5.0)
        while True:
            try:
                await self.reconcile(tasks)
            except Exception:
                log.warning("reconciling event source mappings failed", exc_info=True)
                self._drop_expired()
                await errors.sleep()
                continue
            errors.reset()
            await anyio.sleep(RECONCILE_INTERVAL_S)

    async def reconcile(self, tasks: TaskGroup) -> None:
        mappings = {mapping.uuid: mapping for mapping in await self.store.all()}
        members = await self.roster.look_in()
        await self._renew()
        wanted = {u: m for u, m in mappings.items() if needs_owner(m)}
        await self._let_go(self.held - wanted.keys())
        await self._balance(wanted.keys(), members)
        for mapping_uuid in sorted(self.held):
            await self._settle(wanted[mapping_uuid], tasks)

    async def _renew(self) -> None:
        asked_at = time.monotonic()
        kept = await self.leases.renew(self.held)
        self.renewed_at = asked_at
        for lost in self.held - kept:
            log.warning("lost the lease of mapping %s; stopping its poller", lost)
            self._stop(lost)
        self.held = kept

    def _drop_expired(self) -> None:
        """Without a renewal for a lease's lifetime, the leases may be another's by now."""
        if self.held and time.monotonic() - self.renewed_at > LEASE_TTL_MS / 1000:
            log.warning("could not renew leases in time; stopping %d pollers", len(self.held))
            for mapping_uuid in self.held:
                self._stop(mapping_uuid)
            self.held = set()

    async def _balance(self, wanted: Collection[str], members: list[str]) -> None:
        """Shed one mapping when over the fair share while another poller is under it; take
        unowned ones up to the share, and beyond it once they have waited UNOWNED_GRACE_S."""
        holders = await self.leases.holders(wanted)
        share = fair_share(len(wanted), len(members))
        counts = Counter(holders.values())
        others = [counts[member] for member in members if member != self.owner]
        if len(self.held) > share and others and min(others) < share:
            await self._let_go({max(self.held)})
            return
        now = time.monotonic()
        unowned = [mapping_uuid for mapping_uuid, owner in holders.items() if owner is None]
        self.unowned_since = {u: self.unowned_since.get(u, now) for u in unowned}
        random.shuffle(unowned)  # so that pollers starting together seldom contend
        room = share - len(self.held)
        taking = []
        for mapping_uuid in unowned:
            if room > 0 or now - self.unowned_since[mapping_uuid] >= UNOWNED_GRACE_S:
                taking.append(mapping_uuid)
                room -= 1
        self.held |= await self.leases.acquire(taking)

    async def _let_go(self, uuids: Collection[str]) -> None:
        uuids = set(uuids)
        if not uuids:
            return
        for mapping_uuid in uuids:
            self._stop(mapping_uuid)
        self.held -= uuids
        await self.leases.release(uuids)

    async def _settle(self, mapping: EventSourceMapping, tasks: TaskGroup) -> None:
        """Bring a held mapping to what its record asks for, then say so in its State."""
        if mapping.state == MappingState.DELETING:
            await self._delete(mapping)
        elif not mapping.enabled:
            self._stop(mapping.uuid)
            await self._set_state(mapping, MappingState.DISABLED)
            await self._let_go({mapping.uuid})
        else:
            self._ensure_polling(mapping, tasks)
            if mapping.state != MappingState.ENABLED:
                await self._set_state(mapping, MappingState.ENABLED)

    async def _delete(self, mapping: EventSourceMapping) -> None:
        """Stop the poller, then drop what it kept (checkpoints) and the record itself."""
        running = self.pollers.get(mapping.uuid)
        self._stop(mapping.uuid)
        if running is not None:
            with anyio.move_on_after(STOP_TIMEOUT_S):
                await running.stopped.wait()
        if mapping.source_service == "dynamodb":
            from workers.event_sources.dynamodb.checkpoints import forget_checkpoints

            await forget_checkpoints(self.context.redis, self.context.keys, mapping.uuid)
        await self.store.remove(mapping.uuid)
        await self._let_go({mapping.uuid})
        log.info("mapping %s deleted", mapping.uuid)

    async def _set_state(self, mapping: EventSourceMapping, state: MappingState) -> None:
        """Settle `mapping` in `state`, unless the API changed it since it was read."""

        def change(stored: EventSourceMapping) -> EventSourceMapping:
            if stored.state != mapping.state or polling_config(stored) != polling_config(mapping):
                return stored  # settled in a later round, on what it is now
            return msgspec.structs.replace(stored, state=state)

        try:
            await self.store.update(mapping.uuid, change)
        except RecordMissing:
            pass

    def _ensure_polling(self, mapping: EventSourceMapping, tasks: TaskGroup) -> None:
        config = polling_config(mapping)
        running = self.pollers.get(mapping.uuid)
        if running is not None and running.config == config:
            return
        self._stop(mapping.uuid)
        running = RunningPoller(config, anyio.CancelScope())
        self.pollers[mapping.uuid] = running
        tasks.start_soon(self._poll, mapping, running, name=f"poller {mapping.uuid}")

    def _stop(self, mapping_uuid: str) -> None:
        running = self.pollers.pop(mapping_uuid, None)
        if running is not None:
            running.scope.cancel()

    async def _poll(self, mapping: EventSourceMapping, running: RunningPoller) -> None:
        """Run the mapping's poller until its scope is cancelled, starting it again (after a
        growing delay) whenever it fails."""
        try:
            with running.scope:
                await self._poll_again_and_again(mapping)
        finally:
            running.stopped.set()

    async def _poll_again_and_again(self, mapping: EventSourceMapping) -> None:
        restarts = Backoff(RESTART_FIRST_S, RESTART_MAX_S)
        while True:
            started = time.monotonic()
            try:
                await self._poller(mapping).run()
                log.warning("poller of mapping %s returned", mapping.uuid)
            except Exception as exc:
                log.warning("poller of mapping %s failed: %r", mapping.uuid, exc)
            if time.monotonic() - started > RESTART_RESET_AFTER_S:
                restarts.reset()
            await restarts.sleep()

    def _poller(self, mapping: EventSourceMapping) -> Poller:
        match mapping.source_service:
            case "sqs":
                from workers.event_sources.sqs import SqsPoller

                return SqsPoller(self.context, mapping)
            case "dynamodb":
                from workers.event_sources.dynamodb import StreamPoller

                return StreamPoller(self.context, mapping)
            case service:
                raise ValueError(f"no poller for {service} sources")


def needs_owner(mapping: EventSourceMapping) -> bool:
    """Everything but a mapping settled as Disabled needs a poller to poll or settle it."""
    return mapping.enabled or mapping.state != MappingState.DISABLED


def polling_config(mapping: EventSourceMapping) -> bytes:
    """What a poller is started with: the record without what pollers and tags change."""
    bare = msgspec.structs.replace(
        mapping,
        state="",
        state_transition_reason="",
        last_processing_result="",
        last_modified=0.0,
        tags={},
    )
    return msgspec.msgpack.encode(bare)
