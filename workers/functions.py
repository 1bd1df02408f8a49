"""The function manager: makes each new or updated version runnable and moves its state on.

Create: State Pending -> Active (or Failed). Updates: LastUpdateStatus InProgress ->
Successful (or Failed). https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
"""

from __future__ import annotations

import logging
import uuid
from typing import assert_never

import anyio
import msgspec

from bus.archives import CodeError
from bus.messages import FUNCTION_COMMANDS, FunctionCommand, ProvisionFunction
from bus.records import FunctionVersion, LastUpdateStatus, State
from bus.stores import RecordMissing
from bus.streams import StreamConsumer, consumer_config
from workers.code import ensure_unpacked
from workers.consumers import adopt_orphans
from workers.context import WorkerContext
from workers.docker.provisioning import IMAGE_FAILURE_CODE, ImageProvisioner
from workers.pool.executors.base import UnsupportedFunction
from workers.pool.interpreters import LocalRuntimes

log = logging.getLogger("tarn.functions")

GROUP = "functions"
CONCURRENCY = 8
ZIP_FAILURE_CODE = "InvalidZipFileException"
RUNTIME_FAILURE_CODE = "InvalidRuntime"
# Why a version cannot run, and its StateReasonCode.
Failure = tuple[str, str]


class FunctionManager:
    def __init__(self, context: WorkerContext) -> None:
        settings, keys = context.settings, context.keys
        self.settings = settings
        self.functions = context.stores.functions
        self.blobs = context.stores.blobs
        config = consumer_config(
            settings, keys, stream=keys.function_commands, group=GROUP, consumer=context.consumer
        )
        self.consumer = StreamConsumer(context.redis, config, FUNCTION_COMMANDS)
        docker = settings.executor == "docker"
        self.images = ImageProvisioner(settings) if docker else None
        self.runtimes = None if docker else LocalRuntimes(settings.local_runtimes_dir)

    async def run(self) -> None:
        await adopt_orphans(self.consumer)
        await self.consumer.consume(self.handle, concurrency=CONCURRENCY)

    async def aclose(self) -> None:
        if self.images is not None:
            await self.images.aclose()

    async def handle(self, command: FunctionCommand) -> None:
        match command:
            case ProvisionFunction():
                await self.provision(command)
            case _:
                assert_never(command)

    async def provision(self, command: ProvisionFunction) -> None:
        record = await self.functions.get(command.function_name, command.qualifier)
        if record is None or record.revision_id != command.revision_id:
            log.info("skipping %s: deleted or changed since", command.function_name)
            return
        failure = await self._prepare(record)
        try:
            await self.functions.update(
                command.function_name,
                lambda current: _settle(current, command.revision_id, failure),
                command.qualifier,
            )
        except RecordMissing:
            log.info("%s was deleted while being provisioned", command.function_name)
            return
        outcome = f"failed: {failure[0]}" if failure else "ready"
        log.info("%s:%s %s", command.function_name, command.qualifier, outcome)

    async def _prepare(self, record: FunctionVersion) -> Failure | None:
        """Make the version runnable (its code, its image); returns why it cannot be, or None."""
        if record.package_type == "Zip":
            try:
                await ensure_unpacked(self.blobs, self.settings.code_dir, record.code_sha256_hex)
            except CodeError as exc:
                return str(exc), ZIP_FAILURE_CODE
        if self.images is not None:
            reason = await self.images.ensure(record)
            if reason is not None:
                return reason, IMAGE_FAILURE_CODE
        if self.runtimes is not None and record.package_type == "Zip" and record.runtime:
            return await self._prepare_runtime(self.runtimes, record.runtime)
        return None

    async def _prepare_runtime(self, runtimes: LocalRuntimes, runtime: str) -> Failure | None:
        """The process executor's interpreter for `runtime`, prepared now (a Python
        environment, the Java client) so that the first invoke does not wait for it."""
        if runtime.startswith("provided"):
            return None
        try:
            await anyio.to_thread.run_sync(runtimes.interpreter, runtime)
        except UnsupportedFunction as exc:
            return str(exc), RUNTIME_FAILURE_CODE
        return None


def _settle(record: FunctionVersion, revision_id: str, failure: Failure | None) -> FunctionVersion:
    """The record once provisioning ended, with a new RevisionId as AWS gives every state
    transition; untouched if another change came in between."""
    if record.revision_id != revision_id:
        return record
    reason, code = failure or (None, None)
    record = msgspec.structs.replace(record, revision_id=str(uuid.uuid4()))
    if record.state == State.PENDING:
        if failure:
            return msgspec.structs.replace(
                record,
                state=State.FAILED,
                state_reason=reason,
                state_reason_code=code,
                last_update_status=LastUpdateStatus.FAILED,
                last_update_status_reason=reason,
                last_update_status_reason_code=code,
            )
        return msgspec.structs.replace(
            record,
            state=State.ACTIVE,
            state_reason=None,
            state_reason_code=None,
            last_update_status=LastUpdateStatus.SUCCESSFUL,
        )
    return msgspec.structs.replace(
        record,
        last_update_status=LastUpdateStatus.FAILED if failure else LastUpdateStatus.SUCCESSFUL,
        last_update_status_reason=reason,
        last_update_status_reason_code=code,
    )
