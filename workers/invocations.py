"""What an invocation from a worker comes to. The async worker and the event-source pollers
invoke exactly as a synchronous Invoke does: bus.transport.replies.ReplyInbox.invoke publishes
the one InvokeFunction and waits on the worker's own reply inbox."""

from __future__ import annotations

from bus.messages import Reply

# None: no reply in time (the pool worker died or the event waited too long for room).
Outcome = Reply | None
