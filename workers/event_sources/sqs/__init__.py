"""SQS event sources: the queue as a poller uses it (queues.py), the event's records
(records.py) and the poller of one mapping (poller.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
"""

from workers.event_sources.sqs.poller import SqsPoller

__all__ = ["SqsPoller"]
