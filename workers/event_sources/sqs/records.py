"""SQS event records as Lambda builds them from received messages, and the view of a record
that filter patterns match against.

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (example event)
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filtering-sqs
"""

from __future__ import annotations

from typing import Any

import msgspec

EVENT_SOURCE = "aws:sqs"


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event, from one message of a ReceiveMessage answer (JSON protocol)."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record["eventSource"] = EVENT_SOURCE
    record["eventSourceARN"] = queue_arn
    record["awsRegion"] = region
    return record


def message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS's `{"StringValue", "DataType"}` in the event's camel case, lists always present."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = value["BinaryValue"]  # base64, as received
    attribute["stringListValues"] = list(value.get("StringListValues") or [])
    attribute["binaryListValues"] = list(value.get("BinaryListValues") or [])
    attribute["dataType"] = value.get("DataType", "String")
    return attribute


def filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record as filter patterns see it: a body that is JSON is matched as data, any
    other body as the plain string."""
    try:
        body = msgspec.json.decode(record["body"])
    except msgspec.DecodeError:
        return record
    return {**record, "body": body}
