"""DynamoDB Streams event sources: the stream as a poller reads it (streams.py), checkpoints
per shard (checkpoints.py), one shard's reader (shards.py), delivering a batch with AWS's
error handling (batches.py), and the poller of one mapping (poller.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from workers.event_sources.dynamodb.poller import StreamPoller

__all__ = ["StreamPoller"]
