"""The messages that cross process boundaries: one tagged union per stream, msgpack on the wire.

Commands are imperative, events past tense; the class name is the wire tag. New fields get
defaults, so processes of two releases read each other's messages during a rolling restart.
"""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

import msgspec

from bus.records import FunctionVersion


class Message(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """Base of every bus message."""


# Function-manager stream


class ProvisionFunction(Message, frozen=True):
    """Make a version runnable (unpack its code, ensure its image) and move its state on."""

    function_name: str
    qualifier: str
    revision_id: str


FunctionCommand = ProvisionFunction


# Invocations stream


class InvokeFunction(Message, frozen=True):
    """Run one synchronous invocation and publish the outcome to `reply_to`."""

    request_id: str
    function: FunctionVersion
    payload: bytes
    reply_to: str
    invoked_arn: str
    client_context: str | None = None  # base64 JSON, as sent in X-Amz-Client-Context
    log_tail: bool = False
    trace_id: str = ""
    # `reply_to` is this invocation's response stream (bus/transport/response_streams.py): a
    # streamed response goes there chunk by chunk before the reply.
    stream: bool = False
    # Where the pool also keeps the reply for a while (empty: nowhere): the async worker's
    # successor reads an attempt's outcome there instead of running the attempt again.
    outcome_key: str = ""
    # What invoked: "api", "url", "async:<attempt>", "esm:<mapping UUID>" (invocation records).
    trigger: str = "api"
    # When the input was queued (epoch ms): an Event invocation by the API, a stream batch's
    # last record in its stream; 0 for others.
    queued_ms: int = 0
    # The in-flight set holding its concurrency slot (bus/concurrency.py), freed as it is
    # answered; empty: it holds none.
    slot_key: str = ""


InvocationCommand = InvokeFunction


# Async invocations stream


class InvokeAsync(Message, frozen=True):
    """One Event invocation, queued for its next attempt; the API answered 202 already.

    `qualifier` names the event-invoke config that applies ($LATEST, a version or an alias);
    `attempts` counts the attempts made so far, `throttles` the refusals that did not count.
    """

    request_id: str
    function: FunctionVersion
    payload: bytes
    invoked_arn: str
    qualifier: str
    received_ms: int
    attempts: int = 0
    throttles: int = 0
    trace_id: str = ""


AsyncCommand = InvokeAsync


# Replies to a waiting API request


class InvocationCompleted(Message, frozen=True):
    """The function ran; `function_error` is set ("Unhandled") when it failed."""

    request_id: str
    payload: bytes
    executed_version: str
    function_error: str | None = None
    log_tail: bytes | None = None


# The AWS errors a worker may refuse an invocation with; each names an error class of the API
# (services/errors.py), which a test checks.
RejectionCode = Literal["TooManyRequestsException", "ServiceException"]
# Why a TooManyRequestsException: AWS's ThrottleReason values that Tarn sends.
ThrottleReason = Literal[
    "ConcurrentInvocationLimitExceeded", "ReservedFunctionConcurrentInvocationLimitExceeded"
]


class InvocationRejected(Message, frozen=True):
    """The invocation never ran: the API answers with this AWS error instead."""

    request_id: str
    error_type: RejectionCode
    message: str
    status: int = 500
    reason: ThrottleReason | None = None  # the body's "Reason" of a TooManyRequestsException


Reply = InvocationCompleted | InvocationRejected

M = TypeVar("M")


class Codec(Generic[M]):
    """Encoder and decoder for one union, created once per stream."""

    def __init__(self, union: type[M]) -> None:
        self.union = union
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[M] = msgspec.msgpack.Decoder(union)

    def encode(self, message: M) -> bytes:
        return self._encoder.encode(message)

    def decode(self, data: bytes) -> M:
        """Raises msgspec.DecodeError (or ValidationError) for an entry of another shape."""
        return self._decoder.decode(data)


FUNCTION_COMMANDS: Codec[FunctionCommand] = Codec(FunctionCommand)
INVOCATION_COMMANDS: Codec[InvocationCommand] = Codec(InvocationCommand)
ASYNC_COMMANDS: Codec[AsyncCommand] = Codec(AsyncCommand)
REPLIES: Codec[Reply] = Codec(Reply)  # type: ignore[arg-type]
