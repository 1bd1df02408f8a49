"""The function manager: makes each new or updated version runnable and moves its state on.

Create: State Pending -> Active (or Failed). Updates: LastUpdateStatus InProgress ->
Successful (or Failed). https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
"""

from __future__ import annotations

import logging
import time
import uuid
from math import inf
from typing import TYPE_CHECKING, assert_never

import anyio
import msgspec

from bus.archives import CodeError
from bus.folders import FolderError, check_folder
from bus.messages import FUNCTION_COMMANDS, FunctionCommand, ProvisionFunction
from bus.records import FunctionVersion, LastUpdateStatus, State
from bus.settings import Settings
from bus.stores import RecordMissing
from bus.transport.streams import StreamConsumer, consumer_config
from workers.code import ensure_unpacked
from workers.consumers import adopt_orphans
from workers.context import WorkerContext
from workers.pool.executors.base import UnsupportedFunction
from workers.pool.executors.process import can_run
from workers.pool.interpreters import LocalRuntimes

if TYPE_CHECKING:  # aiodocker is imported only by a stack that may run Docker
    from workers.docker.provisioning import ImageProvisioner

log = logging.getLogger("tarn.functions")

GROUP = "functions"
CONCURRENCY = 8
ZIP_FAILURE_CODE = "InvalidZipFileException"
FOLDER_FAILURE_CODE = "InvalidCodeFolder"  # Tarn's own: a hot-reload folder went missing
RUNTIME_FAILURE_CODE = "InvalidRuntime"
FALLBACK_RECHECK_S = 300.0
# Why a version cannot run, and its StateReasonCode.
Failure = tuple[str, str]
# The executor that runs a version, or why it cannot run.
Prepared = tuple[str, None] | tuple[None, Failure]


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
        self.images = _image_provisioner(settings) if settings.executor != "process" else None
        self.runtimes = LocalRuntimes(settings.local_runtimes_dir)
        # Runtimes `auto` runs as processes, and when their image was last found missing.
        self.fallbacks: dict[str, float] = {}

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
        executor, failure = await self._prepare(record)
        try:
            await self.functions.update(
                command.function_name,
                lambda current: _settle(current, command.revision_id, failure, executor),
                command.qualifier,
            )
        except RecordMissing:
            log.info("%s was deleted while being provisioned", command.function_name)
            return
        outcome = f"failed: {failure[0]}" if failure else f"ready (executor: {executor})"
        log.info("%s:%s %s", command.function_name, command.qualifier, outcome)

    async def _prepare(self, record: FunctionVersion) -> Prepared:
        """Make the version runnable (its code, then its executor and image)."""
        if record.code_folder is not None:  # hot reload: used in place, never unpacked
            try:
                check_folder(record.code_folder)
            except FolderError as exc:
                return None, (str(exc), FOLDER_FAILURE_CODE)
        elif record.package_type == "Zip":
            try:
                await ensure_unpacked(self.blobs, self.settings.code_dir, record.code_sha256_hex)
            except CodeError as exc:
                return None, (str(exc), ZIP_FAILURE_CODE)
        return await self._executor(record)

    async def _executor(self, record: FunctionVersion) -> Prepared:
        """The executor that runs the version (its image ensured for Docker, its interpreter
        prepared for processes), or why none can.

        `auto` runs a version whose image cannot be had as a local process, where the process
        executor has its runtime, says so once per runtime, and tries that image again only
        after FALLBACK_RECHECK_S (a pull that hangs on a firewall must not slow every create).
        """
        if self.images is None:
            return await self._as_process(record)
        runtime = record.runtime or ""
        fallback = self.settings.executor == "auto" and can_run(record)
        if fallback and time.monotonic() - self.fallbacks.get(runtime, -inf) < FALLBACK_RECHECK_S:
            return await self._as_process(record)
        reason = await self.images.ensure(record)
        if reason is None:
            return "docker", None
        if not fallback:
            from workers.docker.provisioning import IMAGE_FAILURE_CODE

            return None, (reason, IMAGE_FAILURE_CODE)
        if runtime not in self.fallbacks:
            log.warning(
                "%s functions run as local processes (the process executor): Docker cannot "
                "have their image. %s (--executor docker makes this an error instead)",
                runtime,
                reason,
            )
        self.fallbacks[runtime] = time.monotonic()
        return await self._as_process(record)

    async def _as_process(self, record: FunctionVersion) -> Prepared:
        """The process executor's interpreter for the version's runtime, prepared now (a
        Python environment, the Java client) so that the first invoke does not wait for it."""
        runtime = record.runtime or ""
        if record.package_type != "Zip" or not runtime or runtime.startswith("provided"):
            return "process", None
        try:
            await anyio.to_thread.run_sync(self.runtimes.interpreter, runtime)
        except UnsupportedFunction as exc:
            return None, (str(exc), RUNTIME_FAILURE_CODE)
        return "process", None


def _settle(
    record: FunctionVersion, revision_id: str, failure: Failure | None, executor: str | None
) -> FunctionVersion:
    """The record once provisioning ended, with a new RevisionId as AWS gives every state
    transition; untouched if another change came in between."""
    if record.revision_id != revision_id:
        return record
    reason, code = failure or (None, None)
    record = msgspec.structs.replace(record, revision_id=str(uuid.uuid4()), executor=executor)
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


def _image_provisioner(settings: Settings) -> ImageProvisioner:
    from workers.docker.provisioning import ImageProvisioner

    return ImageProvisioner(settings)
