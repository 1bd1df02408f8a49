"""One SQS queue as a poller uses it, through the companion: receive (long polling), delete,
and hand messages back (visibility 0).

https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from anyio.abc import TaskGroup

from bus.aws import Companion, queue_url

log = logging.getLogger("tarn.event_sources")

# SQS's limits: 10 messages a receive, 10 entries a batch call, 20 s at most a long poll.
MAX_RECEIVE = 10
MAX_BATCH_ENTRIES = 10
# Shorter than SQS's 20 s: the companion client gives up after 10 s, and a receive abandoned
# by a stopped poller ends sooner.
WAIT_TIME_S = 5
ALL = ["All"]

Message = dict[str, Any]  # one message of a ReceiveMessage answer


class Queue:
    """The queue `arn` names. `detached`, if given, runs receives that outlive their caller."""

    def __init__(self, companion: Companion, arn: str, detached: TaskGroup | None) -> None:
        self.companion = companion
        self.arn = arn
        self.detached = detached
        self.url = ""

    @property
    def fifo(self) -> bool:
        return self.arn.endswith(".fifo")

    async def open(self) -> None:
        """Find the queue's URL; CompanionError if there is no such queue."""
        self.url = await queue_url(self.companion, self.arn)

    async def receive(self, count: int, wait_s: int) -> list[Message]:
        """Up to `count` messages, waiting up to `wait_s` for the first.

        When the caller is cancelled meanwhile (its poller stopped, or a batching window
        closed), the receive still completes in `detached` and hands back what it got, so no
        message stays invisible for a visibility timeout for nothing.
        """
        if self.detached is None:
            return await self._receive(count, wait_s)
        done = anyio.Event()
        got: list[list[Message] | BaseException] = []
        abandoned = False

        async def receive() -> None:
            try:
                got.append(await self._receive(count, wait_s))
            except Exception as exc:
                got.append(exc)
            finally:
                done.set()
            # No await between the answer and this check: exactly one side hands it back.
            if abandoned and isinstance(got[0], list) and got[0]:
                await self._hand_back(got[0])

        detached = self.detached
        detached.start_soon(receive)
        try:
            await done.wait()
        except anyio.get_cancelled_exc_class():
            abandoned = True
            if got and isinstance(got[0], list) and got[0]:
                detached.start_soon(self._hand_back, got[0])
            raise
        answer = got[0] if got else []  # nothing: the receive itself was cancelled
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def delete(self, handles: list[str]) -> None:
        """Delete the messages received with `handles`; ones SQS will not delete (their
        handle expired) are logged."""
        await self._batches("DeleteMessageBatch", handles, {})

    async def release(self, handles: list[str]) -> None:
        """Make the messages received with `handles` visible again at once."""
        try:
            await self._batches("ChangeMessageVisibilityBatch", handles, {"VisibilityTimeout": 0})
        except Exception:
            log.info("could not hand %d messages back to %s", len(handles), self.arn)

    async def _hand_back(self, messages: list[Message]) -> None:
        await self.release([message["ReceiptHandle"] for message in messages])

    async def _receive(self, count: int, wait_s: int) -> list[Message]:
        answer = await self.companion.ok(
            "sqs",
            "AmazonSQS.ReceiveMessage",
            {
                "QueueUrl": self.url,
                "MaxNumberOfMessages": min(count, MAX_RECEIVE),
                "WaitTimeSeconds": wait_s,
                "AttributeNames": ALL,
                "MessageSystemAttributeNames": ALL,
                "MessageAttributeNames": ALL,
            },
        )
        return list(answer.get("Messages") or [])

    async def _batches(self, action: str, handles: list[str], extra: dict[str, Any]) -> None:
        async with anyio.create_task_group() as tasks:
            for start in range(0, len(handles), MAX_BATCH_ENTRIES):
                chunk = handles[start : start + MAX_BATCH_ENTRIES]
                tasks.start_soon(self._batch, action, chunk, extra)

    async def _batch(self, action: str, handles: list[str], extra: dict[str, Any]) -> None:
        entries = [
            {"Id": str(number), "ReceiptHandle": handle, **extra}
            for number, handle in enumerate(handles)
        ]
        answer = await self.companion.ok(
            "sqs", f"AmazonSQS.{action}", {"QueueUrl": self.url, "Entries": entries}
        )
        for failure in answer.get("Failed") or []:
            log.info("%s on %s: %s", action, self.arn, failure.get("Message") or failure)
