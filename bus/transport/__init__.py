"""The Redis transport every process shares: the connection, optimistic transactions, streams
(publish, consume, ack, reclaim, dead-letter), delayed delivery, request/reply and streamed
responses, and heartbeats."""
