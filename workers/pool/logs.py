"""The log of one runtime environment, cut into invocations as CloudWatch Logs shows them.

Each invocation's log is `START`, the function's output, `END` and `REPORT`; its last 4 KB is
what Invoke returns as X-Amz-Log-Result. Every line also goes to the worker's own log,
prefixed with the function name and request id, so `tarn up` shows it, and, with timestamps,
to a sink that delivers them to CloudWatch Logs (once per invocation). Those two go out at the
event loop's next turn, in order: the invocation's reply is on its way to Redis by then (a log
record and its write cost 40 us, which the caller would otherwise wait for).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

function_log = logging.getLogger("tarn.functions")

# https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (LogType=Tail)
TAIL_BYTES = 4096
# The buffer is trimmed to the tail only once it grows past this, so trimming stays rare.
TRIM_AT_BYTES = 16 * TAIL_BYTES
# Lines held for the sink are handed over early past this, so a chatty invocation stays bounded.
SHIP_AT_LINES = 5_000

LogEvent = tuple[int, str]  # (epoch ms, line)
# Receives an environment's events, in order.
LogSink = Callable[[list[LogEvent]], None]


class EnvironmentLog:
    """Collects an environment's output; `begin` and `end` frame one invocation's share."""

    def __init__(self, function_name: str, sink: LogSink | None = None) -> None:
        self.function_name = function_name
        self.sink = sink
        self._events: list[LogEvent] = []  # lines not yet handed to the sink
        self._buffer = bytearray()  # this invocation's log so far (output before it too)
        self._partial = b""  # an unfinished last line, held back from the worker's log
        self._prefix = f"[{function_name}] "
        self._held: list[str] = []  # lines waiting to go out with the next worker log record

    def feed(self, chunk: bytes) -> None:
        """Output from the sandbox, as it arrives."""
        self._buffer += chunk
        if len(self._buffer) > TRIM_AT_BYTES:
            del self._buffer[:-TAIL_BYTES]
        if self.sink is None and not function_log.isEnabledFor(logging.INFO):
            return
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        self._held += [line.decode(errors="replace") for line in lines]
        self._emit()

    def begin(self, request_id: str, version: str) -> None:
        self._close_partial_line()
        self._emit()  # output from before the event goes out under the old prefix
        self._prefix = f"[{self.function_name} {request_id}] "
        self._buffer += f"START RequestId: {request_id} Version: {version}\n".encode()
        # Held, not emitted: a silent invocation then costs one worker log record, not two.
        self._held.append(f"START RequestId: {request_id} Version: {version}")

    def note(self, line: str) -> None:
        """A line of Lambda's own (a timeout, a runtime exit) in this invocation's log."""
        self._close_partial_line()
        self._buffer += f"{line}\n".encode()
        self._held.append(line)

    def end(self, request_id: str, report: str) -> bytes:
        """Close the invocation's log; returns its last 4 KB."""
        self._close_partial_line()
        closing = f"END RequestId: {request_id}\n{report}\n"
        self._buffer += closing.encode()
        self._held += closing.splitlines()
        self._emit(flush=True)
        tail = bytes(self._buffer[-TAIL_BYTES:])
        self._buffer.clear()
        self._prefix = f"[{self.function_name}] "
        return tail

    def _close_partial_line(self) -> None:
        """Output without a final newline still belongs to this invocation."""
        if self._partial:
            self._held.append(self._partial.decode(errors="replace"))
            self._partial = b""
        if self._buffer and not self._buffer.endswith(b"\n"):
            self._buffer += b"\n"

    def flush(self) -> None:
        """Hand every line over to the sink (also when the environment ends), after those
        already on their way."""
        self._emit(flush=True)

    def _hand_over(self) -> None:
        if self._events and self.sink is not None:
            self.sink(self._events)
            self._events = []

    def _emit(self, flush: bool = False) -> None:
        """Send the held lines on at the loop's next turn (at once without a loop); with
        `flush`, hand everything to the sink then too."""
        lines, self._held = self._held, []
        if not lines and not flush:
            return
        try:
            asyncio.get_running_loop().call_soon(self._send, self._prefix, lines, flush)
        except RuntimeError:
            self._send(self._prefix, lines, flush)

    def _send(self, prefix: str, lines: list[str], flush: bool) -> None:
        if lines and function_log.isEnabledFor(logging.INFO):
            function_log.info("\n".join(prefix + line for line in lines))
        if lines and self.sink is not None:
            stamp = int(time.time() * 1000)
            self._events += [(stamp, line) for line in lines]
        if flush or len(self._events) > SHIP_AT_LINES:
            self._hand_over()


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """AWS's REPORT line; since August 2025 the billed duration includes the init phase."""
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        fields.append(f"Status: {status}")
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t"


def timeout_line(request_id: str, timeout_s: int) -> str:
    """`2024-05-01T12:00:00.123Z <id> Task timed out after 3.00 seconds`, as AWS logs it."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"
