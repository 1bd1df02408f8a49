"""Sending a message to an SQS queue or an SNS topic named by ARN, through the companion:
what destinations, dead-letter queues and event-source OnFailure targets all do.
"""

from __future__ import annotations

import datetime
from typing import Any

from bus.arns import service_of
from bus.aws import Companion, find_text, queue_url

SNS_VERSION = "2010-03-31"
# {"Name": {"DataType": "String", "StringValue": "..."}}, SQS's own shape of message attributes.
Attributes = dict[str, dict[str, str]]


async def send_to_queue(
    companion: Companion, queue_arn: str, body: str, attributes: Attributes | None = None
) -> str:
    """SendMessage to the queue `queue_arn` names; its MessageId."""
    url = await queue_url(companion, queue_arn)
    message: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if attributes:
        message["MessageAttributes"] = attributes
    sent = await companion.ok("sqs", "AmazonSQS.SendMessage", message)
    return str(sent.get("MessageId", ""))


async def publish_to_topic(
    companion: Companion, topic_arn: str, message: str, attributes: Attributes | None = None
) -> str:
    """SNS Publish to `topic_arn` (query protocol); its MessageId."""
    parameters = {"TopicArn": topic_arn, "Message": message}
    for number, (name, value) in enumerate((attributes or {}).items(), start=1):
        prefix = f"MessageAttributes.entry.{number}"
        parameters[f"{prefix}.Name"] = name
        parameters[f"{prefix}.Value.DataType"] = value["DataType"]
        parameters[f"{prefix}.Value.StringValue"] = value["StringValue"]
    answer = await companion.query("sns", "Publish", SNS_VERSION, parameters)
    return find_text(answer, "MessageId") or ""


async def send_to_target(
    companion: Companion, arn: str, body: str, attributes: Attributes | None = None
) -> None:
    """Send `body` to the queue or topic `arn` names; ValueError for any other service."""
    match service_of(arn):
        case "sqs":
            await send_to_queue(companion, arn, body, attributes)
        case "sns":
            await publish_to_topic(companion, arn, body, attributes)
        case service:
            raise ValueError(f"{arn}: {service} is not a queue or topic")


def record_timestamp() -> str:
    """Now, as AWS's invocation records write `timestamp`: "2019-11-14T18:16:05.568Z"."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
