"""DynamoDB Streams as a poller reads them through the companion (DescribeStream,
GetShardIterator, GetRecords), and each stream record as Lambda hands it to a function.

https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB_Streams.html
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (the event's records)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from bus.arns import Arn
from bus.aws import Companion

# Streams calls are signed for DynamoDB; their X-Amz-Target prefix tells them apart (moto
# routes on it too).
SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDBStreams_20120810."
GET_RECORDS_MAX = 1000  # GetRecords' Limit ceiling
DESCRIBE_STREAM_MAX = 100  # DescribeStream's Limit ceiling (shards per page)
# The stream record keys Lambda passes on, in the order its events show them.
RECORD_KEYS = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb")


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_id: str | None
    closed: bool  # has an EndingSequenceNumber: no new records will come


@dataclass(frozen=True, slots=True)
class Page:
    records: list[dict[str, Any]]
    next_iterator: str | None  # None: a closed shard read to its end


@dataclass(frozen=True, slots=True)
class Change:
    """One stream record as Lambda delivers it, with what the poller needs from it."""

    record: dict[str, Any]
    sequence_number: str
    created_s: float  # ApproximateCreationDateTime, epoch seconds


class StreamClient:
    """The Streams operations one mapping's poller calls, for its stream."""

    def __init__(self, companion: Companion, stream_arn: str) -> None:
        self.companion = companion
        self.stream_arn = stream_arn

    async def shards(self) -> list[Shard]:
        """Every shard of the stream, over as many DescribeStream pages as it takes."""
        shards: list[Shard] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "Limit": DESCRIBE_STREAM_MAX}
        while True:
            answer = await self._call("DescribeStream", request)
            description = answer.get("StreamDescription", {})
            shards += [_shard(raw) for raw in description.get("Shards", [])]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request = {**request, "ExclusiveStartShardId": last}

    async def iterator(self, shard_id: str, kind: str, sequence_number: str | None = None) -> str:
        """A shard iterator: TRIM_HORIZON, LATEST, or AFTER/AT_SEQUENCE_NUMBER."""
        request = {"StreamArn": self.stream_arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence_number is not None:
            request["SequenceNumber"] = sequence_number
        answer = await self._call("GetShardIterator", request)
        return str(answer["ShardIterator"])

    async def records(self, iterator: str, limit: int) -> Page:
        request = {"ShardIterator": iterator, "Limit": max(1, min(limit, GET_RECORDS_MAX))}
        answer = await self._call("GetRecords", request)
        return Page(list(answer.get("Records") or []), answer.get("NextShardIterator"))

    async def _call(self, operation: str, body: dict[str, Any]) -> Any:
        return await self.companion.ok(SERVICE, TARGET_PREFIX + operation, body)


def _shard(raw: dict[str, Any]) -> Shard:
    numbers = raw.get("SequenceNumberRange") or {}
    closed = bool(numbers.get("EndingSequenceNumber"))
    return Shard(str(raw["ShardId"]), raw.get("ParentShardId"), closed)


def change_of(raw: dict[str, Any], stream_arn: str) -> Change:
    """The Lambda event record of one GetRecords record: the stream record, its region taken
    from the stream, ApproximateCreationDateTime in whole epoch seconds (the Streams API
    rounds it down to the second), and eventSourceARN."""
    dynamodb = dict(raw.get("dynamodb") or {})
    created_s = float(math.floor(_epoch_s(dynamodb.get("ApproximateCreationDateTime"))))
    dynamodb["ApproximateCreationDateTime"] = created_s
    record = {key: raw[key] for key in RECORD_KEYS if key in raw}
    record["awsRegion"] = Arn.parse(stream_arn).region
    record["dynamodb"] = dynamodb
    record["eventSourceARN"] = stream_arn
    if "userIdentity" in raw:  # TTL deletions say who removed the item
        record["userIdentity"] = raw["userIdentity"]
    return Change(record, str(dynamodb["SequenceNumber"]), created_s)


def _epoch_s(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return time.time()
