"""The DynamoDB Streams poller of one event source mapping: every shard of the stream, each
read in order by its own reader, a child shard only once its parent is read to its end.

https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
The stream is read from the companion, never through a mapping registered inside it.
ParallelizationFactor is taken as 1 (one batch per shard at a time) and tumbling windows
are not supported.
"""

from __future__ import annotations

import logging

import anyio
from anyio.abc import TaskGroup

from bus.filters import EventFilter, compile_filter
from bus.records import EventSourceMapping
from workers.event_sources.base import Backoff, PollerContext, SourceState
from workers.event_sources.dynamodb.checkpoints import Checkpoints
from workers.event_sources.dynamodb.shards import ShardReader
from workers.event_sources.dynamodb.streams import Shard, StreamClient

log = logging.getLogger("tarn.event_sources")

# How often the shard list is read again, for the children of shards that closed.
SHARD_REFRESH_S = 5.0
ERROR_FIRST_DELAY_S = 1.0
ERROR_MAX_DELAY_S = 30.0


class StreamPoller:
    """Polls one enabled DynamoDB Streams mapping until cancelled (see base.py's Poller)."""

    def __init__(self, context: PollerContext, mapping: EventSourceMapping) -> None:
        self.context = context
        self.mapping = mapping
        self.streams = StreamClient(context.companion, mapping.event_source_arn)
        self.checkpoints = Checkpoints(context.redis, context.keys, mapping.uuid)
        self.event_filter: EventFilter | None = (
            compile_filter(mapping.filter_patterns) if mapping.filter_patterns else None
        )
        self.source = SourceState(context, mapping)
        self.reading: set[str] = set()
        self.finished: set[str] = set()

    async def run(self) -> None:
        errors = Backoff(ERROR_FIRST_DELAY_S, ERROR_MAX_DELAY_S)
        async with anyio.create_task_group() as tasks:
            while True:
                try:
                    await self._refresh(tasks)
                except Exception as exc:
                    log.warning(
                        "mapping %s: reading the shards of %s failed",
                        self.mapping.uuid,
                        self.mapping.event_source_arn,
                        exc_info=True,
                    )
                    await self.source.failed(exc)
                    await errors.sleep()
                    continue
                errors.reset()
                await self.source.readable()
                await anyio.sleep(SHARD_REFRESH_S)

    async def _refresh(self, tasks: TaskGroup) -> None:
        """Start a reader for each shard that is ready and not read yet."""
        shards = await self.streams.shards()
        if not await self.checkpoints.started():
            await self._choose_start(shards)
        checkpoints = await self.checkpoints.all()
        self.finished |= {shard for shard, checkpoint in checkpoints.items() if checkpoint.done}
        listed = {shard.shard_id for shard in shards}
        for shard in shards:
            if shard.shard_id in self.reading or shard.shard_id in self.finished:
                continue
            parent = shard.parent_id
            if parent is None or parent in self.finished or parent not in listed:
                self.reading.add(shard.shard_id)
                tasks.start_soon(self._read, shard, name=f"shard {shard.shard_id}")

    async def _choose_start(self, shards: list[Shard]) -> None:
        """The mapping's first start: LATEST stores an iterator at the end of each open shard
        (closed ones are done), so any later start, here or elsewhere, resumes from there.
        A shard without a checkpoint is read from its beginning: TRIM_HORIZON, or a child
        shard that opened after the start."""
        if self.mapping.starting_position == "LATEST":
            known = await self.checkpoints.all()
            for shard in shards:
                if shard.shard_id in known:
                    continue
                if shard.closed:
                    await self.checkpoints.finish(shard.shard_id)
                else:
                    iterator = await self.streams.iterator(shard.shard_id, "LATEST")
                    await self.checkpoints.hold_iterator(shard.shard_id, iterator)
        await self.checkpoints.mark_started()

    async def _read(self, shard: Shard) -> None:
        """Read one shard to its end; after an error, the next refresh starts it again."""
        try:
            await ShardReader(self.context, self.mapping, shard, self.event_filter).run()
            self.finished.add(shard.shard_id)
        except Exception:
            log.exception("mapping %s: reading shard %s failed", self.mapping.uuid, shard.shard_id)
        finally:
            self.reading.discard(shard.shard_id)
